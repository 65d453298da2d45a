"""The boxes support_bridge adds to other apps' pages (see cloudcore_crm/lib/panels.py).

Each context function runs a fixed number of queries. The account's score is read once per
request and shared by the 360 page's panels.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from cloudcore_crm.roles import has_role
from customers.choices import OpportunityKind
from support_bridge.forms import AcknowledgeForm, ConcernForm
from support_bridge.models import ChurnAlert, RiskScore, Ticket
from support_bridge.querysets import OPEN_TICKETS_SHOWN
from support_bridge.services import CONCERN_ROLES

HOME_ALERTS_SHOWN = 10


def _score(request: HttpRequest, account) -> RiskScore | None:
    cache = getattr(request, "_support_risk_scores", None)
    if cache is None:
        cache = request._support_risk_scores = {}
    if account.pk not in cache:
        cache[account.pk] = RiskScore.objects.filter(account=account).first()
    return cache[account.pk]


def home_alerts(request: HttpRequest, user) -> dict[str, Any] | None:
    alerts = list(ChurnAlert.objects.for_owner(user)[:HOME_ALERTS_SHOWN])
    if not alerts:
        return None
    return {"alerts": alerts, "form": AcknowledgeForm()}


def account_risk(request: HttpRequest, account) -> dict[str, Any] | None:
    tickets = list(Ticket.objects.for_panel().filter(account=account)[:OPEN_TICKETS_SHOWN])
    return {
        "risk": _score(request, account),
        "open_tickets": tickets,
        "can_raise_concern": has_role(request.user, *CONCERN_ROLES),
        "concern_form": ConcernForm(),
    }


def upsell_warning(request: HttpRequest, account) -> dict[str, Any] | None:
    """On the 360 opportunities box: only when an open upsell meets a high-risk account."""
    upsells = [o for o in getattr(account, "open_opportunities", []) if o.kind == OpportunityKind.UPSELL]
    risk = _score(request, account) if upsells else None
    if risk is None or not risk.is_high:
        return None
    return {"risk": risk, "upsells": upsells}


def opportunity_form_warning(request: HttpRequest, account) -> dict[str, Any] | None:
    """On the opportunity form: before anyone proposes more to an unhappy client."""
    risk = _score(request, account)
    if risk is None or not risk.is_high:
        return None
    return {"risk": risk, "upsells": []}


SEARCH_TICKETS_SHOWN = 5


def search_tickets(request: HttpRequest, text: str) -> dict[str, Any] | None:
    """On global search and its type-ahead: a helpdesk ticket by its number ("1042", "#1042")."""
    number = (text or "").strip().lstrip("#").strip()
    if not number or not number.isdigit():
        return None
    tickets = list(
        Ticket.objects.filter(external_id=number, account__merged_into__isnull=True).select_related("account")[
            :SEARCH_TICKETS_SHOWN
        ]
    )
    return {"tickets": tickets} if tickets else None


def risk_band_expression(account_ref):
    """The account's churn-risk band as a subquery, for other apps' querysets
    (`cloudcore_crm.lib.account_facts`); "" when the account has no score."""
    from django.db.models import CharField, Subquery, Value
    from django.db.models.functions import Coalesce

    band = RiskScore.objects.filter(account_id=account_ref).values("band")[:1]
    return Coalesce(Subquery(band), Value(""), output_field=CharField())


def accounts_in_band(band: str):
    """The ids of the accounts in a churn-risk band ("" for every scored account)."""
    scores = RiskScore.objects.filter(band=band) if band else RiskScore.objects.all()
    return scores.values("account_id")
