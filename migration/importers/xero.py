"""D4, Xero's Sales Invoices export: the store that wins for money.

One CSV row per invoice line. Each line is matched to its client (contact name, each
spelling kept as an alias) and product (item code, else description, else reference; a
line whose product cannot be told is held for a steward to map, never guessed). Per client
and product, `customers.billing_cadence` works out what Xero bills a year from the billing
cadence (monthly, quarterly, half-yearly, annual, once-off), whatever months the export
happens to hold:

- A subscription the client master does not list is created from the lines (the master
  holds each client's primary product only), with provenance, and listed for Customer
  Relations to confirm at /migration/subscriptions/.
- Xero's annual value becomes the contract value. Where the client master's value differs
  beyond the tolerance, a drift is recorded for Finance with both values and the invoices.
- Where the cadence cannot be told (or the history covers less than a billing period),
  the value is not overwritten; Finance gets the difference to look at, with the evidence.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from cloudcore_crm.lib.headers import HeaderMap
from customers.billing_cadence import NOT_COUNTED, BillingEstimate, InvoiceLine, Tolerance, annualise, stated_period
from customers.choices import SubscriptionStatus
from customers.matching import normalise_name
from customers.models import Subscription
from migration.choices import ConflictKind, ConflictStatus, HeldKind, Store
from migration.importers.base import SKIP, Importer, RowRejected
from migration.models import ImportConflict
from migration.names import product_key
from migration.parsing import clean_text, parse_date, parse_money
from migration.readers import SourceRow

HEADERS = HeaderMap(
    synonyms={
        "name": ["ContactName", "Contact Name", "Contact"],
        "number": ["InvoiceNumber", "Invoice Number"],
        "reference": ["Reference"],
        "date": ["InvoiceDate", "Invoice Date", "Date"],
        "item": ["InventoryItemCode", "Item Code"],
        "description": ["Description"],
        "amount": ["LineAmount", "Line Amount"],
        "type": ["Type"],
        "status": ["Status"],
        "tax_number": ["TaxNumber"],
    },
    required=["name", "number", "date", "amount", "type", "status"],
)
CREDIT_TYPES = {"sales credit note"}
SALES_TYPES = {"sales invoice", "sales credit note"}
INVOICES_SHOWN = 24  # invoice numbers kept in a drift's evidence


def tolerance() -> Tolerance:
    return Tolerance(
        percent=Decimal(str(settings.MIGRATION_DRIFT_TOLERANCE_PERCENT)),
        amount=Decimal(str(settings.MIGRATION_DRIFT_TOLERANCE_AMOUNT)),
    )


class XeroInvoicesImporter(Importer):
    store = Store.XERO
    header_map = HEADERS

    def prepare(self, table) -> None:
        self.lines: list[tuple[object, object, InvoiceLine, SourceRow]] = []

    parses_apart = True

    @classmethod
    def parse_row(cls, row, values, file_name):
        kind = clean_text(values.get("type")).lower()
        status = clean_text(values.get("status"))
        if kind not in SALES_TYPES:
            return SKIP  # bills and overpayments are not contract revenue
        if status.lower() in NOT_COUNTED:
            return SKIP  # draft, voided, deleted, awaiting approval: not billed
        name = clean_text(values.get("name"))
        if not name:
            raise RowRejected("no ContactName")
        day = parse_date(values.get("date"))
        if day is None:
            raise RowRejected("no InvoiceDate")
        amount = parse_money(values.get("amount"))
        if amount is None:
            raise RowRejected("no LineAmount")
        return (
            name,
            clean_text(values.get("number")),
            day,
            amount,
            clean_text(values.get("type")),
            status,
            clean_text(values.get("item")),
            clean_text(values.get("description")),
            clean_text(values.get("reference")),
        )

    def import_row(self, row: SourceRow, parsed: tuple) -> str:
        name, number, day, amount, kind, status, item, description, reference = parsed
        account = self.client_named(name)
        product = None
        for text in (item, description, reference):
            product = self.ctx.find_product(text) if text else None
            if product is not None:
                break
        if product is None:
            shown = item or description or reference
            why = f"cannot tell the product of this line (item {item!r}, description {description!r})"
            self.ctx.hold_value(HeldKind.PRODUCT, shown, product_key(shown), why, self.file_name, row.number)
            raise RowRejected(f"{why}: held for a steward to map at /migration/held/")
        line = InvoiceLine(
            number=number,
            date=day,
            amount=amount,
            kind=kind,
            status=status,
            description=description,
            reference=reference,
        )
        self.lines.append((account, product, line, row))
        return "read"

    def first_sight(self, account, name: str) -> None:
        if normalise_name(name) == account.normalised_name:
            return
        reason = f"Import run #{self.ctx.run.pk}: {self.file_name}"
        if self.ctx.writer.add_alias(account=account, value=name, source="Xero ContactName", reason=reason):
            self.ctx.learn_name(account, name)

    def finish(self) -> None:
        groups: dict[tuple, list] = defaultdict(list)
        for account, product, line, row in self.lines:
            groups[(id(account), product.pk)].append((account, product, line, row))
        self.lines = []
        settled = self._settled_by_finance()
        for members in groups.values():
            account, product = members[0][0], members[0][1]
            rows = [row for _, _, _, row in members]
            estimate = annualise(line for _, _, line, _ in members)
            subscription = self.ctx.live_subscription(account, product)
            if subscription is None:
                self._from_evidence(account, product, estimate, members)
            else:
                self._value(account, subscription, estimate, rows, settled)

    def _settled_by_finance(self) -> set[tuple[int, str]]:
        """Subscriptions whose drift Finance settled by applying the client master's value:
        a later import does not overwrite that decision."""
        return set(
            ImportConflict.objects.filter(
                field="annual_value", kind=ConflictKind.DRIFT, status=ConflictStatus.APPLIED
            ).values_list("subscription_id", "other_value")
        )

    def _from_evidence(self, account, product, estimate: BillingEstimate, members: list) -> None:
        answered = self.ctx.found_before(account, product)
        lines = [line for _, _, line, _ in members]
        ended = self.ctx.ended_since(account, product)
        if not answered and ended is not None and max(x.date for x in lines) <= timezone.localdate(ended):
            answered = "ended in the CRM since"  # invoices from before it ended: no new contract
        if answered:
            self.report.counts[answered] += 1
            return
        rows = [row for _, _, _, row in members]
        starts = [p.start for p in (stated_period(x.description) or stated_period(x.reference) for x in lines) if p]
        start = min([*[s for s in starts if s], *(x.date for x in lines)])
        reason = f"{self.reason(rows[0])}: invoiced by Xero, not in the client master"
        subscription = self.ctx.writer.create(
            Subscription(account=account),
            values={
                "product": product,
                "seats": 1,
                "start_date": start,
                "term_months": 12,
                "status": SubscriptionStatus.ACTIVE,
                "annual_value": estimate.annual_value or Decimal("0.00"),
            },
            reason=reason,
        )
        self.ctx.subscriptions_of(account).append(subscription)
        for row in rows:
            self.provenance(subscription, row, ["product", "start_date", "annual_value"])
        self.ctx.note_evidence(account, product, subscription, Store.XERO, _evidence_line(estimate))
        self.report.counts["subscriptions created from invoices"] += 1
        if not estimate.known:
            self._untold(account, subscription, estimate, held=Decimal("0.00"), master=None)

    def _value(self, account, subscription, estimate: BillingEstimate, rows: list, settled: set) -> None:
        for row in rows:
            self.provenance(subscription, row, ["annual_value"])
        listed = self.ctx.master_values.get(id(subscription))
        master = listed[0] if listed is not None else None
        held = subscription.annual_value
        if not estimate.known:
            self._untold(account, subscription, estimate, held=held, master=master)
            return
        billed = estimate.annual_value
        # Compared with the master's value when this run's master lists the subscription
        # (a blank value there is no drift), else with what the record held before.
        compared = master if listed is not None else held
        if (subscription.pk, str(compared)) in settled:
            self.report.counts["values kept by Finance"] += 1
            return
        if billed != held:
            if self.update(
                subscription,
                {"annual_value": billed},
                reason=f"{self.reason(rows[-1])}: what Xero bills a year ({estimate.reason})"[:300],
            ):
                self.report.counts["values updated"] += 1
        else:
            self.report.counts["values unchanged"] += 1
        if compared is not None and tolerance().drifts(compared, billed):
            self.conflict(
                account=account,
                subscription=subscription,
                field="annual_value",
                kept_store=Store.XERO,
                kept=billed,
                other_store=Store.CLIENT_MASTER,
                other=compared,
                detail=f"Drift: the client master says {compared}, Xero bills {billed} a year; "
                "the record holds Xero's figure",
                kind=ConflictKind.DRIFT,
                evidence=_evidence(estimate, xero=billed, master=compared, holds="Xero"),
            )
            self.report.counts["drifts for Finance"] += 1

    def _untold(self, account, subscription, estimate: BillingEstimate, *, held, master) -> None:
        self.conflict(
            account=account,
            subscription=subscription,
            field="annual_value",
            kept_store=Store.CLIENT_MASTER,
            kept=master if master is not None else held,
            other_store=Store.XERO,
            other="cannot tell",
            detail=f"{estimate.reason}; the record keeps {held}"[:300],
            kind=ConflictKind.UNTOLD,
            evidence=_evidence(estimate, xero=None, master=master, holds="client master" if master else "no value"),
        )
        self.report.counts["values Xero cannot tell"] += 1


def _evidence(estimate: BillingEstimate, *, xero, master, holds: str) -> dict:
    invoices = estimate.invoice_numbers
    return {
        "cadence": str(estimate.cadence) if estimate.cadence else "",
        "how": estimate.reason,
        "xero": str(xero) if xero is not None else "",
        "master": str(master) if master is not None else "",
        "record_holds": holds,
        "invoices": list(invoices[:INVOICES_SHOWN]),
        "more_invoices": max(0, len(invoices) - INVOICES_SHOWN),
        "lines": [
            [line.number, line.date.isoformat(), str(line.signed_amount), line.description[:80]]
            for line in estimate.counted[:INVOICES_SHOWN]
        ],
    }


def _evidence_line(estimate: BillingEstimate) -> str:
    invoices = estimate.invoice_numbers
    shown = ", ".join(invoices[:3]) + (f" and {len(invoices) - 3} more" if len(invoices) > 3 else "")
    value = f"${estimate.annual_value:,} a year" if estimate.known else "value cannot be told"
    return f"Xero {shown}: {estimate.cadence or 'cadence unclear'}, {value}"[:300]
