"""Reading ticket files: the helpdesk's CSV exports (Freshdesk or Zendesk shape) and the
support team's Excel triage sheet, through migration's header mapping.

This module only reads: it turns a file into numbered rows of canonical fields. Validation
(`forms.TicketRowForm`) and the all-or-nothing write (`services.import_tickets`) follow.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from cloudcore_crm.lib import spreadsheets
from cloudcore_crm.lib.headers import HeaderMap, MissingColumnsError, decode_csv_bytes
from migration.readers import MAX_CELL_CHARS, MAX_DATA_ROWS, FileRefused, check_workbook

FRESHDESK = "freshdesk"
ZENDESK = "zendesk"
TRIAGE = "triage"
KINDS = (FRESHDESK, ZENDESK, TRIAGE)
SOURCE_OF_KIND = {FRESHDESK: "freshdesk", ZENDESK: "zendesk", TRIAGE: "triage_sheet"}
CODE_HEADERS = ("Client code", "Customer code", "CC code", "Client ID", "CF Client code", "cf_client_code")

HEADER_MAPS: dict[str, HeaderMap] = {
    FRESHDESK: HeaderMap(
        synonyms={
            "external_id": ("Ticket ID",),
            "subject": ("Subject",),
            "status": ("Status",),
            "priority": ("Priority",),
            "opened_at": ("Created time",),
            "resolved_at": ("Resolved time",),
            "closed_at": ("Closed time",),
            "updated_at": ("Last update time",),
            "resolution_hours": ("Resolution time (in hrs)",),
            "satisfaction": ("Survey results", "Satisfaction"),
            "tags": ("Tags",),
            "product": ("Product",),
            "email": ("Email",),
            "company": ("Company Name",),
            "customer_code": CODE_HEADERS,
        },
        required=("external_id", "subject", "status", "opened_at"),
    ),
    ZENDESK: HeaderMap(
        synonyms={
            "external_id": ("Id",),
            "subject": ("Subject",),
            "status": ("Status",),
            "priority": ("Priority",),
            "opened_at": ("Created at",),
            "resolved_at": ("Solved at",),
            "updated_at": ("Updated at",),
            "resolution_hours": ("Resolution time",),
            "satisfaction": ("Satisfaction Score",),
            "tags": ("Tags",),
            "email": ("Requester email",),
            "company": ("Organization",),
            "organization_id": ("Organization id",),
            "customer_code": CODE_HEADERS,
        },
        required=("external_id", "subject", "status", "opened_at"),
    ),
    # The triage sheet support keeps in Excel: one row per ticket worth watching.
    TRIAGE: HeaderMap(
        synonyms={
            "external_id": ("Ticket ID", "Ticket", "Ticket #", "Ref"),
            "customer_code": CODE_HEADERS,
            "company": ("Client", "Client name", "Customer"),
            "email": ("Contact email", "Email"),
            "opened_at": ("Logged", "Date logged", "Opened"),
            "subject": ("Issue", "Summary", "Subject"),
            "product": ("Product", "Service"),
            "priority": ("Priority",),
            "status": ("Status",),
            "resolved_at": ("Resolved", "Date resolved"),
            "resolution_hours": ("Hours", "Resolution hours"),
            "satisfaction": ("CSAT", "Satisfaction", "CSAT (0-10)"),
        },
        required=("external_id", "opened_at", "subject", "status"),
    ),
}
TRIAGE_HEADERS = (
    "Ticket ID",
    "Client code",
    "Client",
    "Contact email",
    "Logged",
    "Issue",
    "Product",
    "Priority",
    "Status",
    "Resolved",
    "Hours",
    "CSAT",
)
HEADER_SEARCH_ROWS = 10  # a triage sheet may have a title row or two above its header


@dataclass
class RawRow:
    """One data row: its number in the file (1 = header row), the original cells by header,
    and the canonical fields."""

    number: int
    original: dict[str, object]
    fields: dict[str, object]


@dataclass
class ParsedFile:
    kind: str
    headers: list[str]
    rows: list[RawRow] = field(default_factory=list)


def detect_kind(name: str, headers: list[object] | None = None) -> str:
    if Path(name).suffix.lower() in (".xlsx", ".xlsm"):
        return TRIAGE
    if headers is None:
        return FRESHDESK
    scores = {kind: HEADER_MAPS[kind].score(headers) for kind in (FRESHDESK, ZENDESK)}
    return max(scores, key=lambda kind: (scores[kind], kind == FRESHDESK))


def _csv_rows(data: bytes, name: str) -> list[list[str]]:
    """Every row, refused past the row limit or at an overlong cell or a broken line."""
    rows = []
    if data.count(b"\n") > MAX_DATA_ROWS + HEADER_SEARCH_ROWS:
        # Counted before any row is kept: quoted fields may span lines, so lines only bound rows.
        counter = csv.reader(io.StringIO(decode_csv_bytes(data), newline=""))
        try:
            if sum(1 for values in counter if any(values)) > MAX_DATA_ROWS + HEADER_SEARCH_ROWS:
                raise FileRefused(f"{name} has more than {MAX_DATA_ROWS:,} rows; split the file.")
        except csv.Error as error:
            raise FileRefused(f"{name} line {counter.line_num}: {error}") from None
    reader = csv.reader(io.StringIO(decode_csv_bytes(data), newline=""))
    try:
        for values in reader:
            if "\x00" in "".join(values):  # NUL: no database column stores it
                values = [value.replace("\x00", "") for value in values]
            rows.append(values)
            if len(rows) > MAX_DATA_ROWS + HEADER_SEARCH_ROWS:
                raise FileRefused(f"{name} has more than {MAX_DATA_ROWS:,} rows; split the file.")
            if values and max(map(len, values)) > MAX_CELL_CHARS:
                raise FileRefused(f"{name} line {reader.line_num} holds a cell over {MAX_CELL_CHARS:,} characters.")
    except csv.Error as error:
        raise FileRefused(f"{name} line {reader.line_num}: {error}") from None
    return rows


def _xlsx_rows(data: bytes, name: str) -> list[list[object]]:
    """The triage sheet's rows; the workbook is checked (damage, extent, rows) before
    openpyxl reads it, and anything openpyxl cannot read refuses the file."""
    try:
        return _read_xlsx(data, name)
    except FileRefused:
        raise
    except Exception as error:  # openpyxl raises many kinds for a damaged workbook
        raise FileRefused(f"{name} could not be read as a workbook ({error.__class__.__name__}).") from None


def _read_xlsx(data: bytes, name: str) -> list[list[object]]:
    from openpyxl import load_workbook

    check_workbook(io.BytesIO(data), name)
    # read_only streams rows; data_only gives cached values of formulas.
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = next(
            (ws for ws in workbook.worksheets if ws.sheet_state == "visible" and ws.title.lower().startswith("triage")),
            None,
        ) or next(ws for ws in workbook.worksheets if ws.sheet_state == "visible")
        return [
            [value.replace("\x00", "") if isinstance(value, str) else value for value in row]  # no NUL stored
            for row in sheet.iter_rows(values_only=True)
        ]
    finally:
        workbook.close()


def _header_index(rows: list[list[object]], header_map: HeaderMap) -> int:
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if header_map.score(row) == 1:
            return index
    return 0


def read(data: bytes, *, name: str, kind: str | None = None) -> ParsedFile:
    """Rows of a ticket file by canonical field; raises MissingColumnsError."""
    is_excel = Path(name).suffix.lower() in (".xlsx", ".xlsm")
    table = _xlsx_rows(data, name) if is_excel else _csv_rows(data, name)
    if not table:
        raise MissingColumnsError(["a header row"])
    kind = kind or detect_kind(name, table[0])
    header_map = HEADER_MAPS[kind]
    start = _header_index(table, header_map)
    headers = ["" if cell is None else str(cell).strip() for cell in table[start]]
    try:
        columns = header_map.resolve(headers)
    except MissingColumnsError as error:
        # Name the columns as the file would, not by their canonical field.
        labels = [(header_map.synonyms[name] or (name,))[0] for name in error.missing]
        raise MissingColumnsError(labels) from None
    parsed = ParsedFile(kind=kind, headers=headers)
    for offset, row in enumerate(table[start + 1 :], start=start + 2):
        if all(cell is None or str(cell).strip() == "" for cell in row):
            continue
        original = {header: (row[i] if i < len(row) else None) for i, header in enumerate(headers) if header}
        parsed.rows.append(RawRow(number=offset, original=original, fields=HeaderMap.row_dict(row, columns)))
    return parsed


def rejected_csv(parsed_headers: list[str], rejected: list[tuple[RawRow, str]]) -> bytes:
    """The rejected rows with their original columns plus a Reason, as a UTF-8 CSV."""
    out = io.StringIO()
    writer = spreadsheets.csv_writer(out, lineterminator="\r\n")  # formula-safe cells
    headers = [h for h in parsed_headers if h]
    writer.writerow(["Row", *headers, "Reason"])
    for row, reason in rejected:
        writer.writerow(
            [row.number, *("" if row.original.get(h) is None else row.original.get(h) for h in headers), reason]
        )
    return out.getvalue().encode("utf-8-sig")
