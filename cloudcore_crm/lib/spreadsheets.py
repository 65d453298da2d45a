"""Every CSV or XLSX the project writes goes through here, so no cell can run as a formula.

A spreadsheet treats a cell beginning with `=`, `+`, `-`, `@`, a tab or a carriage return
as a formula (CSV injection: `=HYPERLINK(...)`, `=cmd|...`). `safe_cell()` neutralises
such text with a leading apostrophe, which Excel and LibreOffice show as plain text.

    writer = spreadsheets.csv_writer(buffer)          # a csv.writer that neutralises
    writer.writerow(["Row", name, reason])
    spreadsheets.append_row(worksheet, values)        # an openpyxl row, neutralised

Building a new export? Use `csv_writer()` / `append_row()` (or `safe_cell()` per value);
`tests/test_spreadsheet_writers.py` fails for a module that writes CSV or XLSX directly.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value, with text that a spreadsheet would read as a formula made inert.
    Numbers, dates and None are returned as they are (a negative number is a number)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in values]


class SafeCSVWriter:
    """`csv.writer` with every cell through `safe_cell()`."""

    def __init__(self, stream, **options):
        self._writer = csv.writer(stream, **options)

    def writerow(self, values: Iterable[Any]):
        return self._writer.writerow(safe_row(values))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for values in rows:
            self.writerow(values)


def csv_writer(stream, **options) -> SafeCSVWriter:
    return SafeCSVWriter(stream, **options)


def safe_text(value: Any) -> str:
    """`safe_cell()` for a value written as text ("" for None)."""
    return "" if value is None else str(safe_cell("" if value is None else str(value)))


def new_workbook(**options):
    """An openpyxl workbook for an export; its cells go in through `append_row()`,
    `safe_cell()` or `safe_text()`."""
    from openpyxl import Workbook

    return Workbook(**options)


def append_row(worksheet, values: Iterable[Any]) -> None:
    """`worksheet.append(values)` for an openpyxl sheet, each cell neutralised."""
    worksheet.append(safe_row(values))
