"""Reading legacy files safely: recognise the type by content, refuse zip bombs and huge
files before parsing, read rows with bounded memory (CSV streams; a workbook sheet is
loaded whole, after a scan of its XML has refused one with too many rows).

Every reader yields `SourceRow(sheet, number, values)` with `number` as a person sees it
(the spreadsheet row, or the CSV line counting the header as 1).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from openpyxl.utils import column_index_from_string
from python_calamine import CalamineSheet, CalamineWorkbook, SheetTypeEnum

from cloudcore_crm.lib.headers import HeaderMap

MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 500 * 1024 * 1024
MAX_ZIP_ENTRIES = 2_000
MAX_COMPRESSION_RATIO = 200
MAX_DATA_ROWS = 200_000
HEADER_SEARCH_ROWS = 15


class FileRefused(ValueError):
    """The whole file cannot be imported; the message says why and what to do."""


@dataclass
class SourceRow:
    sheet: str
    number: int
    values: list[object]


@dataclass
class Table:
    """One sheet (or a CSV) with its header row located."""

    sheet: str
    header_row: int
    headers: list[object]
    rows: Iterator[SourceRow]
    preamble: list[list[object]] = field(default_factory=list)  # rows above the header (titles)


def sniff_kind(path: Path) -> str:
    """'xlsx' or 'csv' from the first bytes, not the name; anything else is refused."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise FileRefused(f"{path.name} is larger than {MAX_FILE_BYTES // 1024 // 1024} MB; split it.")
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused(f"{path.name} is an old .xls workbook; save it as .xlsx and upload again.")
    if head.startswith((b"%PDF", b"\x7fELF", b"\x1f\x8b", b"MZ")) or b"\x00" in head:
        raise FileRefused(f"{path.name} is not a spreadsheet or a CSV file.")
    return "csv"


def check_zip(path: Path) -> None:
    """Refuse a workbook whose archive would expand beyond reason (a zip bomb)."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ZIP_ENTRIES:
                raise FileRefused(f"{path.name} has {len(entries):,} parts; that is not a normal workbook.")
            total = sum(e.file_size for e in entries)
            if total > MAX_UNCOMPRESSED_BYTES:
                raise FileRefused(f"{path.name} would expand to {total // 1024 // 1024:,} MB; refused.")
            for entry in entries:
                ratio = entry.file_size / entry.compress_size if entry.compress_size else 0
                if ratio > MAX_COMPRESSION_RATIO and entry.file_size > 10 * 1024 * 1024:
                    raise FileRefused(f"{path.name} is compressed suspiciously well (a zip bomb?); refused.")
            if "xl/workbook.xml" not in archive.namelist():
                raise FileRefused(f"{path.name} is a zip archive but not an Excel workbook.")
    except zipfile.BadZipFile as exc:
        raise FileRefused(f"{path.name} is damaged or truncated; it cannot be opened as .xlsx.") from exc


def _trimmed(values: tuple | list) -> list[object]:
    values = list(values)
    while values and values[-1] in (None, ""):
        values.pop()
    return values


def _locate_header(
    rows: list[tuple[int, list[object]]], maps: list[HeaderMap]
) -> tuple[int, list[object], float] | None:
    best = None
    for number, values in rows:
        score = max(m.score(values) for m in maps)
        if score > 0 and (best is None or score > best[2]):
            best = (number, values, score)
    return best


_FORMULA_TAG = re.compile(rb"<f[\s>/]")
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_SAVED_VALUE = re.compile(rb"<v>\s*[^<\s][^<]*</v>")
_ROW_TAG = re.compile(rb"<row[\s>/]")
_MAX_CELL_BYTES = 1 << 20
_RELATIONSHIPS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


@dataclass
class SheetScan:
    """What the sheet's XML says before it is loaded: how many rows it holds, and per row
    the column indexes of formula cells with no saved value (a file saved by a tool that
    does not calculate)."""

    rows: int
    formulas_without_values: dict[int, list[int]]


def sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> the worksheet's part inside the archive, from the workbook and its
    relationships (the part names need not follow the sheet order)."""
    try:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError) as exc:
        raise FileRefused(f"{Path(archive.filename or '').name} has no readable sheet list.") from exc
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    parts = {}
    for sheet in workbook.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet"):
        target = targets.get(sheet.get(_RELATIONSHIPS), "")
        parts[sheet.get("name")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return parts


def scan_sheet(archive: zipfile.ZipFile, part: str) -> SheetScan:
    """One pass over the sheet's XML in chunks, without parsing it."""
    cells: set[tuple[int, int]] = set()
    rows = 0
    carry = b""
    with archive.open(part) as stream:
        while True:
            chunk = stream.read(1 << 20)
            data = carry + chunk
            # Only whole cells are scanned; the rest waits for the next chunk.
            cut = data.rfind(b"</c>") + 4 if chunk else len(data)
            if cut < 4:
                if len(data) > _MAX_CELL_BYTES:
                    raise FileRefused("A worksheet holds a cell too large to read.")
                carry = data
                continue
            block, carry = data[:cut], data[cut:]
            rows += len(_ROW_TAG.findall(block))
            for match in _FORMULA_TAG.finditer(block):
                start = block.rfind(b"<c ", 0, match.start())
                end = block.find(b"</c>", match.start())
                ref = _CELL_REF.search(block, start, block.find(b">", start))
                if start < 0 or ref is None:
                    continue
                if not _SAVED_VALUE.search(block, match.start(), end if end >= 0 else len(block)):
                    cells.add((int(ref[2]), column_index_from_string(ref[1].decode()) - 1))
            if not chunk:
                break
    found: dict[int, list[int]] = {}
    for row, column in sorted(cells):
        found.setdefault(row, []).append(column)
    return SheetScan(rows, found)


@dataclass
class LoadedSheet:
    """A worksheet calamine has loaded, with what the scan of its XML found."""

    name: str
    sheet: CalamineSheet
    scan: SheetScan


# Path -> its loaded worksheets, kept by an import run between recognising a workbook and
# importing it, so the workbook is loaded once (calamine loads a sheet whole).
LoadedSheets = dict[Path, list[LoadedSheet]]


def xlsx_tables(path: Path, maps: list[HeaderMap], loaded: LoadedSheets | None = None) -> Iterator[Table]:
    """Each visible-or-hidden sheet whose header row fits one of `maps`.

    Read with calamine (python-calamine), about ten times faster than openpyxl on these
    files. A sheet is loaded whole, so its XML is scanned first and a sheet with too many
    rows is refused before it is loaded (bounded memory). Cells holding a formula with no
    cached value come through as the marker `FORMULA_WITHOUT_VALUE`, so importers can
    reject them instead of reading zero. With `loaded`, the sheets are taken from it, or
    loaded and kept there.
    """
    sheets = loaded.get(path) if loaded is not None else None
    if sheets is None:
        sheets = load_sheets(path)
        if loaded is not None:
            loaded[path] = sheets
    for item in sheets:
        rows = _sheet_rows(item.sheet)
        head = list(itertools.islice(rows, HEADER_SEARCH_ROWS))
        located = _locate_header(head, maps)
        if located is None:
            continue
        header_row, headers, _score = located
        preamble = [values for number, values in head if number < header_row]
        after_header = itertools.chain(((n, v) for n, v in head if n > header_row), rows)
        yield Table(item.name, header_row, headers, _xlsx_rows(item.name, after_header, item.scan), preamble)


def load_sheets(path: Path) -> list[LoadedSheet]:
    """Every worksheet of the workbook, loaded; refused whole when damaged or too big."""
    check_zip(path)
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own errors and ValueError for damaged parts
        raise FileRefused(f"{path.name} could not be read as a workbook ({exc.__class__.__name__}).") from exc
    sheets = []
    try:
        with zipfile.ZipFile(path) as archive:
            parts = sheet_parts(archive)
            for meta in book.sheets_metadata:
                name = meta.name
                if meta.typ != SheetTypeEnum.WorkSheet or name not in parts:
                    continue  # chart and macro sheets hold no rows
                scan = scan_sheet(archive, parts[name])
                if scan.rows > MAX_DATA_ROWS + HEADER_SEARCH_ROWS:
                    raise FileRefused(f"Sheet {name} has more than {MAX_DATA_ROWS:,} rows; split the file.")
                try:
                    sheets.append(LoadedSheet(name, book.get_sheet_by_name(name), scan))
                except Exception as exc:
                    problem = exc.__class__.__name__
                    raise FileRefused(f"{path.name}: sheet {name} could not be read ({problem}).") from exc
    finally:
        book.close()  # the loaded sheets keep their cells
    return sheets


def _cell(value: object) -> object:
    """A calamine value as openpyxl gives it: empty is None, a whole number an int, a
    date a datetime (what the parsers and the tests were written against)."""
    if value == "":
        return None
    if type(value) is float and value.is_integer():
        return int(value)
    if type(value) is dt.date:
        return dt.datetime(value.year, value.month, value.day)
    return value


def _sheet_rows(sheet: CalamineSheet) -> Iterator[tuple[int, list[object]]]:
    """(spreadsheet row number, trimmed values) for every row, numbered as Excel shows them.

    calamine's rows start at the sheet's first row but its columns at the first used
    column; the leading empty columns are put back so column positions match the sheet
    (pinned by `tests/test_migration_readers.py`)."""
    first_column = sheet.start[1] if sheet.start else 0
    padding = [None] * first_column
    for number, values in enumerate(sheet.iter_rows(), 1):
        yield number, _trimmed(padding + [_cell(v) for v in values])


FORMULA_WITHOUT_VALUE = object()


def _xlsx_rows(sheet: str, rows: Iterator[tuple[int, list[object]]], scan: SheetScan) -> Iterator[SourceRow]:
    formula_cells = scan.formulas_without_values
    count = 0
    for number, row in rows:
        for column in formula_cells.get(number, ()):
            row.extend([None] * (column + 1 - len(row)))
            if row[column] is None:
                row[column] = FORMULA_WITHOUT_VALUE
        row = _trimmed(row)
        if not row:
            continue
        count += 1
        if count > MAX_DATA_ROWS:
            raise FileRefused(f"Sheet {sheet} has more than {MAX_DATA_ROWS:,} rows; split the file.")
        yield SourceRow(sheet, number, row)


def csv_table(path: Path, maps: list[HeaderMap]) -> Table:
    """The CSV's header and a row stream. UTF-8 (with or without BOM) or Windows-1252."""
    with open(path, "rb") as handle:
        sample = handle.read(64 * 1024)
    encoding = "utf-8-sig"
    try:
        sample.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # not just a character cut at the sample's end
            encoding = "cp1252"
    handle = open(path, newline="", encoding=encoding, errors="strict")  # noqa: SIM115 - closed by the generator
    reader = csv.reader(handle)
    try:
        headers = next(reader)
    except (StopIteration, UnicodeDecodeError, csv.Error) as exc:
        handle.close()
        raise FileRefused(f"{path.name} has no header row.") from exc
    if not maps or max(m.score(headers) for m in maps) == 0:
        handle.close()
        raise FileRefused(f"{path.name}: its columns ({', '.join(map(str, headers[:6]))}…) match no known export.")
    return Table("", 1, headers, _csv_rows(path, handle, reader))


def _csv_rows(path: Path, handle: io.TextIOBase, reader) -> Iterator[SourceRow]:
    count = 0
    try:
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                raise FileRefused(
                    f"{path.name} changes text encoding after line {reader.line_num}; save it as UTF-8."
                ) from exc
            except csv.Error as exc:
                raise FileRefused(f"{path.name} line {reader.line_num}: {exc}") from exc
            if not "".join(values).strip():  # an empty line (one C call, not a generator per row)
                continue
            count += 1
            if count > MAX_DATA_ROWS:
                raise FileRefused(f"{path.name} has more than {MAX_DATA_ROWS:,} rows; split the file.")
            yield SourceRow("", reader.line_num, values)
    finally:
        handle.close()
