"""D4, Xero's Sales Invoices export: the store that wins for money.

One CSV row per invoice line. Lines of sales invoices that count (not Draft, Voided or
Deleted) dated within the year before the newest invoice in the file are added up per
client and product, credit notes subtracting, to give the annualised invoiced value. That
becomes the subscription's contract value; a different client-master value is recorded as
a conflict. Contact names are matched to clients and each spelling kept as an alias.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from cloudcore_crm.lib.headers import HeaderMap
from customers.matching import normalise_name
from migration.choices import Store
from migration.importers.base import SKIP, Importer, RowRejected
from migration.parsing import clean_text, parse_date, parse_money
from migration.readers import SourceRow

HEADERS = HeaderMap(
    synonyms={
        "name": ["ContactName", "Contact Name", "Contact"],
        "number": ["InvoiceNumber", "Invoice Number"],
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
NOT_COUNTED = {"draft", "voided", "deleted", "awaiting approval"}
CREDIT_TYPES = {"sales credit note"}
SALES_TYPES = {"sales invoice", "sales credit note"}
YEAR = dt.timedelta(days=365)


class XeroInvoicesImporter(Importer):
    store = Store.XERO
    header_map = HEADERS

    def prepare(self, table) -> None:
        self.lines: list[tuple[object, object, dt.date, Decimal, SourceRow]] = []

    parses_apart = True

    @classmethod
    def parse_row(cls, row, values, file_name):
        kind = clean_text(values.get("type")).lower()
        status = clean_text(values.get("status")).lower()
        if kind not in SALES_TYPES:
            return SKIP  # bills and overpayments are not contract revenue
        if status in NOT_COUNTED:
            return SKIP
        name = clean_text(values.get("name"))
        if not name:
            raise RowRejected("no ContactName")
        day = parse_date(values.get("date"))
        if day is None:
            raise RowRejected("no InvoiceDate")
        amount = parse_money(values.get("amount"))
        if amount is None:
            raise RowRejected("no LineAmount")
        if kind in CREDIT_TYPES:
            amount = -abs(amount)
        return name, day, amount, clean_text(values.get("item")), clean_text(values.get("description"))

    def import_row(self, row: SourceRow, parsed: tuple) -> str:
        name, day, amount, item, description = parsed
        try:
            product = self.ctx.product(item or description)
        except RowRejected:
            product = self.ctx.product(description)
        account = self.client_named(name)
        self.lines.append((account, product, day, amount, row))
        return "read"

    def first_sight(self, account, name: str) -> None:
        if normalise_name(name) != account.normalised_name:
            self.ctx.writer.add_alias(
                account=account,
                value=name,
                source="Xero ContactName",
                reason=f"Import run #{self.ctx.run.pk}: {self.file_name}",
            )

    def finish(self) -> None:
        if not self.lines:
            return
        newest = max(day for _, _, day, _, _ in self.lines)
        totals: dict[tuple, Decimal] = defaultdict(Decimal)
        rows: dict[tuple, list[SourceRow]] = defaultdict(list)
        keys: dict[tuple, tuple] = {}
        for account, product, day, amount, row in self.lines:
            if day > newest - YEAR:
                key = (id(account), product.pk)
                keys[key] = (account, product)
                totals[key] += amount
                rows[key].append(row)
        for key, total in totals.items():
            account, product = keys[key]
            subscription = self.ctx.live_subscription(account, product)
            last_row = rows[key][-1]
            if subscription is None:
                self.conflict(
                    account=account,
                    field="subscription",
                    kept_store=Store.CLIENT_MASTER,
                    kept="none",
                    other_store=Store.XERO,
                    other=f"{total} invoiced for product #{product.pk}",
                    detail="Xero invoices a product the client master does not list",
                )
                self.report.counts["unmatched subscriptions"] += 1
                continue
            for row in rows[key]:
                self.provenance(subscription, row, ["annual_value"])
            if total < 0:
                self.report.warnings.append(f"{account.code}: credits exceed invoices for {product}")
                continue
            if total == subscription.annual_value:
                self.report.counts["values unchanged"] += 1
                continue
            previous = subscription.annual_value
            self.ctx.writer.update(
                subscription,
                {"annual_value": total},
                reason=f"{self.reason(last_row)}: annualised invoiced value over {_lines(len(rows[key]))}",
            )
            self.report.counts["values updated"] += 1
            self.conflict(
                account=account,
                subscription=subscription,
                field="annual_value",
                kept_store=Store.XERO,
                kept=total,
                other_store=Store.CLIENT_MASTER,
                other=previous,
                detail="Xero wins for money",
            )


def _lines(count: int) -> str:
    return "1 invoice line" if count == 1 else f"{count} invoice lines"
