"""The boxes billing_sync adds to other apps' pages (see cloudcore_crm/lib/panels.py):
open discrepancies on the customer 360 page and in the agent lookup (every role reads
them), and the queue's totals on Finance's home page. One query each."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from billing_sync.models import Discrepancy
from billing_sync.querysets import ACCOUNT_PANEL_SHOWN
from billing_sync.services import can_write


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
