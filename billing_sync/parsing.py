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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from operator import itemgetter
from pathlib import Path

from billing_sync.choices import ImportKind, InvoiceStatus, InvoiceType
from cloudcore_crm.lib import spreadsheets
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
    text = (text or "").strip()
    if not text:
        if required:
            raise RowError("no date")
        return None
    found = _date(text)
    if found is None:
        raise RowError(f"{text!r} is not a date (DD/MM/YYYY)")
    return found


@lru_cache(maxsize=8192)  # an export holds a few hundred distinct dates on a million rows
def _date(text: str) -> dt.date | None:
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
    return None


def parse_amount(text: object, *, default: Decimal | None = None) -> Decimal:
    """Plain decimals with 2 or 4 places (no $ or separators in Xero's exports)."""
    value = str(text or "").strip()
    if not value:
        if default is not None:
            return default
        raise RowError("no amount")
    try:
        return Decimal(value.replace(",", "") if "," in value else value)
    except InvalidOperation:
        raise RowError(f"{text!r} is not an amount") from None


INVOICE_FIELDS = tuple(INVOICE_HEADERS.synonyms)
(
    _NAME, _EMAIL, _NUMBER, _REFERENCE, _DATE, _DUE, _TOTAL, _ITEM, _DESCRIPTION, _QUANTITY, _UNIT, _AMOUNT,
    _CURRENCY, _TYPE, _STATUS, _CONTACT_ID, _INVOICE_ID,
) = range(len(INVOICE_FIELDS))  # fmt: skip
_ONE, _ZERO = Decimal("1"), Decimal("0")


def invoice_line(row: int, v: Sequence[str]) -> InvoiceLineRecord | None:
    """One export row (its values in `INVOICE_FIELDS` order) as a line record; None for
    a row that is not a sale (a bill). Called a million times for a big export: plain
    indexing, one clean-up per field."""
    kind_text = v[_TYPE].strip().lower()
    kind = TYPE_LABELS.get(kind_text)
    if kind is None:
        if kind_text in NOT_SALES:
            return None
        raise RowError(f"unknown Type {v[_TYPE]!r}")
    status = STATUS_LABELS.get(v[_STATUS].strip().lower())
    if status is None:
        raise RowError(f"unknown Status {v[_STATUS]!r}")
    name = clean(v[_NAME])
    if not name:
        raise RowError("no ContactName")
    number = v[_NUMBER].strip()
    if not number:
        raise RowError("no InvoiceNumber")
    amount = parse_amount(v[_AMOUNT])
    return InvoiceLineRecord(
        row=row,
        contact_name=name,
        number=number[:50],
        invoice_type=kind,
        status=status,
        date=parse_date(v[_DATE]),
        due_date=parse_date(v[_DUE], required=False),
        line_amount=-amount if kind == InvoiceType.CREDIT_NOTE and amount < 0 else amount,
        reference=v[_REFERENCE].strip()[:255],
        item_code=v[_ITEM].strip()[:50],
        description=v[_DESCRIPTION].strip(),
        quantity=parse_amount(v[_QUANTITY], default=_ONE),
        unit_amount=parse_amount(v[_UNIT], default=_ZERO),
        total=parse_amount(v[_TOTAL], default=_ZERO),
        currency=(v[_CURRENCY].strip() or "AUD").upper()[:3],
        email=v[_EMAIL].strip(),
        contact_id=v[_CONTACT_ID].strip(),
        invoice_id=v[_INVOICE_ID].strip(),
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
        invoices = self.kind == ImportKind.INVOICES
        fields = INVOICE_FIELDS if invoices else tuple(CONTACT_HEADERS.synonyms)
        width = len(self.headers)
        # A column the file lacks reads the "" appended after the row's own cells.
        pick = itemgetter(*(self.columns.get(name, width) for name in fields))
        with _text_stream(self.path) as stream:
            reader = csv.reader(stream)
            next(reader, None)
            for number, values in enumerate(reader, start=2):
                cells = [*values[:width], *[""] * (width + 1 - min(len(values), width))]
                picked = pick(cells)
                if not any(cell.strip() for cell in picked):
                    continue
                try:
                    if invoices:
                        record = invoice_line(number, picked)
                    else:
                        record = contact(number, dict(zip(fields, picked, strict=True)).get)
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
    """Formula-like text neutralised so a spreadsheet never executes it (as text)."""
    return spreadsheets.safe_text(value)


def rejected_csv(headers: list[str], rejected: list[Rejected]) -> str:
    if not rejected:
        return ""
    buffer = io.StringIO()
    writer = spreadsheets.csv_writer(buffer)
    writer.writerow([safe_cell(h) for h in headers] + ["Reason"])
    for item in rejected:
        values = list(item.values) + [""] * (len(headers) - len(item.values))
        writer.writerow([safe_cell(v) for v in values] + [f"row {item.row}: {item.reason}"])
    return buffer.getvalue()
