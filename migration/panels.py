"""The boxes the legacy import adds to other apps' pages (see cloudcore_crm/lib/panels.py).

The D7 Outlook renewal calendar stays an input after the import: on the renewals findings
page, Customer Relations sees the calendar's entries with no live subscription behind
them (the file's rejected rows), the live subscriptions the calendar lacks, and the dates
the calendar disagrees on, each linked to its renewal case. A fixed number of queries.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef
from django.http import HttpRequest

from customers.models import Subscription
from migration.choices import ConflictStatus, FileStatus, Store
from migration.models import ImportConflict, ImportFile, Provenance
from renewals.models import RenewalCase

SHOWN = 50


def _rejected_rows(text: str) -> list[dict[str, str]]:
    if not text:
        return []
    reader = csv.DictReader(io.StringIO(text))
    return [
        {
            "row": r.get("row", ""),
            "subject": r.get("Subject", ""),
            "start": r.get("Start Date", ""),
            "reason": r.get("reason", ""),
        }
        for r in reader
    ]


def _case_by_subscription(subscriptions: list[Subscription]) -> dict[int, RenewalCase]:
    """The latest case of each subscription (one query)."""
    latest: dict[int, RenewalCase] = {}
    for case in RenewalCase.objects.filter(subscription__in=[s.pk for s in subscriptions]).order_by(
        "subscription_id", "-term_end"
    ):
        latest.setdefault(case.subscription_id, case)
    return latest


def calendar_findings(request: HttpRequest, user) -> dict[str, Any] | None:
    calendar = ImportFile.objects.filter(store=Store.CALENDAR, status=FileStatus.IMPORTED).order_by("-pk").first()
    if calendar is None:
        return None
    in_calendar = Provenance.objects.filter(
        store=Store.CALENDAR, content_type=ContentType.objects.get_for_model(Subscription), object_id=OuterRef("pk")
    )
    missing = (
        Subscription.objects.live()
        .filter(renewal_date__isnull=False)
        .exclude(Exists(in_calendar))
        .select_related("account", "product")
        .order_by("renewal_date", "pk")
    )
    missing_count = missing.count()
    missing_rows = list(missing[:SHOWN])
    conflicts = list(
        ImportConflict.objects.filter(other_store=Store.CALENDAR, field="renewal_date", status=ConflictStatus.OPEN)
        .select_related("account", "subscription__product")
        .order_by("account__number", "pk")[:SHOWN]
    )
    cases = _case_by_subscription(missing_rows + [c.subscription for c in conflicts if c.subscription])
    return {
        "calendar_file": calendar,
        "orphans": _rejected_rows(calendar.rejected_csv),
        "missing": [(s, cases.get(s.pk)) for s in missing_rows],
        "missing_count": missing_count,
        "conflicts": [(c, cases.get(c.subscription_id)) for c in conflicts],
    }
