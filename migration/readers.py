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
import posixpath
import re
import zipfile
import zlib
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
# calamine loads a sheet as one rectangle of cells (about 32 bytes each) from A1 to its
# farthest cell, so one far-away cell in a 5 KB file would allocate gigabytes: a sheet's
# declared and actual extent are checked against this before calamine sees it.
MAX_SHEET_CELLS = 8_000_000
MAX_COLUMNS = 16_384  # Excel's own limit (XFD)
# Excel's own limit on a cell's text; a longer value is a hostile file, not a client.
MAX_CELL_CHARS = 32_767


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


def check_zip(path: Path | io.BytesIO, name: str = "") -> None:
    """Refuse a workbook whose archive would expand beyond reason (a zip bomb)."""
    path = _Named(path, name)
    try:
        with zipfile.ZipFile(path.source) as archive:
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
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise FileRefused(f"{path.name} is damaged or truncated; it cannot be opened as .xlsx.") from exc


@dataclass
class _Named:
    """A workbook given as a path or as bytes in memory, with the name to refuse it by."""

    source: Path | io.BytesIO
    given: str = ""

    @property
    def name(self) -> str:
        return self.given or Path(str(getattr(self.source, "name", self.source))).name


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


# Tags may carry a namespace prefix (`<x:f>`): a formula hidden that way still counts.
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_SAVED_VALUE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?v>\s*[^<\s][^<]*</(?:[A-Za-z_][\w.-]*:)?v>")
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s>/]")
_ROW_NUMBER = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?row\b[^>]*?\sr="(\d+)"')
_WIDE_CELL_REF = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?c\b[^>]*?\sr="([A-Z]{2,})(\d+)"')
_DIMENSION = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?dimension\s+ref="([^"]*)"')
_CELL_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?c>")
_CELL_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\s")
_A1 = re.compile(r"^\$?([A-Z]{1,4})\$?(\d{1,9})$")
_MAX_CELL_BYTES = 1 << 20
_RELATIONSHIPS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


@dataclass
class SheetScan:
    """What the sheet's XML says before it is loaded: how many rows it holds, and per row
    the column indexes of formula cells with no saved value (a file saved by a tool that
    does not calculate)."""

    rows: int
    formulas_without_values: dict[int, list[int]]


_DECLARED_COUNT = re.compile(rb'\b(?:count|uniqueCount)="(\d+)"')


def _check_declared_counts(archive: zipfile.ZipFile, name: str) -> None:
    """calamine reserves room for the shared strings (and styles) a workbook declares, so
    a count of two billion in a 1 KB part would allocate tens of gigabytes."""
    for part in archive.namelist():
        if part.lower().rsplit("/", 1)[-1] not in ("sharedstrings.xml", "styles.xml"):
            continue
        with archive.open(part) as stream:
            head = stream.read(4096)
        if any(int(count) > MAX_SHEET_CELLS for count in _DECLARED_COUNT.findall(head)):
            raise FileRefused(f"{name} declares more strings or styles than a workbook can hold; refused.")


def sheet_parts(archive: zipfile.ZipFile, name: str = "") -> dict[str, str]:
    """Sheet name -> the worksheet's part inside the archive, from the workbook and its
    relationships (the part names need not follow the sheet order)."""
    name = name or Path(archive.filename or "").name
    try:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError) as exc:
        raise FileRefused(f"{name} has no readable sheet list.") from exc
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    names = set(archive.namelist())
    parts = {}
    for sheet in workbook.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet"):
        target = targets.get(sheet.get(_RELATIONSHIPS), "")
        part = _part_name(target)
        if part is None or part not in names:
            raise FileRefused(
                f"{name}: sheet {sheet.get('name')} points outside the workbook "
                f"({target[:80]!r}); save it again from Excel."
            )
        parts[sheet.get("name")] = part
    return parts


def _part_name(target: str) -> str | None:
    """A relationship target as a part name inside the archive (relative to `xl/`, or
    absolute from the package root); None when it leaves the package or names nothing."""
    target = target.replace("\\", "/").strip()
    if not target or "://" in target:
        return None
    joined = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    part = posixpath.normpath(joined)
    if part.startswith("../") or part in (".", "..") or part.startswith("/"):
        return None
    return part


def _dimension_extent(ref: bytes) -> tuple[int, int] | None:
    """(rows, columns) a `<dimension ref="A1:K200">` declares; None when unreadable."""
    corners = ref.decode("ascii", "replace").upper().split(":")
    found = [_A1.match(c.strip()) for c in corners]
    if not found or any(m is None for m in found):
        return None
    rows = max(int(m[2]) for m in found)
    columns = max(column_index_from_string(m[1]) if len(m[1]) <= 3 else MAX_COLUMNS + 1 for m in found)
    return rows, columns


