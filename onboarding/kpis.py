"""The onboarding board's KPIs (seed 002 section 3), in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Sum
from django.utils import timezone

from onboarding.choices import OrderStatus
from onboarding.models import ExceptionCase, Order, ProvisioningTask

WINDOW_DAYS = 90  # activation time and auto share are measured over the last 90 days
AGE_BANDS = ((1, "under 1 day"), (3, "1-3 days"), (7, "3-7 days"), (None, "over 7 days"))


@dataclass
class Board:
    by_status: list[tuple[str, str, int]]
    average_activation_days: float | None
    activated: int
    auto_share: float | None
    error_rate: float | None
    exceptions_by_age: list[tuple[str, int]]
    open_exceptions: int
    target_days: int = field(default_factory=lambda: settings.ONBOARDING_TARGET_DAYS)
    baseline_days: int = field(default_factory=lambda: settings.ONBOARDING_BASELINE_DAYS)


def board(*, now: dt.datetime | None = None) -> Board:
    now = now or timezone.now()
    counts = dict(Order.objects.values_list("status").annotate(n=Count("pk")).order_by())
    by_status = [(value, label, counts.get(value, 0)) for value, label in OrderStatus.choices]
    recent = list(
        Order.objects.filter(
            status=OrderStatus.ACTIVE,
            activated_at__gte=now - dt.timedelta(days=WINDOW_DAYS),
            submitted_at__isnull=False,
        ).values_list("submitted_at", "activated_at", "auto_provisioned")
    )
    if recent:
        seconds = sum((activated - submitted).total_seconds() for submitted, activated, _ in recent)
        average = seconds / len(recent) / 86400
        auto_share = sum(1 for *_, auto in recent if auto) / len(recent)
    else:
        average = auto_share = None
    totals = ProvisioningTask.objects.aggregate(attempts=Sum("attempts"), failures=Sum("failures"))
    error_rate = (totals["failures"] or 0) / totals["attempts"] if totals["attempts"] else None
    opened = list(ExceptionCase.objects.open().values_list("opened_at", flat=True))
    bands = dict.fromkeys((label for _, label in AGE_BANDS), 0)
    for moment in opened:
        days = (now - moment).total_seconds() / 86400
        for limit, label in AGE_BANDS:
            if limit is None or days < limit:
                bands[label] += 1
                break
    return Board(
        by_status=by_status,
        average_activation_days=average,
        activated=len(recent),
        auto_share=auto_share,
        error_rate=error_rate,
        exceptions_by_age=list(bands.items()),
        open_exceptions=len(opened),
    )
