"""Role dashboards: boxes on the home page, one per role, through the "home" panel slot.

`customers` owns the home page and imports no other app; these panels reach it through
`cloudcore_crm.lib.panels`. Each context function returns None for a person without its
role and runs a fixed number of queries (the home page's budget counts them).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q, Sum
from django.http import HttpRequest
from django.utils import timezone

from cloudcore_crm.lib.panels import Panel, register
from cloudcore_crm.roles import (
    CUSTOMER_RELATIONS,
    DATA_STEWARD,
    EXECUTIVE,
    FINANCE,
    PROVISIONING,
    SALES_MANAGER,
    SALES_REP,
    SUPPORT_AGENT,
    has_role,
)
from customers.choices import OpportunityStage, SubscriptionStatus
from customers.models import Account, ContactDuplicateCandidate, DuplicateCandidate, Opportunity, Subscription
from reports import digests, sources
from reports.models import MonthSnapshot
from reports.pack import MONEY, Cell, _chart
from reports.services import forecast_quarter, quarter_label

SHOWN = 8


CACHED = ("sales_manager:{today}", "renewal_windows:{today}", "finance", "data_steward", "support", "provisioning")


def _key(name: str) -> str:
    # The database's name keeps apart the figures of two databases sharing one cache
    # (parallel test runs, a bench database).
    return f"reports:dashboard:{connection.settings_dict['NAME']}:{name}"


def forget_cached() -> None:
    """Drop the cached dashboard figures (tests; after a bulk change an operator may call it)."""
    today = timezone.localdate()
    cache.delete_many([_key(name.format(today=today)) for name in CACHED])


def _cached(key: str, compute):
    """Whole-table figures (every manager sees the same) are worked out at most once per
    `REPORTS_DASHBOARD_CACHE_SECONDS`: an aggregate over every subscription costs more
    than a home page may."""
    key = _key(key)
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, settings.REPORTS_DASHBOARD_CACHE_SECONDS)
    return value


def register_panels() -> None:
    for order, (name, function) in enumerate(
        [
            ("executive", executive),
            ("sales_manager", sales_manager),
            ("sales_rep", sales_rep),
            ("customer_relations", customer_relations),
            ("finance", finance),
            ("support", support),
            ("data_steward", data_steward),
            ("provisioning", provisioning),
        ]
    ):
        register(Panel("home", f"dashboard_{name}", f"reports/partials/dash_{name}.html", function, 20 + order))


def _latest_snapshots(count: int = 13) -> list[MonthSnapshot]:
    return list(reversed(MonthSnapshot.objects.only("month", "totals", "source").order_by("-month")[:count]))


def _pipeline_rows(opportunities) -> list[dict[str, Any]]:
    figures = {
        row["stage"]: row
        for row in opportunities.values("stage").annotate(n=Count("pk"), amount=Sum("amount")).order_by()
    }
    return [
        {
            "stage": stage,
            "label": label,
            "count": figures.get(stage, {}).get("n", 0),
            "amount": figures.get(stage, {}).get("amount") or Decimal("0"),
        }
        for stage, label in OpportunityStage.choices
    ]


def _funnel_chart(rows: list[dict[str, Any]], title: str):
    open_rows = [
        [Cell(r["label"]), Cell(float(r["amount"]), MONEY)] for r in rows if r["stage"] != OpportunityStage.LOST
    ]
    return _chart("bar", title, open_rows, [("Amount", 1)])


def _forecast(rows_qs, today: dt.date) -> dict[str, Any]:
    first, last = forecast_quarter(today - dt.timedelta(days=1))
    deals = list(
        rows_qs.filter(
            stage__in=OpportunityStage.open_stages(), expected_close__gte=first, expected_close__lte=last
        ).values_list("stage", "amount")
    )
    weights = settings.REPORTS_STAGE_PROBABILITY
    return {
        "quarter": quarter_label(first),
        "deals": len(deals),
        "amount": sum((a for _, a in deals), Decimal("0")),
        "weighted": sum((a * Decimal(str(weights.get(s, 0))) for s, a in deals), Decimal("0")),
    }


# --- Executive ----------------------------------------------------------------------------


def executive(request: HttpRequest, user) -> dict[str, Any] | None:
    if not has_role(user, EXECUTIVE):
        return None
    snapshots = _latest_snapshots()
    latest = snapshots[-1] if snapshots else None
    rows = [[Cell(s.month.strftime("%b %y")), Cell(s.totals["headline"]["arr"], MONEY)] for s in snapshots]
    return {
        "latest": latest,
        "headline": latest.totals.get("headline", {}) if latest else {},
        "previous": snapshots[-2].totals.get("headline", {}) if len(snapshots) > 1 else {},
        "chart": _chart("line", "ARR (AUD), month by month", rows, [("ARR", 1)]) if rows else None,
    }


# --- Sales ------------------------------------------------------------------------------


def sales_manager(request: HttpRequest, user) -> dict[str, Any] | None:
    if not has_role(user, SALES_MANAGER):
        return None
    return _cached(f"sales_manager:{timezone.localdate()}", _sales_manager_figures)


def _sales_manager_figures() -> dict[str, Any]:
    today = timezone.localdate()
    stages = _pipeline_rows(Opportunity.objects.all())
    renewals = list(
        Subscription.objects.live()
        .filter(
            account__merged_into__isnull=True,
            renewal_date__isnull=False,
            renewal_date__lte=today + dt.timedelta(days=90),
        )
        .values("account__owner__first_name", "account__owner__last_name", "account__owner__username")
        .annotate(n=Count("pk"), value=Sum("annual_value"), overdue=Count("pk", filter=Q(renewal_date__lt=today)))
        .order_by("-value")
    )
    at_risk = list(
        Account.objects.active_records()
        .filter(risk_score__band="high")
        .values("owner__first_name", "owner__last_name", "owner__username")
        .annotate(n=Count("pk"))
        .order_by("-n")
    )
    return {
        "stages": stages,
        "chart": _funnel_chart(stages, "Pipeline by stage (AUD)"),
        "forecast": _forecast(Opportunity.objects.all(), today),
        "renewals": renewals,
        "at_risk": at_risk,
    }


def sales_rep(request: HttpRequest, user) -> dict[str, Any] | None:
    if not has_role(user, SALES_REP):
        return None
    today = timezone.localdate()
    mine = Opportunity.objects.filter(owner=user)
    stages = _pipeline_rows(mine)
    return {
        "stages": stages,
        "chart": _funnel_chart(stages, "Your funnel (AUD)"),
        "forecast": _forecast(mine, today),
        "wants_digest": digests.wants_digest(user),
    }


# --- Customer relations, finance, support, stewards, provisioning -----------------------


def customer_relations(request: HttpRequest, user) -> dict[str, Any] | None:
    if not has_role(user, CUSTOMER_RELATIONS):
        return None
    today = timezone.localdate()
    live = Subscription.objects.live().filter(account__merged_into__isnull=True)
    upcoming = list(
        live.filter(renewal_date__isnull=False, renewal_date__lte=today + dt.timedelta(days=90))
        .select_related("account", "product")
        .order_by("renewal_date", "pk")[:SHOWN]
    )
    no_date = list(live.filter(renewal_date__isnull=True).select_related("account", "product").order_by("pk")[:SHOWN])
    return {
        "windows": _cached(f"renewal_windows:{today}", lambda: _renewal_windows(live, today)),
        "upcoming": upcoming,
        "no_date": no_date,
        "today": today,
        "cases": sources.renewal_cases_due(user, days=90, today=today),
        "renewals_installed": sources.renewals_installed(),
    }


def _renewal_windows(live, today: dt.date) -> dict[str, int]:
    def within(low: int, high: int) -> Q:
        return Q(renewal_date__gt=today + dt.timedelta(days=low), renewal_date__lte=today + dt.timedelta(days=high))

    return live.aggregate(
        overdue=Count("pk", filter=Q(renewal_date__lt=today)),
        d30=Count("pk", filter=Q(renewal_date__gte=today, renewal_date__lte=today + dt.timedelta(days=30))),
        d60=Count("pk", filter=within(30, 60)),
        d90=Count("pk", filter=within(60, 90)),
        no_date=Count("pk", filter=Q(renewal_date__isnull=True)),
    )


def finance(request: HttpRequest, user) -> dict[str, Any] | None:
    if not has_role(user, FINANCE):
        return None
    figures = _cached("finance", _finance_figures)
    latest = MonthSnapshot.objects.only("month", "totals", "source").order_by("-month").first()
    return {
        **figures,
        "latest": latest,
        "headline": latest.totals.get("headline", {}) if latest else {},
        "discrepancies": sources.open_discrepancies_for_owner(None) if sources.billing_installed() else None,
        "drift": sources.billing_drift(timezone.now()) if sources.billing_installed() else None,
        "billing_installed": sources.billing_installed(),
    }


def _finance_figures() -> dict[str, Any]:
    live = Subscription.objects.live().filter(account__merged_into__isnull=True)
    by_product = list(
        live.values("product__name", "product__kind")
        .annotate(arr=Sum("annual_value"), n=Count("account", distinct=True))
        .order_by("-arr")
    )
    rows = [[Cell(r["product__name"]), Cell(float(r["arr"] or 0), MONEY)] for r in by_product]
    return {
        "total": sum((r["arr"] or 0 for r in by_product), Decimal("0")),
        "by_product": by_product,
        "chart": _chart("bar", "Live ARR by product and service line (AUD)", rows, [("ARR", 1)]) if rows else None,
        "zero_value": live.filter(annual_value=0).count(),
    }


def support(request: HttpRequest, user) -> dict[str, Any] | None:
    if not has_role(user, SUPPORT_AGENT):
        return None
    return _cached("support", _support_figures)


def _support_figures() -> dict[str, Any]:
    from support_bridge.models import RiskScore, Ticket

    by_client = list(
        Ticket.objects.open_high()
        .values("account__code", "account__legal_name", "account__trading_name")
        .annotate(n=Count("pk"))
        .order_by("-n", "account__code")[:SHOWN]
    )
    at_risk = list(
        RiskScore.objects.filter(band="high", account__merged_into__isnull=True)
        .select_related("account")
        .order_by("-score")[:SHOWN]
    )
    return {"by_client": by_client, "at_risk": at_risk}


def data_steward(request: HttpRequest, user) -> dict[str, Any] | None:
    if not has_role(user, DATA_STEWARD):
        return None
    return _cached("data_steward", _steward_figures)


def _steward_figures() -> dict[str, Any]:
    from migration.choices import ConflictStatus, ReviewStatus
    from migration.models import ImportConflict, MatchReview

    live = Subscription.objects.live().filter(account__merged_into__isnull=True)
    accounts = Account.objects.active_records().exclude(lifecycle_status="churned")
    findings = accounts.aggregate(
        no_owner=Count("pk", filter=Q(owner__isnull=True)), no_abn=Count("pk", filter=Q(abn=""))
    )
    return {
        "duplicates": DuplicateCandidate.objects.open().count(),
        "contact_duplicates": ContactDuplicateCandidate.objects.open().count(),
        "reviews": MatchReview.objects.filter(status=ReviewStatus.OPEN).count(),
        "conflicts": ImportConflict.objects.filter(status=ConflictStatus.OPEN).count(),
        "no_renewal_date": live.filter(renewal_date__isnull=True).count(),
        **findings,
    }


def provisioning(request: HttpRequest, user) -> dict[str, Any] | None:
    if not has_role(user, PROVISIONING):
        return None
    pending = Subscription.objects.filter(status=SubscriptionStatus.PENDING, account__merged_into__isnull=True)
    no_tenancy = Subscription.objects.live().filter(tenancy_ref="", account__merged_into__isnull=True)
    counts = _cached("provisioning", lambda: {"count": pending.count(), "no_tenancy": no_tenancy.count()})
    return {
        **counts,
        # Newest first by id: the primary key's index stops at the eighth match, where
        # ordering by start date sorted every live subscription (200 ms at 20,000 accounts).
        "pending": list(pending.select_related("account", "product").order_by("-pk")[:SHOWN]),
        "no_tenancy_list": list(no_tenancy.select_related("account", "product").order_by("-pk")[:SHOWN]),
    }
