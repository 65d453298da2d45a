"""The boxes billing_sync adds to other apps' pages (see cloudcore_crm/lib/panels.py):
open discrepancies on the customer 360 page and in the agent lookup (every role reads
them), the queue's totals on Finance's home page, and whether Xero has invoiced an
activated order on its onboarding page. One query each."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from billing_sync import orders
from billing_sync.models import Discrepancy
from billing_sync.querysets import ACCOUNT_PANEL_SHOWN
from billing_sync.services import can_write
from billing_sync.views import READERS
from cloudcore_crm.roles import has_role


def account(request: HttpRequest, account) -> dict[str, Any] | None:
    cases = list(Discrepancy.objects.for_account(account)[: ACCOUNT_PANEL_SHOWN + 1])
    if not cases:
        return None
    return {
        "cases": cases[:ACCOUNT_PANEL_SHOWN],
        "more": len(cases) > ACCOUNT_PANEL_SHOWN,
        "can_resolve": can_write(request.user),
    }


def home_queue(request: HttpRequest, user) -> dict[str, Any] | None:
    if not can_write(user):
        return None
    return {"totals": Discrepancy.objects.open().totals()}


def order_billing(request: HttpRequest, order) -> dict[str, Any] | None:
    """An activated order's billing: awaiting its first invoice, overdue (with the case for
    Finance), or invoiced (the first invoice carrying the order ID). Hidden before activation."""
    if getattr(order, "activated_at", None) is None:
        return None
    handoff = orders.handoffs().filter(order_id=order.pk).first()
    if handoff is None:
        return None
    return {
        "handoff": handoff,
        "state": orders.state(handoff, today=timezone.localdate()),
        "grace_days": orders.grace_days(),
        "can_read_cases": has_role(request.user, *READERS),
    }