def _check_extent(name: str, rows: int, columns: int, *, declared: bool = False) -> None:
    what = "declares" if declared else "reaches"
    if columns > MAX_COLUMNS or rows * max(columns, 1) > MAX_SHEET_CELLS:
        raise FileRefused(
            f"Sheet {name} {what} {rows:,} rows x {columns:,} columns; that is beyond what an import reads "
            f"({MAX_SHEET_CELLS:,} cells). Delete the far-away cells or split the file."
        )
    if rows > MAX_DATA_ROWS + HEADER_SEARCH_ROWS:
        raise FileRefused(f"Sheet {name} has more than {MAX_DATA_ROWS:,} rows; split the file.")


def _last_cell_end(data: bytes) -> int:
    """Where the last whole cell in `data` ends (0 when none does)."""
    end = data.rfind(b"c>")
    while end >= 0:
        match = _CELL_END.search(data, max(0, end - 64), end + 2)
        if match is not None and match.end() == end + 2:
            return match.end()
        end = data.rfind(b"c>", 0, end)
    return 0


def scan_sheet(archive: zipfile.ZipFile, part: str, name: str = "") -> SheetScan:
    """One pass over the sheet's XML in chunks, without parsing it. Refuses a sheet whose
    declared or actual extent (rows x columns) is beyond what calamine may allocate."""
    cells: set[tuple[int, int]] = set()
    rows = max_row = max_column = 0
    carry = b""
    first = True
    name = name or part
    with archive.open(part) as stream:
        while True:
            chunk = stream.read(1 << 20)
            data = carry + chunk
            if first:
                first = False
                declared = _DIMENSION.search(data[:4096])
                extent = _dimension_extent(declared[1]) if declared else None
                if extent is not None:
                    _check_extent(name, *extent, declared=True)
            # Only whole cells are scanned; the rest waits for the next chunk.
            cut = _last_cell_end(data) if chunk else len(data)
            if cut == 0:
                if len(data) > _MAX_CELL_BYTES:
                    raise FileRefused(f"Sheet {name} holds a cell too large to read.")
                carry = data
                continue
            block, carry = data[:cut], data[cut:]
            rows += len(_ROW_TAG.findall(block))
            numbers = _ROW_NUMBER.findall(block)
            if numbers:
                max_row = max(max_row, *map(int, numbers))
            for letters, number in _WIDE_CELL_REF.findall(block):
                max_row = max(max_row, int(number))
                column = column_index_from_string(letters.decode()) if len(letters) <= 3 else MAX_COLUMNS + 1
                max_column = max(max_column, column)
            _check_extent(name, max(rows, max_row), max(max_column, 26))
            for match in _FORMULA_TAG.finditer(block):
                # The last cell opening before the formula is its cell.
                opening = None
                for found in _CELL_START.finditer(block, max(0, match.start() - 2048), match.start()):
                    opening = found
                end = _CELL_END.search(block, match.start())
                if opening is None:
                    continue
                ref = _CELL_REF.search(block, opening.start(), block.find(b">", opening.start()))
                if ref is None:
                    continue
                if not _SAVED_VALUE.search(block, match.start(), end.start() if end else len(block)):
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


def check_workbook(source: Path | io.BytesIO, name: str = "") -> dict[str, SheetScan]:
    """Refuse a workbook that is damaged (bad CRC, truncated, parts outside the package)
    or too big to load (archive size, sheet extent, rows), before any reader loads it.
    Returns each sheet's scan by sheet name."""
    name = name or Path(str(getattr(source, "name", source))).name
    check_zip(source, name)
    try:
        with zipfile.ZipFile(source) as archive:
            _check_declared_counts(archive, name)
            parts = sheet_parts(archive, name)
            return {sheet: scan_sheet(archive, part, sheet) for sheet, part in parts.items()}
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, ValueError) as exc:
        if isinstance(exc, FileRefused):
            raise
        raise FileRefused(f"{name} is damaged ({exc.__class__.__name__}); save it again from Excel.") from exc


def load_sheets(path: Path) -> list[LoadedSheet]:
    """Every worksheet of the workbook, loaded; refused whole when damaged or too big.
    Every sheet is scanned (and refused if too big) before calamine allocates anything."""
    scans = check_workbook(path)
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own errors and ValueError for damaged parts
        raise FileRefused(f"{path.name} could not be read as a workbook ({exc.__class__.__name__}).") from exc
    sheets = []
    try:
        for meta in book.sheets_metadata:
            name = meta.name
            if meta.typ != SheetTypeEnum.WorkSheet or name not in scans:
                continue  # chart and macro sheets hold no rows
            try:
                sheets.append(LoadedSheet(name, book.get_sheet_by_name(name), scans[name]))
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
    if type(value) is str and "\x00" in value:  # `_x0000_` in the XML: no column stores NUL
        return value.replace("\x00", "") or None
    if type(value) is float and value.is_integer():
        return int(value)
    if type(value) is dt.date:
        return dt.datetime(value.year, value.month, value.day)
    return value


