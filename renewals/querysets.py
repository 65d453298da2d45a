"""Every read the renewal pages, feeds and the nightly scan make."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Case, Count, DecimalField, OuterRef, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from cloudcore_crm.lib import account_facts
from renewals import choices


def window_of(term_end_field: str, today: dt.date) -> Case:
    """The board's due window of a case, in SQL (see `choices.Window`)."""
    return Case(
        When(**{f"{term_end_field}__lt": today}, then=Value(choices.Window.OVERDUE)),
        When(**{f"{term_end_field}__lte": today + dt.timedelta(days=30)}, then=Value(choices.Window.DAYS_30)),
        When(**{f"{term_end_field}__lte": today + dt.timedelta(days=60)}, then=Value(choices.Window.DAYS_60)),
        When(**{f"{term_end_field}__lte": today + dt.timedelta(days=90)}, then=Value(choices.Window.DAYS_90)),
        default=Value(choices.Window.LATER),
        output_field=models.CharField(),
    )


def risk_band() -> models.Expression:
    """The churn-risk band of the row's account, lent by support_bridge (or "" unknown).
    A subquery per row: for a page's rows, never to filter or group a whole table."""
    return account_facts.expression(account_facts.CHURN_RISK_BAND, OuterRef("account_id"))


def in_band(queryset: models.QuerySet, band: str) -> models.QuerySet:
    """Rows whose account is in a churn-risk band ("low", "medium", "high"; "none": no
    score), as one semi-join on the accounts in the band."""
    if band == "none":
        scored = account_facts.accounts(account_facts.CHURN_RISK_BAND, "")
        return queryset if scored is None else queryset.exclude(account_id__in=scored)
    accounts = account_facts.accounts(account_facts.CHURN_RISK_BAND, band)
    return queryset.none() if accounts is None else queryset.filter(account_id__in=accounts)


class RenewalCaseQuerySet(models.QuerySet):
    def open(self) -> RenewalCaseQuerySet:
        return self.filter(status__in=choices.CaseStatus.open_values())

    def unresolved(self) -> RenewalCaseQuerySet:
        return self.filter(status__in=choices.CaseStatus.unresolved_values())

    def for_person(self, user) -> RenewalCaseQuerySet:
        return self.filter(Q(account__owner=user) | Q(account__relations_coordinator=user))

    def with_band(self) -> RenewalCaseQuerySet:
        return self.annotate(band=risk_band())

    def for_board(self) -> RenewalCaseQuerySet:
        return self.select_related(
            "account", "account__owner", "account__relations_coordinator", "subscription__product"
        ).with_band()

    def for_feed(self) -> RenewalCaseQuerySet:
        return self.select_related("account", "subscription__product").with_band().order_by("term_end", "pk")

    def windows(self, today: dt.date) -> dict[str, dict]:
        """Count and value at stake per due window, in one query."""
        money = DecimalField(max_digits=16, decimal_places=2)
        aggregates = {}
        for window in choices.Window:
            matches = Q(window=window.value)
            aggregates[f"{window.value}_count"] = Count("pk", filter=matches)
            aggregates[f"{window.value}_value"] = Coalesce(
                Sum("value_at_stake", filter=matches), Value(0), output_field=money
            )
        row = self.annotate(window=window_of("term_end", today)).aggregate(**aggregates)
        return {
            w.value: {"label": w.label, "count": row[f"{w.value}_count"], "value": row[f"{w.value}_value"]}
            for w in choices.Window
        }

    def by_status(self) -> dict[str, dict]:
        rows = {
            r["status"]: r for r in self.order_by().values("status").annotate(n=Count("pk"), v=Sum("value_at_stake"))
        }
        return {
            s.value: {
                "label": s.label,
                "count": rows.get(s.value, {}).get("n", 0),
                "value": rows.get(s.value, {}).get("v") or 0,
            }
            for s in choices.CaseStatus
        }


class RenewalNoticeQuerySet(models.QuerySet):
    def for_home(self, user) -> RenewalNoticeQuerySet:
        """The person's notices about cases still without an outcome, newest first."""
        return (
            self.filter(recipient=user, case__status__in=choices.CaseStatus.unresolved_values())
            .select_related("case__account", "case__subscription__product")
            .order_by("-created_at", "-pk")
        )

    def unsent(self) -> RenewalNoticeQuerySet:
        return self.filter(sent_at__isnull=True)


class CalendarTokenQuerySet(models.QuerySet):
    def active(self) -> CalendarTokenQuerySet:
        return self.filter(revoked_at__isnull=True)


def today() -> dt.date:
    return timezone.localdate()
