"""The seam to apps built beside this one: renewal cases (`renewals`) and billing drift
(`billing_sync`).

Every figure the board pack, the dashboards and the digest take from those apps comes
through a function here, and each answers None (or an empty list) while its app is not
installed, so the pages say "not yet available" instead of failing. Renewals due, renewed,
lost and lapsed are computed from the customers' subscriptions meanwhile
(`reports.services`); once `renewals` is merged, the functions below are where its cases
are read (see docs/reports.md, "Wiring renewals and billing_sync").
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.apps import apps

DISCREPANCIES_LISTED = 20


def renewals_installed() -> bool:
    return apps.is_installed("renewals")


def billing_installed() -> bool:
    return apps.is_installed("billing_sync")


def open_discrepancies_by_account(at: dt.datetime) -> dict[int, int] | None:
    """{account id: open billing discrepancies at `at`}, or None before billing_sync exists."""
    if not billing_installed():
        return None
    from django.db.models import Count

    counts = _open_at(at).values("account_id").annotate(n=Count("pk")).order_by()
    return {row["account_id"]: row["n"] for row in counts}


def billing_drift(at: dt.datetime) -> dict[str, Any] | None:
    """The board pack's billing-drift figures at `at`: {"open": n, "at_stake": AUD, "accounts": n},
    or None before billing_sync exists."""
    if not billing_installed():
        return None
    from django.db.models import Count, Sum

    found = _open_at(at).aggregate(
        open=Count("pk"), accounts=Count("account_id", distinct=True), at_stake=Sum("amount")
    )
    return {"open": found["open"], "accounts": found["accounts"], "at_stake": found["at_stake"] or 0}


def renewal_cases_due(user, *, days: int, today: dt.date) -> list[dict[str, Any]] | None:
    """Renewal cases due within `days` for the customer-relations dashboard (and the digest):
    [{"account": Account, "label": str, "due": date, "status": str}], or None before renewals."""
    if not renewals_installed():
        return None
    from renewals.models import RenewalCase  # reports may read every app (DESIGN.md)

    cases = (
        RenewalCase.objects.unresolved()
        .filter(term_end__lte=today + dt.timedelta(days=days))
        .select_related("account", "subscription__product")
        .order_by("term_end", "pk")[:10]
    )
    return [
        {
            "account": case.account,
            "label": f"{case.subscription.product.name} · ${case.value_at_stake:,.0f}/yr",
            "due": case.term_end,
            "status": case.get_status_display(),
            "overdue": case.term_end < today,
        }
        for case in cases
    ]


def renewal_case_figures(month_start: dt.date, month_end: dt.date) -> dict[str, int] | None:
    """Renewal outcomes in the month from renewal cases ({"due", "renewed", "lost", "lapsed"}),
    or None before renewals exists (the board pack then uses the subscriptions' dates)."""
    if not renewals_installed():
        return None
    from django.db.models import Count, Q

    from renewals.choices import CaseStatus
    from renewals.models import RenewalCase

    return RenewalCase.objects.filter(term_end__range=(month_start, month_end)).aggregate(
        due=Count("pk"),
        renewed=Count("pk", filter=Q(status=CaseStatus.RENEWED)),
        lost=Count("pk", filter=Q(status=CaseStatus.LOST)),
        lapsed=Count("pk", filter=Q(status=CaseStatus.LAPSED)),
    )


def open_discrepancies_for_owner(user) -> list[dict[str, Any]] | None:
    """Open discrepancies on the user's accounts for the digest and the finance dashboard,
    or None before billing_sync exists."""
    if not billing_installed():
        return None
    from billing_sync.models import Discrepancy

    found = Discrepancy.objects.open().select_related("account").order_by("-amount", "pk")
    if user is not None:
        found = found.filter(account__owner=user)
    return [
        {"label": f"{d.account.code} {d.account.display_name}: {d.detail or d.get_cause_display()}", "amount": d.amount}
        for d in found[:DISCREPANCIES_LISTED]
    ]


def _open_at(at: dt.datetime):
    """Discrepancies open at `at`: opened by then, and open now or resolved only after it."""
    from django.db.models import Q

    from billing_sync.choices import DiscrepancyStatus
    from billing_sync.models import Discrepancy

    return Discrepancy.objects.filter(opened_at__lte=at).filter(
        Q(status=DiscrepancyStatus.OPEN) | Q(resolved_at__gt=at)
    )
