"""Demo data for `make run`: a month of Finance's Xero exports for a dozen of the demo
world's clients, written in Xero's real layouts and imported through the same service
as the /billing/ page, so the queue shows real-looking discrepancies of each cause, a
contact held for Finance, one with no account, and one case already resolved. The
onboarding demo's activated orders (`seed_demo_orders` runs first) are billed with their
order ID as the invoice Reference under a Xero name unlike the client's, except the
oldest (not invoiced: a case) and the newest (awaiting its first invoice).
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from django.utils import timezone

from billing_sync import orders, services
from billing_sync.choices import Cause, Resolution
from billing_sync.models import Discrepancy, XeroImport
from billing_sync.reconcile import _add_months
from customers.choices import LifecycleStatus, SubscriptionStatus
from customers.models import Account, Product, Subscription

CLIENTS = 18
CENT = Decimal("0.01")
INVOICE_HEADERS = [
    "ContactName", "EmailAddress", "POAddressLine1", "POAddressLine2", "POAddressLine3", "POAddressLine4", "POCity",
    "PORegion", "POPostalCode", "POCountry", "SAAddressLine1", "SAAddressLine2", "SAAddressLine3", "SAAddressLine4",
    "SACity", "SARegion", "SAPostalCode", "SACountry", "InvoiceNumber", "Reference", "InvoiceDate", "DueDate",
    "PlannedDate", "Total", "TaxTotal", "InvoiceAmountPaid", "InvoiceAmountDue", "InventoryItemCode", "Description",
    "Quantity", "UnitAmount", "Discount", "LineAmount", "AccountCode", "TaxType", "TaxAmount", "TrackingName1",
    "TrackingOption1", "TrackingName2", "TrackingOption2", "Currency", "Type", "Sent", "Status",
]  # fmt: skip
CONTACT_HEADERS = [
    "*ContactName", "AccountNumber", "EmailAddress", "FirstName", "LastName", "POAddressLine1", "POCity", "PORegion",
    "POPostalCode", "POCountry", "PhoneNumber", "TaxNumber", "AccountsReceivableTaxCodeName", "LegalName",
]  # fmt: skip
UNKNOWN_CLIENT = "Bayside Yoga Studio Pty Ltd"


class _Export:
    def __init__(self):
        self.rows: list[dict] = []
        self.number = 4100

    def bill(
        self, contact: str, day: dt.date, product: Product, amount: Decimal, description: str, today, reference=None
    ) -> None:
        self.number += 1
        amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
        tax = (amount / 10).quantize(CENT, rounding=ROUND_HALF_UP)
        paid = day < today - dt.timedelta(days=30)
        self.rows.append(
            {
                "ContactName": contact,
                "InvoiceNumber": f"INV-{self.number}",
                "Reference": reference
                if reference is not None
                else (f"{product.name} subscription" if product else ""),
                "InvoiceDate": f"{day:%d/%m/%Y}",
                "DueDate": f"{day + dt.timedelta(days=30):%d/%m/%Y}",
                "Total": f"{amount + tax:.2f}",
                "TaxTotal": f"{tax:.2f}",
                "InvoiceAmountPaid": f"{amount + tax:.2f}" if paid else "0.00",
                "InvoiceAmountDue": "0.00" if paid else f"{amount + tax:.2f}",
                "InventoryItemCode": product.code.upper() if product else "",
                "Description": description,
                "Quantity": "1.0000",
                "UnitAmount": f"{amount:.2f}",
                "LineAmount": f"{amount:.2f}",
                "AccountCode": "200",
                "TaxType": "GST on Income",
                "TaxAmount": f"{tax:.2f}",
                "Currency": "AUD",
                "Type": "Sales invoice",
                "Sent": "Sent",
                "Status": "Paid" if paid else "Awaiting Payment",
            }
        )

    def monthly(self, contact: str, product: Product, annual: Decimal, today: dt.date, months: int = 6) -> None:
        first = today.replace(day=1)
        for back in range(months - 1, -1, -1):
            day = _add_months(first, -back)
            self.bill(contact, day, product, annual / 12, f"{product.name} - {day:%B %Y}", today)

    def quarterly(self, contact: str, product: Product, annual: Decimal, today: dt.date) -> None:
        first = today.replace(day=1)
        for back in (9, 6, 3, 0):
            day = _add_months(first, -back)
            end = _add_months(day, 2)
            self.bill(contact, day, product, annual / 4, f"{product.name} - {day:%b %Y}-{end:%b %Y}", today)


def _clients(today: dt.date) -> list[Account]:
    live = Subscription.objects.filter(
        status=SubscriptionStatus.ACTIVE, annual_value__gt=0, start_date__lte=today
    ).select_related("product")
    ended = Subscription.objects.filter(status__in=[SubscriptionStatus.CANCELLED, SubscriptionStatus.LAPSED])
    accounts = (
        Account.objects.active_records()
        .filter(lifecycle_status=LifecycleStatus.ACTIVE, subscriptions__in=live)
        .distinct()
        .order_by("number")
        .prefetch_related(
            Prefetch("subscriptions", queryset=live.order_by("pk"), to_attr="demo_live"),
            Prefetch("subscriptions", queryset=ended.select_related("product").order_by("pk"), to_attr="demo_ended"),
        )
    )
    return list(accounts[:200])


def seed_demo_billing(*, today: dt.date | None = None) -> list[str]:
    """Import the demo's Xero exports once (as the `finance` login) and resolve one case."""
    today = today or timezone.localdate()
    finance = get_user_model().objects.filter(username="finance").first()
    if finance is None or not Account.objects.exists():
        return ["No demo world yet: run `manage.py seed_demo` first."]
    if XeroImport.objects.exists():
        return [f"Xero imports already present ({XeroImport.objects.count()}); the demo's are not loaded again."]
    handoffs = list(orders.handoffs().filter(start_date__lte=today).order_by("start_date", "pk"))
    ordered = {h.order.account_id for h in handoffs}
    candidates = [a for a in _clients(today) if a.pk not in ordered]
    products = list(Product.objects.order_by("pk"))
    export, contacts = _Export(), []
    chosen: list[Account] = []
    story: dict[str, list[Account]] = {}
    old = today - dt.timedelta(days=430)
    wanted = {"value": 2, "accepted": 1, "not_in_crm": 2, "not_billed": 2, "after_end": 2}
    for account in candidates:
        if len(chosen) >= CLIENTS:
            break
        needs = [role for role, count in wanted.items() if len(story.get(role, [])) < count]
        role = "steady"
        if "after_end" in needs and any(
            s.renewal_date and s.renewal_date < today - dt.timedelta(days=60) for s in account.demo_ended
        ):
            role = "after_end"
        elif "not_billed" in needs and account.demo_live[0].start_date <= old:
            role = "not_billed"
        elif needs and needs[0] in ("value", "accepted", "not_in_crm"):
            role = needs[0]
        elif len(chosen) >= CLIENTS - 4 and needs:
            continue  # keep room for the causes still missing
        story.setdefault(role, []).append(account)
        chosen.append(account)
        name = account.legal_name
        if role == "steady" and "held" not in story:
            story["held"] = [account]  # Xero knows this client by a misspelt name: held for Finance
            name = _loose(account.legal_name)
        contacts.append((name, account))
        for index, sub in enumerate(account.demo_live):
            annual = sub.annual_value
            if index == 0 and role == "value":
                annual = annual * Decimal("1.12")  # seats added in Xero, never in the CRM
            elif index == 0 and role == "accepted":
                annual = annual * Decimal("0.9")
            elif index == 0 and role == "not_billed":
                continue
            if sub.product_id % 2:
                export.monthly(name, sub.product, annual, today)
            else:
                export.quarterly(name, sub.product, annual, today)
        if role == "not_in_crm":
            held = {s.product_id for s in account.demo_live} | {s.product_id for s in account.demo_ended}
            extra = next((p for p in products if p.pk not in held), None)
            if extra is not None:
                export.monthly(name, extra, Decimal("4800"), today, months=4)
        if role == "after_end":
            ended = next(s for s in account.demo_ended if s.renewal_date and s.renewal_date < today)
            export.bill(
                name, _add_months(today.replace(day=1), -1), ended.product, Decimal("1350"),
                f"{ended.product.name} - {_add_months(today.replace(day=1), -1):%B %Y}", today,
            )  # fmt: skip
    export.bill(UNKNOWN_CLIENT, today.replace(day=1), products[0], Decimal("95"), "Onsite support (hours)", today)
    invoiced = _bill_handoffs(export, handoffs[1:-1], today)
    with tempfile.TemporaryDirectory(prefix="cloudcore-xero-") as folder:
        directory = Path(folder)
        _write(directory / "SalesInvoices.csv", INVOICE_HEADERS, export.rows)
        _write(
            directory / "Contacts.csv",
            CONTACT_HEADERS,
            [
                {
                    "*ContactName": name,
                    "AccountNumber": "",
                    "EmailAddress": "",
                    "TaxNumber": "" if name != account.legal_name else account.abn,
                    "PORegion": account.state,
                    "POCountry": "Australia",
                    "AccountsReceivableTaxCodeName": "GST on Income",
                }
                for name, account in contacts
            ],
        )
        run = services.run_import(paths=list(directory.iterdir()), actor=finance, today=today)
    lines = [f"Imported the demo's Xero exports (import #{run.pk}): {len(export.rows)} invoice lines."]
    if handoffs:
        lines.append(
            f"Activated orders: {len(invoiced)} invoiced with the order ID as Reference ({', '.join(invoiced)}), "
            f"{len(handoffs) - len(invoiced)} not yet (/billing/handoffs/)."
        )
    accepted = story.get("accepted", [None])[0]
    case = Discrepancy.objects.filter(account=accepted, cause=Cause.VALUE).first() if accepted else None
    if case is not None:
        services.resolve_discrepancy(
            discrepancy=case,
            resolution=Resolution.ACCEPT_XERO,
            actor=finance,
            reason="10% multi-year discount agreed at renewal; Xero is right",
        )
        lines.append(f"Resolved discrepancy #{case.pk} ({accepted.code}) by accepting Xero's value.")
    totals = Discrepancy.objects.open().totals()
    lines.append(
        f"Billing discrepancies: {totals['count']} open, ${totals['amount']:,.2f} at stake (log in as finance)."
    )
    return lines


