"""Reading legacy files safely: recognise the type by content, refuse zip bombs and huge
files before parsing, stream rows with bounded memory.

Every reader yields `SourceRow(sheet, number, values)` with `number` as a person sees it
(the spreadsheet row, or the CSV line counting the header as 1).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import load_workbook

from migration.headers import HeaderMap

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


def _formula_sheets(path: Path) -> set[str]:
    """Worksheet parts that contain formulas (cheap byte scan, no XML parsing)."""
    found = set()
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/sheet") and name.endswith(".xml"):
                with archive.open(name) as part:
                    while chunk := part.read(1 << 20):
                        if b"<f>" in chunk or b"<f " in chunk:
                            found.add(name)
                            break
    return found


def xlsx_tables(path: Path, maps: list[HeaderMap]) -> Iterator[Table]:
    """Each visible-or-hidden sheet whose header row fits one of `maps`.

    Streams with openpyxl's read-only mode (bounded memory). Cells holding a formula with
    no cached value (a file saved by a tool that does not calculate) come through as the
    marker `FORMULA_WITHOUT_VALUE`, so importers can reject them instead of reading zero.
    """
    check_zip(path)
    try:
        values_book = load_workbook(path, read_only=True, data_only=True)
        formulas_book = load_workbook(path, read_only=True, data_only=False) if _formula_sheets(path) else None
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
            formula_rows = None
            if formulas_book is not None:
                fws = formulas_book[ws.title]
                fws.reset_dimensions()
                formula_rows = fws.iter_rows(min_row=header_row + 1, values_only=True)
            preamble = [values for number, values in head if number < header_row]
            yield Table(ws.title, header_row, headers, _xlsx_rows(ws, header_row, formula_rows), preamble)
    finally:
        values_book.close()
        if formulas_book is not None:
            formulas_book.close()


FORMULA_WITHOUT_VALUE = object()


def _xlsx_rows(ws, header_row: int, formula_rows) -> Iterator[SourceRow]:
    count = 0
    for number, values in enumerate(ws.iter_rows(min_row=header_row + 1, values_only=True), header_row + 1):
        formulas = next(formula_rows, None) if formula_rows is not None else None
        row = list(values)
        if formulas is not None:
            for i, formula in enumerate(formulas):
                if isinstance(formula, str) and formula.startswith("=") and i < len(row) and row[i] is None:
                    row[i] = FORMULA_WITHOUT_VALUE
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
