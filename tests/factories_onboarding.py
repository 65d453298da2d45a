"""Helpers that build onboarding orders through the services (as a sales rep would)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from onboarding import services
from onboarding.models import Order
from tests.factories import product


def line(code: str = "datavault", **overrides) -> dict:
    values = {
        "product": product(code),
        "seats": 25,
        "annual_value": Decimal("18000.00"),
        "start_date": dt.date(2026, 12, 14),
        "term_months": 12,
    }
    if code == "datavault":
        values.update(datavault_region="perth", datavault_quota_gb=500)
    if code == "analytics-pro":
        values.update(workspace_name="acme-analytics")
    values.update(overrides)
    return values


def complete_values(account=None, **overrides) -> dict:
    values = {
        "account": account,
        "billing_contact_name": "Bea Biller",
        "billing_contact_email": "accounts@client.example",
        "billing_contact_phone": "08 9200 1000",
        "technical_contact_name": "Tom Tech",
        "technical_contact_email": "it@client.example",
        "technical_contact_phone": "",
    }
    values.update(overrides)
    return values


def draft_order(actor, account=None, lines=None, **overrides) -> Order:
    return services.save_draft(
        actor=actor, values=complete_values(account, **overrides), lines=lines if lines is not None else [line()]
    )


def submitted_order(actor, account=None, lines=None, **overrides) -> Order:
    order = draft_order(actor, account, lines, **overrides)
    return services.submit_order(order=order, actor=actor)
