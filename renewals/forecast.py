"""The 12-month risk-weighted forecast of renewing revenue.

Each live subscription renewing in the next 12 months counts its annual value in the month
of its renewal date, weighted by its client's churn-risk band (support_bridge's score, read
through `cloudcore_crm.lib.account_facts`). The weights are a stated assumption, shown on
the board next to the figures, not a model: a high-risk client renews less often.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth

from cloudcore_crm.lib import account_facts
from customers.models import Subscription
from renewals.querysets import in_band

WEIGHTS: dict[str, Decimal] = {
    "low": Decimal("0.95"),
    "medium": Decimal("0.75"),
    "high": Decimal("0.40"),
    "": Decimal("0.85"),  # no score yet: between low and medium
}
BAND_LABELS = {"low": "low risk", "medium": "medium risk", "high": "high risk", "": "no score"}


@dataclass
class Month:
    start: dt.date
    value: Decimal = Decimal("0")
    weighted: Decimal = Decimal("0")
    by_band: dict[str, tuple[int, Decimal]] = field(default_factory=dict)

    @property
    def reasons(self) -> list[str]:
        return [
            f"{count} {BAND_LABELS[band]} x {WEIGHTS[band]:.0%} of ${value:,.0f}"
            for band, (count, value) in sorted(self.by_band.items(), key=lambda item: -WEIGHTS[item[0]])
        ]


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


def forecast(*, today: dt.date, subscriptions=None) -> list[Month]:
    """Twelve months from this one: the totals, then each band's share (a query each)."""
    first = today.replace(day=1)
    months = [Month(start=_add_months(first, n)) for n in range(12)]
    by_start = {m.start: m for m in months}
    subscriptions = Subscription.objects.live() if subscriptions is None else subscriptions
    renewing = (
        subscriptions.filter(renewal_date__gte=today, renewal_date__lt=_add_months(first, 12))
        .annotate(month=TruncMonth("renewal_date"))
        .order_by()
        .values("month")
    )

    def totals(queryset) -> dict[dt.date, tuple[int, Decimal]]:
        rows = queryset.annotate(n=Count("pk"), total=Sum("annual_value")).values_list("month", "n", "total")
        return {(m.date() if isinstance(m, dt.datetime) else m): (n, total or Decimal("0")) for m, n, total in rows}

    unscored = totals(renewing)
    for band in ("low", "medium", "high"):
        if not account_facts.is_registered(account_facts.CHURN_RISK_BAND):
            break
        for start, (count, value) in totals(in_band(renewing, band)).items():
            by_start[start].by_band[band] = (count, value)
            left_count, left_value = unscored[start]
            unscored[start] = (left_count - count, left_value - value)
    for start, (count, value) in unscored.items():
        if count:
            by_start[start].by_band[""] = (count, value)
    for month in months:
        month.value = sum((v for _, v in month.by_band.values()), Decimal("0"))
        month.weighted = sum((v * WEIGHTS[band] for band, (_, v) in month.by_band.items()), Decimal("0"))
    return months
