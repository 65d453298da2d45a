"""The box onboarding adds to the customer 360 page (see cloudcore_crm/lib/panels.py):
the account's orders, and its won deals with a "Start onboarding" button. Two queries."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from customers.choices import OpportunityStage
from customers.models import Opportunity
from onboarding import services
from onboarding.models import Order

ORDERS_SHOWN = 5


def account_orders(request: HttpRequest, account) -> dict[str, Any] | None:
    orders = list(Order.objects.filter(account=account).order_by("-created_at")[:ORDERS_SHOWN])
    won = list(
        Opportunity.objects.filter(account=account, stage=OpportunityStage.WON, onboarding_orders__isnull=True)
        .select_related("product")
        .order_by("-pk")[:ORDERS_SHOWN]
    )
    if not orders and not won:
        return None
    return {"orders": orders, "won_deals": won, "can_start": services.can_start(request.user, account)}
