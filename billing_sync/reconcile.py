"""The findings of a reconciliation: where the golden record and what Xero bills disagree.

Pure reading: `find` reads the mirrored invoice lines and the subscriptions in a few
queries and returns one `Finding` per cause and subject; `services.reconcile` turns them
into the queue. What Xero bills per year is `customers.billing_cadence.annualise`, the one
implementation the legacy import uses too.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from billing_sync import orders
from billing_sync.choices import Cause, InvoiceStatus, InvoiceType, MatchStatus
from billing_sync.models import XeroContact, XeroInvoiceLine
from customers.billing_cadence import BillingEstimate, InvoiceLine, Tolerance, annualise
from customers.choices import SubscriptionStatus
from customers.models import Product, Subscription

# The invoices read: 13 months and a little. What Xero bills per year is the last year's
# billing events (billing_cadence), and a year and a billing period covers the "not
# billed" check for every cadence; two years doubled the reconciliation's time.
HISTORY_DAYS = 410
INVOICES_KEPT = 24  # invoice lines kept on a case as its evidence
KINDS = {InvoiceType.INVOICE: "ACCREC", InvoiceType.CREDIT_NOTE: "ACCRECCREDIT"}
BILLED = set(InvoiceStatus.billed())
LIVE = {SubscriptionStatus.ACTIVE, SubscriptionStatus.PENDING}
ENDED = {SubscriptionStatus.CANCELLED, SubscriptionStatus.LAPSED}


@dataclass
class Finding:
    cause: str
    key: str
    account_id: int
    product_id: int | None
    subscription_id: int | None = None
    crm_value: Decimal | None = None
    xero_value: Decimal | None = None
    amount: Decimal = Decimal("0")
    cadence: str = ""
    detail: str = ""
    invoices: list[dict] = field(default_factory=list)

    @property
    def figures(self) -> str:
        return figures(self.cause, self.crm_value, self.xero_value, self.invoices)


def figures(cause: str, crm: Decimal | None, xero: Decimal | None, invoices: list[dict]) -> str:
    """What a resolution was about. A value case keeps its figures while Xero bills the
    same amount every month; a "not billed" case changes when a new invoice arrives."""
    parts = [cause, _money(crm), _money(xero)]
    if cause == Cause.NOT_BILLED:
        parts.append(invoices[0]["date"] if invoices else "")
    return "|".join(parts)[:80]


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"{Decimal(value):.2f}"


def tolerance() -> Tolerance:
    return Tolerance(
        percent=Decimal(str(settings.BILLING_TOLERANCE_PERCENT)), amount=Decimal(str(settings.BILLING_TOLERANCE_AMOUNT))
    )


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _evidence(lines: list[InvoiceLine]) -> list[dict]:
    newest = sorted(lines, key=lambda line: (line.date, line.number), reverse=True)[:INVOICES_KEPT]
    return [
        {
            "number": line.number,
            "date": line.date.isoformat(),
            "status": line.status,
            "amount": f"{line.signed_amount:.2f}",
            "description": line.description[:90],
        }
        for line in newest
    ]


def find(*, today: dt.date, account_ids: list[int] | None = None) -> list[Finding]:
    """Every finding, or only those about `account_ids` (one client after a mapping)."""
    since = today - dt.timedelta(days=HISTORY_DAYS)
    grace = dt.timedelta(days=settings.BILLING_NOT_BILLED_GRACE_DAYS)
    limit = tolerance()
    contacts = XeroContact.objects.filter(status=MatchStatus.MATCHED, account__isnull=False)
    lines = XeroInvoiceLine.objects.filter(account__isnull=False, product__isnull=False, invoice_date__gte=since)
    if account_ids is not None:
        contacts, lines = contacts.filter(account_id__in=account_ids), lines.filter(account_id__in=account_ids)
    billed_accounts = set(contacts.values_list("account_id", flat=True))
    products = dict(Product.objects.values_list("pk", "name"))
    groups: dict[tuple[int, int], list[InvoiceLine]] = defaultdict(list)
    rows = (
        lines.order_by()
        .values_list(
            "account_id", "product_id", "invoice_number", "invoice_date", "line_amount", "invoice_type", "status",
            "description", "reference",
        )
    )  # fmt: skip
    for account_id, product_id, number, day, amount, kind, status, description, reference in rows.iterator(
        chunk_size=20_000
    ):
        groups[(account_id, product_id)].append(
            InvoiceLine(number, day, amount, KINDS.get(kind, kind), status, description, reference)
        )
    subscriptions: dict[tuple[int, int], list[tuple]] = defaultdict(list)
    matched = contacts.values("account_id")
    for row in (
        Subscription.objects.filter(account_id__in=matched)
        .order_by("pk")
        .values_list(
            "pk", "account_id", "product_id", "annual_value", "status", "start_date", "term_months", "renewal_date"
        )
    ):
        subscriptions[(row[1], row[2])].append(row)

    findings: list[Finding] = []
    estimates: dict[tuple[int, int], BillingEstimate] = {}
    for (account_id, product_id), lines in groups.items():
        estimate = estimates[(account_id, product_id)] = annualise(lines)
        name = products.get(product_id, "?")
        subs = subscriptions.get((account_id, product_id), [])
        live = [s for s in subs if s[4] in LIVE]
        ended = [s for s in subs if s[4] in ENDED]
        if live:
            crm = sum((s[3] for s in live), Decimal("0"))
            if estimate.known and limit.drifts(crm, estimate.annual_value):
                findings.append(
                    Finding(
                        Cause.VALUE,
                        f"value:s{live[0][0]}",
                        account_id,
                        product_id,
                        subscription_id=live[0][0],
                        crm_value=crm,
                        xero_value=estimate.annual_value,
                        amount=abs(estimate.annual_value - crm),
                        cadence=str(estimate.cadence or ""),
                        detail=f"{name}: the contract value is ${crm:,.2f}; Xero bills ${estimate.annual_value:,.2f} "
                        f"a year ({estimate.reason}).",
                        invoices=_evidence(list(estimate.counted)),
                    )
                )
            continue
        sales = [line for line in lines if not line.exclusion and not line.is_credit]
        if ended:
            last = max(ended, key=lambda s: (s[7] or _add_months(s[5], s[6]), s[0]))
            end = last[7] or _add_months(last[5], last[6])
            after = [line for line in sales if line.date > end]
            if after:
                total = sum((line.amount for line in after), Decimal("0"))
                findings.append(
                    Finding(
                        Cause.BILLED_AFTER_END,
                        f"billed_after_end:a{account_id}:p{product_id}",
                        account_id,
                        product_id,
                        subscription_id=last[0],
                        crm_value=last[3],
                        xero_value=total,
                        amount=total,
                        cadence=str(estimate.cadence or ""),
                        detail=f"{name} ended on {end:%d/%m/%Y} ({last[4]}), but Xero billed "
                        f"${total:,.2f} on {len(after)} line(s) after it.",
                        invoices=_evidence(after),
                    )
                )
            continue
        recent = [line for line in sales if line.date > today - dt.timedelta(days=365)]
        if recent and account_id in billed_accounts:
            value = estimate.annual_value if estimate.known else sum((x.amount for x in recent), Decimal("0"))
            findings.append(
                Finding(
                    Cause.NOT_IN_CRM,
                    f"not_in_crm:a{account_id}:p{product_id}",
                    account_id,
                    product_id,
                    xero_value=value,
                    amount=value,
                    cadence=str(estimate.cadence or ""),
                    detail=f"Xero bills {name} (${value:,.2f} a year; {estimate.reason}); "
                    "the CRM has no subscription to it.",
                    invoices=_evidence(recent),
                )
            )
    awaiting, handoff_findings = handoffs(today=today, account_ids=account_ids)
    findings += handoff_findings
    for (account_id, product_id), subs in subscriptions.items():
        estimate = estimates.get((account_id, product_id))
        if estimate is not None and estimate.cadence is not None and estimate.cadence.months is None:
            continue  # a once-off product is not billed again
        months = estimate.cadence.months if estimate is not None and estimate.cadence is not None else 12
        lines = groups.get((account_id, product_id), [])
        sales = [line for line in lines if line.status in BILLED and not line.is_credit]
        last_billed = max((line.date for line in sales), default=None)
        for pk, _, _, value, status, start, _, _ in subs:
            if status != SubscriptionStatus.ACTIVE or not value or start > today or pk in awaiting:
                continue  # (a hand-off awaiting its first invoice has its own cause)
            due = _add_months(last_billed or start, months) + grace
            if due >= today:
                continue
            name = products.get(product_id, "?")
            if last_billed:
                detail = f"{name} was last billed on {last_billed:%d/%m/%Y}; it is billed every {months} month(s)."
            else:
                detail = f"{name} started on {start:%d/%m/%Y} and Xero has not billed it in the last 13 months."
            findings.append(
                Finding(
                    Cause.NOT_BILLED,
                    f"not_billed:s{pk}",
                    account_id,
                    product_id,
                    subscription_id=pk,
                    crm_value=value,
                    amount=value,
                    cadence=str(estimate.cadence or "") if estimate else "",
                    detail=detail,
                    invoices=_evidence(sales)[:6],
                )
            )
    return findings


def handoffs(*, today: dt.date, account_ids: list[int] | None = None) -> tuple[set[int], list[Finding]]:
    """Activated orders no billed invoice carries the ID of: their live subscriptions
    (left out of "not billed": the hand-off's own cause covers them), and a finding for each
    one more than `BILLING_HANDOFF_GRACE_DAYS` past its start date. Two queries."""
    waiting = orders.handoffs().filter(first_invoice_date__isnull=True, order__account__isnull=False)
    if account_ids is not None:
        waiting = waiting.filter(order__account_id__in=account_ids)
    rows = list(waiting.values_list("order_ref", "order__account_id", "start_date", "annual_total", "lines"))
    ids = {p.get("subscription_id") for *_, lines in rows for p in lines if p.get("subscription_id")}
    subscriptions = {
        pk: (status, product_id, order_ref)
        for pk, status, product_id, order_ref in Subscription.objects.filter(pk__in=ids).values_list(
            "pk", "status", "product_id", "order_ref"
        )
    }
    grace = orders.grace_days()
    awaiting: set[int] = set()
    findings: list[Finding] = []
    for ref, account_id, start, total, lines in rows:
        # The order's subscriptions still live and still its own (a later order may
        # have taken one over: its hand-off is the one waiting now).
        live = [
            (pk, subscriptions[pk][1])
            for pk in (p.get("subscription_id") for p in lines)
            if pk in subscriptions and subscriptions[pk][0] in LIVE and subscriptions[pk][2] == ref
        ]
        if not live:
            continue
        awaiting.update(pk for pk, _ in live)
        if (today - start).days <= grace:
            continue
        findings.append(
            Finding(
                Cause.HANDOFF_NOT_INVOICED,
                f"{orders.CASE_PREFIX}{ref}",
                account_id,
                live[0][1],
                subscription_id=live[0][0],
                crm_value=total,
                amount=total,
                detail=f"Order {ref}: billing was to start on {start:%d/%m/%Y} and no billed Xero invoice "
                f"carries the order ID ({grace} days' grace). Plan: {orders.plan_text(lines)}",
            )
        )
    return awaiting, findings
