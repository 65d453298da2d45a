"""The boxes renewals adds to other apps' pages (see cloudcore_crm/lib/panels.py).

Each context function runs a fixed number of queries.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from cloudcore_crm.roles import CUSTOMER_RELATIONS, DATA_STEWARD, has_role
from renewals import services
from renewals.choices import CaseStatus, NoticeKind
from renewals.forms import TokenForm
from renewals.models import CalendarToken, RenewalCase, RenewalNotice

HOME_NOTICES_SHOWN = 10


def home_notices(request: HttpRequest, user) -> dict[str, Any] | None:
    """Lapses first and loudly, then reminders and escalations, while the case has no
    outcome; Customer Relations also sees how many subscriptions have no renewal date."""
    mine = RenewalNotice.objects.for_home(user)
    lapsed = list(mine.filter(kind=NoticeKind.LAPSED)[:HOME_NOTICES_SHOWN])
    notices = list(
        mine.exclude(kind=NoticeKind.LAPSED).filter(case__status__in=CaseStatus.open_values())[:HOME_NOTICES_SHOWN]
    )
    missing = services.missing_dates().count() if has_role(user, CUSTOMER_RELATIONS, DATA_STEWARD) else 0
    if not lapsed and not notices and not missing:
        return None
    return {"lapsed": lapsed, "notices": notices, "missing_dates": missing}


def _cases_of(request: HttpRequest, account) -> list[RenewalCase]:
    """The latest case of each of the account's subscriptions (one query per request)."""
    cache = getattr(request, "_renewal_cases", None)
    if cache is None:
        cache = request._renewal_cases = {}
    if account.pk not in cache:
        latest: dict[int, RenewalCase] = {}
        for case in (
            RenewalCase.objects.filter(account_id=account.pk)
            .select_related("subscription__product")
            .order_by("subscription_id", "-term_end")
        ):
            latest.setdefault(case.subscription_id, case)
        cache[account.pk] = sorted(latest.values(), key=lambda c: (c.term_end, c.pk))
    return cache[account.pk]


def account_cases(request: HttpRequest, account) -> dict[str, Any] | None:
    return {"cases": _cases_of(request, account)}


def lookup_cases(request: HttpRequest, account) -> dict[str, Any] | None:
    cases = _cases_of(request, account)
    return {"cases": cases, "compact": True} if cases else None


def profile_feeds(request: HttpRequest, user) -> dict[str, Any] | None:
    tokens = list(CalendarToken.objects.filter(user=user).order_by("-created_at", "-pk"))
    return {
        "tokens": tokens,
        "form": TokenForm(),
        "can_team": has_role(user, *services.TEAM_FEED_ROLES),
        "request": request,
    }