def _sheet_rows(sheet: CalamineSheet) -> Iterator[tuple[int, list[object]]]:
    """(spreadsheet row number, trimmed values) for every row, numbered as Excel shows them.

    calamine's rows start at the sheet's first row but its columns at the first used
    column; the leading empty columns are put back so column positions match the sheet
    (pinned by `tests/test_migration_readers.py`). A cell merged down over several rows
    (a client typed once beside its two deals) gives its value to each of those rows:
    Excel keeps it in the top cell only."""
    first_column = sheet.start[1] if sheet.start else 0
    padding = [None] * first_column
    down = _merged_down(sheet)
    if not down:
        for number, values in enumerate(sheet.iter_rows(), 1):
            yield number, _trimmed(padding + [_cell(v) for v in values])
        return
    kept: dict[tuple[int, int], object] = {}  # (top row, column) -> its value
    for number, values in enumerate(sheet.iter_rows(), 1):
        row = padding + [_cell(v) for v in values]
        for column, top in down.get(number, ()):
            if top == number:
                kept[(top, column)] = row[column] if column < len(row) else None
            elif column >= len(row) or row[column] is None:
                row.extend([None] * (column + 1 - len(row)))
                row[column] = kept.get((top, column))
        yield number, _trimmed(row)


def _merged_down(sheet: CalamineSheet) -> dict[int, list[tuple[int, int]]]:
    """Row number -> (column, top row) of each cell merged down to it from the row above,
    the top row included. Merges within one row (titles, group headers) are left alone:
    spreading a title across the columns would put it in cells it does not describe."""
    down: dict[int, list[tuple[int, int]]] = {}
    filled = 0
    for (top, left), (bottom, _right) in sheet.merged_cell_ranges or ():
        if bottom <= top:
            continue
        filled += bottom - top
        if filled > MAX_DATA_ROWS:  # a hostile merge list: no sheet fills more cells than it has rows
            break
        for number in range(top + 1, bottom + 2):  # 0-based in calamine, 1-based here
            down.setdefault(number, []).append((left, top + 1))
    return down


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
        if any(type(v) is str and len(v) > MAX_CELL_CHARS for v in row):
            raise FileRefused(f"Sheet {sheet} row {number} holds a cell over {MAX_CELL_CHARS:,} characters.")
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
    _refuse_past_row_limit(path, encoding, handle)
    return Table("", 1, headers, _csv_rows(path, handle, reader))


def _refuse_past_row_limit(path: Path, encoding: str, opened: io.TextIOBase) -> None:
    """Refuse a CSV with too many rows before any row is processed: lines are counted in
    binary chunks (a fast upper bound on rows), and only a file with more lines than the
    limit is counted row by row (quoted fields may span lines), stopping past the limit."""
    lines = 0
    with open(path, "rb") as raw:
        while chunk := raw.read(1 << 20):
            lines += chunk.count(b"\n")
    if lines <= MAX_DATA_ROWS + 1:
        return
    with open(path, newline="", encoding=encoding, errors="replace") as handle:
        try:
            rows = sum(1 for values in itertools.islice(csv.reader(handle), MAX_DATA_ROWS + 2) if any(values))
        except csv.Error:
            return  # the row stream reports the broken line with its number
    if rows > MAX_DATA_ROWS + 1:
        opened.close()
        raise FileRefused(f"{path.name} has more than {MAX_DATA_ROWS:,} rows; split the file.")


def _csv_rows(path: Path, handle: io.TextIOBase, reader) -> Iterator[SourceRow]:
    count = 0
    # Rows are numbered as a spreadsheet shows them: one per record, blank ones included.
    # `reader.line_num` counts lines, and a cell may hold line breaks (an Outlook note, an
    # address), which would move every later row's number on.
    number = reader.line_num
    try:
        while True:
            try:
                values = next(reader)
                number += 1
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                raise FileRefused(
                    f"{path.name} changes text encoding after line {reader.line_num}; save it as UTF-8."
                ) from exc
            except csv.Error as exc:
                raise FileRefused(f"{path.name} line {reader.line_num}: {exc}") from exc
            joined = "".join(values)
            if not joined.strip():  # an empty line (one C call, not a generator per row)
                continue
            if "\x00" in joined:  # NUL: no database column stores it (PostgreSQL refuses the row)
                values = [value.replace("\x00", "") for value in values]
            count += 1
            if count > MAX_DATA_ROWS:
                raise FileRefused(f"{path.name} has more than {MAX_DATA_ROWS:,} rows; split the file.")
            if max(map(len, values)) > MAX_CELL_CHARS:
                raise FileRefused(
                    f"{path.name} line {reader.line_num} holds a cell over {MAX_CELL_CHARS:,} characters."
                )
            yield SourceRow("", number, values)
    finally:
        handle.close()
