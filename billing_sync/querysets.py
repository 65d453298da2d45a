"""Named reads of the Xero reconciliation; each owns its joins so pages run fixed query counts.

`support_bridge.risk` reads `Discrepancy.objects.open()` for the churn-risk factor.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import models
from django.db.models import Count, Q, Sum
from django.utils import timezone

from billing_sync.choices import DiscrepancyStatus, MatchStatus

ACCOUNT_PANEL_SHOWN = 10


class XeroImportQuerySet(models.QuerySet):
    def for_list(self) -> XeroImportQuerySet:
        return self.select_related("started_by").order_by("-created_at", "-pk")


class XeroContactQuerySet(models.QuerySet):
    def queue(self) -> XeroContactQuerySet:
        """Contacts waiting for Finance: held matches first, then those with no account."""
        return (
            self.filter(status__in=[MatchStatus.HELD, MatchStatus.UNMATCHED])
            .annotate(line_count=Count("lines"))
            .order_by("status", "name")  # "held" < "unmatched": held first
        )


class DiscrepancyQuerySet(models.QuerySet):
    def open(self) -> DiscrepancyQuerySet:
        return self.filter(status=DiscrepancyStatus.OPEN)

    def for_queue(self) -> DiscrepancyQuerySet:
        return self.select_related("account", "account__owner", "product", "subscription", "owner", "resolved_by")

    def for_account(self, account) -> DiscrepancyQuerySet:
        return self.open().filter(account=account).select_related("product", "owner")

    def older_than(self, days: int) -> DiscrepancyQuerySet:
        return self.filter(opened_at__lte=timezone.now() - dt.timedelta(days=days))

    def totals(self) -> dict:
        """Count and money at stake, overall and per cause, in one query."""
        from billing_sync.choices import Cause

        aggregates = {"n_all": Count("pk"), "at_stake_all": Sum("amount")}
        for cause in Cause:
            aggregates[f"n_{cause.value}"] = Count("pk", filter=Q(cause=cause))
            aggregates[f"at_stake_{cause.value}"] = Sum("amount", filter=Q(cause=cause))
        found = self.order_by().aggregate(**aggregates)
        return {
            "count": found["n_all"],
            "amount": found["at_stake_all"] or Decimal("0"),
            "by_cause": [
                {
                    "cause": cause.value,
                    "label": cause.label,
                    "count": found[f"n_{cause.value}"],
                    "amount": found[f"at_stake_{cause.value}"] or Decimal("0"),
                }
                for cause in Cause
            ],
        }
