"""Helpers for the Xero reconciliation tests: export files written by hand in Xero's
real Sales Invoices and Contacts layouts (FORMATS.md section 1), mirrored rows, and
activated onboarding orders with their billing hand-off, written by hand."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

from django.utils import timezone

from customers.choices import SubscriptionStatus
from onboarding.choices import OrderStatus
from onboarding.models import BillingHandoff, Order
from tests.factories import SubscriptionFactory, product

INVOICE_HEADERS = [
    "ContactName",
    "EmailAddress",
    "POAddressLine1",
    "POAddressLine2",
    "POAddressLine3",
    "POAddressLine4",
    "POCity",
    "PORegion",
    "POPostalCode",
    "POCountry",
    "SAAddressLine1",
    "SAAddressLine2",
    "SAAddressLine3",
    "SAAddressLine4",
    "SACity",
    "SARegion",
    "SAPostalCode",
    "SACountry",
    "InvoiceNumber",
    "Reference",
    "InvoiceDate",
    "DueDate",
    "PlannedDate",
    "Total",
    "TaxTotal",
    "InvoiceAmountPaid",
    "InvoiceAmountDue",
    "InventoryItemCode",
    "Description",
    "Quantity",
    "UnitAmount",
    "Discount",
    "LineAmount",
    "AccountCode",
    "TaxType",
    "TaxAmount",
    "TrackingName1",
    "TrackingOption1",
    "TrackingName2",
    "TrackingOption2",
    "Currency",
    "Type",
    "Sent",
    "Status",
]
CONTACT_HEADERS = [
    "*ContactName",
    "AccountNumber",
    "EmailAddress",
    "FirstName",
    "LastName",
    "POAttentionTo",
    "POAddressLine1",
    "POCity",
    "PORegion",
    "POPostalCode",
    "POCountry",
    "PhoneNumber",
    "TaxNumber",
    "AccountsReceivableTaxCodeName",
    "LegalName",
]


def line(contact: str, number: str, date: str, amount: str, description: str = "", **extra) -> dict:
    """One export row; `date` as the AU export writes it (DD/MM/YYYY)."""
    return {
        "ContactName": contact,
        "InvoiceNumber": number,
        "InvoiceDate": date,
        "DueDate": date,
        "Description": description,
        "Quantity": "1.0000",
        "UnitAmount": amount,
        "LineAmount": amount,
        "Total": amount,
        "AccountCode": "200",
        "TaxType": "GST on Income",
        "Currency": "AUD",
        "Type": "Sales invoice",
        "Sent": "Sent",
        "Status": "Paid",
        **extra,
    }


def write_invoices(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=INVOICE_HEADERS)
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    return path


def write_contacts(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CONTACT_HEADERS)
        writer.writeheader()
        for row in rows:
            writer.writerow({"*ContactName": row.pop("name"), **row})
    return path


def activated_order(account, creator, *, ref="ORD-2026-00042", start=dt.date(2026, 11, 1), plan=None) -> BillingHandoff:
    """An order as onboarding leaves it when it goes live: active, its subscriptions
    holding the order ID, and the hand-off Finance was told."""
    plan = plan or [("datavault", 25, "18000.00"), ("cloudsync", 40, "18000.00")]
    year, number = int(ref[4:8]), int(ref[9:])
    order = Order.objects.create(
        year=year,
        number=number,
        order_id=ref,
        status=OrderStatus.ACTIVE,
        account=account,
        created_by=creator,
        activated_at=timezone.now(),
    )
    lines = []
    for code, seats, value in plan:
        sub = SubscriptionFactory(
            account=account,
            product=product(code),
            seats=seats,
            annual_value=Decimal(value),
            start_date=start,
            renewal_date=dt.date(start.year + 1, start.month, start.day),
            status=SubscriptionStatus.ACTIVE,
            order_ref=ref,
        )
        lines.append(
            {
                "product": sub.product.name,
                "seats": seats,
                "annual_value": value,
                "start_date": start.isoformat(),
                "term_months": 12,
                "renewal_date": sub.renewal_date.isoformat(),
                "subscription_id": sub.pk,
            }
        )
    total = sum((Decimal(v) for *_, v in plan), Decimal("0"))
    return BillingHandoff.objects.create(order=order, order_ref=ref, lines=lines, annual_total=total, start_date=start)
