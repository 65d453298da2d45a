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

from customers.models import Subscription
from renewals.querysets import risk_band

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
    """Twelve months from this one, in one query."""
    first = today.replace(day=1)
    months = [Month(start=_add_months(first, n)) for n in range(12)]
    by_start = {m.start: m for m in months}
    subscriptions = Subscription.objects.live() if subscriptions is None else subscriptions
    rows = (
        subscriptions.filter(renewal_date__gte=today, renewal_date__lt=_add_months(first, 12))
        .annotate(month=TruncMonth("renewal_date"), band=risk_band())
        .order_by()
        .values("month", "band")
        .annotate(n=Count("pk"), total=Sum("annual_value"))
    )
    for row in rows:
        start = row["month"]
        start = start.date() if isinstance(start, dt.datetime) else start
        month = by_start[start]
        band = row["band"] if row["band"] in WEIGHTS else ""
        total = row["total"] or Decimal("0")
        count, value = month.by_band.get(band, (0, Decimal("0")))
        month.by_band[band] = (count + row["n"], value + total)
        month.value += total
        month.weighted += total * WEIGHTS[band]
    return months
