"""Reading legacy files safely: recognise the type by content, refuse zip bombs and huge
files before parsing, stream rows with bounded memory.

Every reader yields `SourceRow(sheet, number, values)` with `number` as a person sees it
(the spreadsheet row, or the CSV line counting the header as 1).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string

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
_MAX_CELL_BYTES = 1 << 20


def _formulas_without_values(path: Path, part: str) -> dict[int, list[int]]:
    """Per row, the column indexes of formula cells with no saved value (a file saved by
    a tool that does not calculate), read from the sheet's XML in chunks rather than by
    parsing the workbook a second time."""
    found: dict[int, list[int]] = {}
    with zipfile.ZipFile(path) as archive, archive.open(part) as stream:
        for row, column in sorted(_scan_formula_cells(stream)):
            found.setdefault(row, []).append(column)
    return found


def _scan_formula_cells(part: io.BufferedIOBase) -> set[tuple[int, int]]:
    cells: set[tuple[int, int]] = set()
    carry = b""
    while True:
        chunk = part.read(1 << 20)
        data = carry + chunk
        # Only whole cells are scanned; the rest waits for the next chunk.
        cut = data.rfind(b"</c>") + 4 if chunk else len(data)
        if cut < 4:
            if len(data) > _MAX_CELL_BYTES:
                raise FileRefused("A worksheet holds a cell too large to read.")
            carry = data
            continue
        block, carry = data[:cut], data[cut:]
        for match in _FORMULA_TAG.finditer(block):
            start = block.rfind(b"<c ", 0, match.start())
            end = block.find(b"</c>", match.start())
            ref = _CELL_REF.search(block, start, block.find(b">", start))
            if start < 0 or ref is None:
                continue
            if not _SAVED_VALUE.search(block, match.start(), end if end >= 0 else len(block)):
                cells.add((int(ref[2]), column_index_from_string(ref[1].decode()) - 1))
        if not chunk:
            return cells


def xlsx_tables(path: Path, maps: list[HeaderMap]) -> Iterator[Table]:
    """Each visible-or-hidden sheet whose header row fits one of `maps`.

    Streams with openpyxl's read-only mode (bounded memory). Cells holding a formula with
    no cached value (a file saved by a tool that does not calculate) come through as the
    marker `FORMULA_WITHOUT_VALUE`, so importers can reject them instead of reading zero.
    """
    check_zip(path)
    try:
        values_book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged parts
        raise FileRefused(f"{path.name} could not be read as a workbook ({exc.__class__.__name__}).") from exc
    try:
        for ws in values_book.worksheets:
            ws.reset_dimensions()  # stored dimensions may be wrong; read what is there
            head = [
                (i, _trimmed(r)) for i, r in enumerate(ws.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True), 1)
            ]
            located = _locate_header(head, maps)
            if located is None:
                continue
            header_row, headers, _score = located
            preamble = [values for number, values in head if number < header_row]
            part = ws._worksheet_path.lstrip("/")
            yield Table(ws.title, header_row, headers, _xlsx_rows(ws, header_row, path, part), preamble)
    finally:
        values_book.close()


FORMULA_WITHOUT_VALUE = object()


def _xlsx_rows(ws, header_row: int, path: Path, part: str) -> Iterator[SourceRow]:
    formula_cells = _formulas_without_values(path, part)  # only once the rows are wanted
    count = 0
    for number, values in enumerate(ws.iter_rows(min_row=header_row + 1, values_only=True), header_row + 1):
        row = list(values)
        for column in formula_cells.get(number, ()):
            row.extend([None] * (column + 1 - len(row)))
            if row[column] is None:
                row[column] = FORMULA_WITHOUT_VALUE
        row = _trimmed(row)
        if not row:
            continue
        count += 1
        if count > MAX_DATA_ROWS:
            raise FileRefused(f"Sheet {ws.title} has more than {MAX_DATA_ROWS:,} rows; split the file.")
        yield SourceRow(ws.title, number, row)


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
            if not any(v.strip() for v in values):
                continue
            count += 1
            if count > MAX_DATA_ROWS:
                raise FileRefused(f"{path.name} has more than {MAX_DATA_ROWS:,} rows; split the file.")
            yield SourceRow("", reader.line_num, values)
    finally:
        handle.close()
