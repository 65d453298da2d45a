"""Xero's exports read into records: the Sales Invoices export (one row per line) and the
Contacts export, matched by header name (never position), as FORMATS.md section 1 says.

Each file yields `InvoiceLineRecord`s or `ContactRecord`s, or `Rejected` rows with the
reason; the API adapter (`billing_sync.sources`) yields the same records.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from billing_sync.choices import ImportKind, InvoiceStatus, InvoiceType
from cloudcore_crm.lib.headers import HeaderMap

INVOICE_HEADERS = HeaderMap(
    synonyms={
        "contact_name": ["ContactName", "Contact Name", "Contact"],
        "email": ["EmailAddress"],
        "number": ["InvoiceNumber", "Invoice Number"],
        "reference": ["Reference"],
        "date": ["InvoiceDate", "Invoice Date"],
        "due_date": ["DueDate", "Due Date"],
        "total": ["Total"],
        "item_code": ["InventoryItemCode", "Item Code", "ItemCode"],
        "description": ["Description"],
        "quantity": ["Quantity"],
        "unit_amount": ["UnitAmount", "Unit Amount"],
        "line_amount": ["LineAmount", "Line Amount"],
        "currency": ["Currency", "CurrencyCode"],
        "type": ["Type"],
        "status": ["Status"],
        "contact_id": ["ContactID"],
        "invoice_id": ["InvoiceID"],
    },
    required=["contact_name", "number", "date", "line_amount", "type", "status"],
)
CONTACT_HEADERS = HeaderMap(
    synonyms={
        "contact_name": ["ContactName", "Contact Name"],
        "account_number": ["AccountNumber"],
        "email": ["EmailAddress"],
        "tax_number": ["TaxNumber"],
        "legal_name": ["LegalName"],
        "contact_id": ["ContactID"],
        "phone": ["PhoneNumber"],
        "region": ["PORegion"],
    },
    required=["contact_name", "tax_number", "account_number"],
)

STATUS_LABELS = {
    "draft": InvoiceStatus.DRAFT,
    "awaiting approval": InvoiceStatus.SUBMITTED,
    "submitted": InvoiceStatus.SUBMITTED,
    "awaiting payment": InvoiceStatus.AUTHORISED,
    "authorised": InvoiceStatus.AUTHORISED,
    "approved": InvoiceStatus.AUTHORISED,
    "paid": InvoiceStatus.PAID,
    "voided": InvoiceStatus.VOIDED,
    "void": InvoiceStatus.VOIDED,
    "deleted": InvoiceStatus.DELETED,
}
TYPE_LABELS = {
    "sales invoice": InvoiceType.INVOICE,
    "accrec": InvoiceType.INVOICE,
    "sales credit note": InvoiceType.CREDIT_NOTE,
    "accreccredit": InvoiceType.CREDIT_NOTE,
    "sales overpayment": InvoiceType.OVERPAYMENT,
    "receive-overpayment": InvoiceType.OVERPAYMENT,
}
# Bills, purchase credit notes and the like are not CloudCore's revenue: skipped, not rejected.
NOT_SALES = {"bill", "accpay", "accpaycredit", "purchase credit note", "purchase order", "spend-overpayment"}
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_AU = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})$")


class RowError(ValueError):
    """This row cannot be imported; the message goes in the rejected-rows file."""


class NotAXeroExport(ValueError):
    """The file is neither a Sales Invoices nor a Contacts export."""


@dataclass(slots=True)
class InvoiceLineRecord:
    row: int
    contact_name: str
    number: str
    invoice_type: str
    status: str
    date: dt.date
    line_amount: Decimal
    due_date: dt.date | None = None
    reference: str = ""
    item_code: str = ""
    description: str = ""
    quantity: Decimal = Decimal("1")
    unit_amount: Decimal = Decimal("0")
    total: Decimal = Decimal("0")
    currency: str = "AUD"
    email: str = ""
    contact_id: str = ""
    invoice_id: str = ""


@dataclass(slots=True)
class ContactRecord:
    row: int
    name: str
    account_number: str = ""
    email: str = ""
    tax_number: str = ""
    contact_id: str = ""


@dataclass(slots=True)
class Rejected:
    row: int
    values: list[str]
    reason: str


def clean(value: object) -> str:
    return " ".join(str(value or "").split())


def parse_date(text: str, *, required: bool = True) -> dt.date | None:
    """An AU organisation's export date (DD/MM/YYYY), or ISO (the API's DateString)."""
    text = clean(text)
    if not text:
        if required:
            raise RowError("no date")
        return None
    try:
        found = _ISO.match(text)
        if found:
            return dt.date(int(found[1]), int(found[2]), int(found[3]))
        found = _AU.match(text)
        if found:
            year = int(found[3])
            return dt.date(year + 2000 if year < 100 else year, int(found[2]), int(found[1]))
    except ValueError:
        pass
    raise RowError(f"{text!r} is not a date (DD/MM/YYYY)")


def parse_amount(text: object, *, default: Decimal | None = None) -> Decimal:
    """Plain decimals with 2 or 4 places (no $ or separators in Xero's exports)."""
    value = clean(text).replace(",", "")
    if not value:
        if default is not None:
            return default
        raise RowError("no amount")
    try:
        return Decimal(value)
    except InvalidOperation:
        raise RowError(f"{text!r} is not an amount") from None


def invoice_line(row: int, get) -> InvoiceLineRecord | None:
    """One export row as a line record; None for a row that is not a sale (a bill)."""
    kind_text = clean(get("type")).lower()
    if kind_text in NOT_SALES:
        return None
    kind = TYPE_LABELS.get(kind_text)
    if kind is None:
        raise RowError(f"unknown Type {get('type')!r}")
    status = STATUS_LABELS.get(clean(get("status")).lower())
    if status is None:
        raise RowError(f"unknown Status {get('status')!r}")
    name = clean(get("contact_name"))
    if not name:
        raise RowError("no ContactName")
    number = clean(get("number"))
    if not number:
        raise RowError("no InvoiceNumber")
    amount = parse_amount(get("line_amount"))
    return InvoiceLineRecord(
        row=row,
        contact_name=name,
        number=number,
        invoice_type=kind,
        status=status,
        date=parse_date(get("date")),
        due_date=parse_date(get("due_date"), required=False),
        line_amount=abs(amount) if kind == InvoiceType.CREDIT_NOTE else amount,
        reference=clean(get("reference"))[:255],
        item_code=clean(get("item_code"))[:50],
        description=str(get("description") or "").strip(),
        quantity=parse_amount(get("quantity"), default=Decimal("1")),
        unit_amount=parse_amount(get("unit_amount"), default=Decimal("0")),
        total=parse_amount(get("total"), default=Decimal("0")),
        currency=(clean(get("currency")) or "AUD").upper()[:3],
        email=clean(get("email")),
        contact_id=clean(get("contact_id")),
        invoice_id=clean(get("invoice_id")),
    )


def contact(row: int, get) -> ContactRecord:
    name = clean(get("contact_name"))
    if not name:
        raise RowError("no ContactName")
    return ContactRecord(
        row=row,
        name=name,
        account_number=clean(get("account_number")),
        email=clean(get("email")),
        tax_number="".join(ch for ch in clean(get("tax_number")) if ch.isdigit()),
        contact_id=clean(get("contact_id")),
    )


# --- Files ----------------------------------------------------------------------------


def _text_stream(path: Path) -> io.TextIOBase:
    """UTF-8 (with or without a BOM), else Windows-1252: Xero and Excel write both."""
    with open(path, "rb") as handle:
        head = handle.read(1 << 16)
    encoding = "utf-8-sig"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sample is still UTF-8.
        if error.start < len(head) - 3:
            encoding = "cp1252"
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    return open(path, encoding=encoding, newline="")


@dataclass
class XeroFile:
    """A Xero export opened for reading: its kind, headers and rows."""

    path: Path
    kind: str
    headers: list[str]
    columns: dict[str, int]

    def records(self) -> Iterator[InvoiceLineRecord | ContactRecord | Rejected]:
        build = invoice_line if self.kind == ImportKind.INVOICES else contact
        columns = self.columns
        with _text_stream(self.path) as stream:
            reader = csv.reader(stream)
            next(reader, None)
            for number, values in enumerate(reader, start=2):
                if not any(v.strip() for v in values):
                    continue

                def get(name: str, values=values) -> str:
                    index = columns.get(name)
                    return values[index] if index is not None and index < len(values) else ""

                try:
                    record = build(number, get)
                except RowError as error:
                    yield Rejected(number, values, str(error))
                    continue
                if record is not None:
                    yield record

    def count_rows(self) -> int:
        with open(self.path, "rb") as handle:
            return max(sum(1 for _ in handle) - 1, 0)


def open_export(path: Path) -> XeroFile:
    """Recognise a Xero export by its headers; raise NotAXeroExport for anything else."""
    try:
        with _text_stream(path) as stream:
            headers = next(csv.reader(stream), [])
    except (OSError, csv.Error, UnicodeDecodeError) as error:
        raise NotAXeroExport(f"cannot be read as CSV ({error})") from None
    if INVOICE_HEADERS.score(headers) == 1.0:
        return XeroFile(path, ImportKind.INVOICES, headers, INVOICE_HEADERS.match(headers))
    if CONTACT_HEADERS.score(headers) == 1.0:
        return XeroFile(path, ImportKind.CONTACTS, headers, CONTACT_HEADERS.match(headers))
    raise NotAXeroExport(
        "not a Xero Sales Invoices or Contacts export (expected columns such as InvoiceNumber, "
        "InvoiceDate, LineAmount, Type, Status; or ContactName, AccountNumber, TaxNumber)"
    )


def safe_cell(value: object) -> str:
    """Formula-like text neutralised so a spreadsheet never executes it."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def rejected_csv(headers: list[str], rejected: list[Rejected]) -> str:
    if not rejected:
        return ""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(h) for h in headers] + ["Reason"])
    for item in rejected:
        values = list(item.values) + [""] * (len(headers) - len(item.values))
        writer.writerow([safe_cell(v) for v in values] + [f"row {item.row}: {item.reason}"])
    return buffer.getvalue()
