"""Records as they stood at a moment, read in bulk from django-simple-history.

simple-history's `Model.history.as_of(when)` answers the same question; this reads only the
named columns, in two queries per model whatever the table size, and also says which
records' history begins *after* the moment (the legacy import wrote history on the day it
ran, so a month before the import is known only from the records' own dates: the caller
decides whether a record's oldest known state stands for that month, and marks the month
rebuilt).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import Max, Min

DELETED = "-"


@dataclass
class States:
    """`known`: {id: row} for records whose history reaches `at` (deleted ones left out);
    `oldest`: {id: row} for records whose history starts after `at` (their first state)."""

    known: dict[int, dict[str, Any]] = field(default_factory=dict)
    oldest: dict[int, dict[str, Any]] = field(default_factory=dict)


def states_as_of(
    model: type[models.Model],
    at: dt.datetime,
    columns: Sequence[str],
    *,
    oldest: bool = True,
    where: dict[str, Any] | None = None,
) -> States:
    """`where` filters the states found (not which history row is a record's latest)."""
    history = model.history.model
    where = where or {}
    names = ["id", "history_type", *columns]
    latest = history.objects.filter(history_date__lte=at).values("id").annotate(last=Max("history_id")).values("last")
    known = {
        row["id"]: row
        for row in history.objects.filter(history_id__in=latest, **where).values(*names).order_by()
        if row["history_type"] != DELETED
    }
    states = States(known=known)
    if oldest:
        first = history.objects.filter(history_date__gt=at).values("id").annotate(first=Min("history_id"))
        first_ids = [row["first"] for row in first.order_by() if row["id"] not in known]
        # Those outside `known` either began after `at` or were deleted before it; a row
        # whose first history is a deletion never existed in a way that counts.
        for start in range(0, len(first_ids), 5000):
            chunk = first_ids[start : start + 5000]
            for row in history.objects.filter(history_id__in=chunk, **where).values(*names).order_by():
                if row["history_type"] != DELETED:
                    states.oldest[row["id"]] = row
    return states
