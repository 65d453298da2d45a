"""The shared order ID (seed 002) read back from Xero: which activated order an invoice
line bills, and where each billing hand-off stands.

When an order goes live, onboarding gives its subscriptions `Subscription.order_ref`
("ORD-2026-00042"), records a `BillingHandoff` and asks Finance to put the order ID as the
Xero invoice's Reference. This module is the one place `billing_sync` reads `onboarding`,
and only that model, read only (`handoffs()`, `OrderTargets`). The dependency is one way:
onboarding imports nothing of billing_sync; the order page shows the status through a
panel (`cloudcore_crm/lib/panels.py`) that billing_sync registers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import CharField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Concat

from billing_sync.choices import Cause, DiscrepancyStatus, HandoffStatus, InvoiceStatus, InvoiceType
from billing_sync.models import Discrepancy, XeroInvoiceLine
from customers.models import Subscription
from onboarding.models import BillingHandoff

# onboarding.models.format_order_id: "ORD-2026-00042". Xero's Reference is free text, so
# "PO 4471 / ord-2026-00042" is read too.
ORDER_ID = re.compile(r"(?<![A-Z0-9])ORD-(\d{4})-(\d{5})(?!\d)", re.IGNORECASE)
CASE_PREFIX = f"{Cause.HANDOFF_NOT_INVOICED}:"


def order_id_in(*texts: str) -> str:
    """The first order ID in the texts (the Reference first, then the description)."""
    for text in texts:
        found = ORDER_ID.search(text or "")
        if found:
            return f"ORD-{found.group(1)}-{found.group(2)}"
    return ""


@dataclass(frozen=True)
class OrderTarget:
    """An activated order as billing sees it: its client and its subscriptions by product."""

    order_ref: str
    account_id: int
    subscriptions: dict[int, int]  # product id -> subscription id

    def product_for(self, guessed: int | None) -> int | None:
        """The product a line of this order bills: the one its wording names when that is
        one of the order's; a line naming no product bills the order's only product; a
        line naming another product bills that one (for the order's client)."""
        if guessed is None and len(self.subscriptions) == 1:
            return next(iter(self.subscriptions))
        return guessed


class OrderTargets:
    """Order IDs resolved once per import: a subscription holding the ID, else the
    hand-off that named it (a later order may since have taken over the subscription)."""

    def __init__(self) -> None:
        self.known: dict[str, OrderTarget | None] = {}

    def lookup(self, refs: Iterable[str]) -> dict[str, OrderTarget | None]:
        wanted = {ref for ref in refs if ref}
        missing = wanted - set(self.known)
        if missing:
            self._resolve(missing)
        return {ref: self.known[ref] for ref in wanted}

    def _resolve(self, refs: set[str]) -> None:
        accounts: dict[str, int] = {}
        products: dict[str, dict[int, int]] = {}
        rows = Subscription.objects.filter(order_ref__in=refs).order_by("pk")
        for ref, pk, account_id, product_id in rows.values_list("order_ref", "pk", "account_id", "product_id"):
            if accounts.setdefault(ref, account_id) == account_id:
                products.setdefault(ref, {}).setdefault(product_id, pk)
        superseded = refs - set(accounts)
        if superseded:
            handoffs = list(
                BillingHandoff.objects.filter(order_ref__in=superseded).values_list(
                    "order_ref", "order__account_id", "lines"
                )
            )
            ids = {p.get("subscription_id") for _, _, lines in handoffs for p in lines if p.get("subscription_id")}
            product_of = dict(Subscription.objects.filter(pk__in=ids).values_list("pk", "product_id"))
            for ref, account_id, lines in handoffs:
                if account_id is None:
                    continue
                accounts[ref] = account_id
                for p in lines:
                    pk = p.get("subscription_id")
                    if pk in product_of:
                        products.setdefault(ref, {}).setdefault(product_of[pk], pk)
        for ref in refs:
            self.known[ref] = OrderTarget(ref, accounts[ref], products.get(ref, {})) if ref in accounts else None


# --- Hand-offs ---------------------------------------------------------------------------


def grace_days() -> int:
    return int(getattr(settings, "BILLING_HANDOFF_GRACE_DAYS", 14))


def handoffs() -> QuerySet:
    """Every billing hand-off with its client, its first billed invoice carrying the order
    ID (number and date) and its open "not invoiced" case, in one query."""
    first = XeroInvoiceLine.objects.filter(
        order_ref=OuterRef("order_ref"), invoice_type=InvoiceType.INVOICE, status__in=InvoiceStatus.billed()
    ).order_by("invoice_date", "invoice_number")
    case = Discrepancy.objects.filter(
        key=Concat(Value(CASE_PREFIX), OuterRef("order_ref"), output_field=CharField()),
        status=DiscrepancyStatus.OPEN,
    )
    return (
        BillingHandoff.objects.select_related("order__account")
        .annotate(
            first_invoice_number=Subquery(first.values("invoice_number")[:1]),
            first_invoice_date=Subquery(first.values("invoice_date")[:1]),
            open_case_id=Subquery(case.values("pk")[:1]),
        )
        .order_by("-start_date", "-pk")
    )


def with_status(queryset: QuerySet, status: str, *, today: dt.date) -> QuerySet:
    """`handoffs()` narrowed to one status (the list's filter)."""
    due = today - dt.timedelta(days=grace_days())
    if status == HandoffStatus.INVOICED:
        return queryset.filter(first_invoice_date__isnull=False)
    if status == HandoffStatus.AWAITING:
        return queryset.filter(first_invoice_date__isnull=True, start_date__gte=due)
    if status == HandoffStatus.OVERDUE:
        return queryset.filter(first_invoice_date__isnull=True, start_date__lt=due)
    return queryset


@dataclass(frozen=True)
class HandoffState:
    status: str
    days: int  # since the start date (negative: starts in that many days)
    invoice_number: str = ""
    invoice_date: dt.date | None = None
    case_id: int | None = None

    @property
    def label(self) -> str:
        return HandoffStatus(self.status).label

    @property
    def starts_in(self) -> int:
        return max(0, -self.days)


def state(handoff, *, today: dt.date) -> HandoffState:
    """Where one hand-off of `handoffs()` stands (no query)."""
    days = (today - handoff.start_date).days
    if handoff.first_invoice_date is not None:
        return HandoffState(HandoffStatus.INVOICED, days, handoff.first_invoice_number, handoff.first_invoice_date)
    status = HandoffStatus.OVERDUE if days > grace_days() else HandoffStatus.AWAITING
    return HandoffState(status, days, case_id=handoff.open_case_id)


def plan_text(lines: list[dict]) -> str:
    """The plan as Finance was told it: "DataVault, 25 seats, $18,000.00/yr; ..."."""
    parts = []
    for p in lines:
        try:
            value = f"${float(p.get('annual_value') or 0):,.2f}/yr"
        except ValueError:
            value = str(p.get("annual_value"))
        parts.append(f"{p.get('product', '?')}, {p.get('seats')} seats, {value}")
    return "; ".join(parts)