def _bill_handoffs(export: _Export, handoffs: list, today: dt.date) -> list[str]:
    """Each hand-off's first invoice: its plan for the month it started, the order ID as
    the Reference, and the client's other live subscriptions, under a Xero name unlike the
    client's (the order ID maps it)."""
    ids = {p.get("subscription_id") for h in handoffs for p in h.lines}
    subscriptions = {
        s.pk: s for s in Subscription.objects.filter(pk__in=ids).select_related("product").only("pk", "product")
    }
    others = Subscription.objects.filter(
        account__in=[h.order.account_id for h in handoffs],
        status=SubscriptionStatus.ACTIVE,
        annual_value__gt=0,
        start_date__lte=today,
    ).exclude(pk__in=ids)
    by_account: dict[int, list[Subscription]] = {}
    for sub in others.select_related("product").order_by("pk"):
        by_account.setdefault(sub.account_id, []).append(sub)
    done = []
    for handoff in handoffs:
        name = f"{_loose(handoff.order.account.legal_name)} - accounts"
        for p in handoff.lines:
            sub = subscriptions.get(p.get("subscription_id"))
            if sub is None:
                continue
            day = handoff.start_date
            description = f"{sub.product.name} - {day:%B %Y}, {p.get('seats')} seats"
            export.bill(name, day, sub.product, Decimal(p["annual_value"]) / 12, description, today, handoff.order_ref)
        for sub in by_account.get(handoff.order.account_id, []):
            export.monthly(name, sub.product, sub.annual_value, today)
        done.append(handoff.order_ref)
    return done


def _loose(name: str) -> str:
    """The name as someone typed it into Xero: without "Pty Ltd", one letter dropped."""
    words = name.replace("Pty Ltd", "").split()
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    if len(word) >= 4:
        words[longest] = word[:-2] + word[-1]
    return " ".join(words)


def _write(path: Path, headers: list[str], rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=headers, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
