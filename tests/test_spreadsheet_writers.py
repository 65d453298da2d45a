"""Every CSV or XLSX the project writes is formula-safe: one helper
(`cloudcore_crm.lib.spreadsheets`), used by every writer, and this test walks them all."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from openpyxl import Workbook

from cloudcore_crm.lib import spreadsheets
from cloudcore_crm.lib.spreadsheets import safe_cell
from migration.importers.base import FileReport
from support_bridge import importers

ROOT = Path(__file__).resolve().parent.parent
APPS = [
    "cloudcore_crm",
    "customers",
    "migration",
    "support_bridge",
    "pipeline",
    "renewals",
    "billing_sync",
    "onboarding",
    "reports",
]
# Writers of sample *input* (legacy files with their formulas, on purpose) and benchmarks:
# they write the estate the imports read, never a file handed to a user.
NOT_EXPORTS = {
    "cloudcore_crm/lib/spreadsheets.py",
    "migration/legacy_estate.py",
    "migration/legacy_helpdesk.py",
    "billing_sync/demo.py",  # the demo's Xero exports, imported like Finance's
}
NOT_EXPORT_DIRS = ("cloudcore_crm/bench/",)
DIRECT_WRITE = re.compile(r"csv\.writer\(|csv\.DictWriter\(|\bWorkbook\(|xlsxwriter|\.to_csv\(|\.to_excel\(")
HOSTILE = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR", '=HYPERLINK("http://evil.example")']


def test_no_module_writes_csv_or_xlsx_except_through_the_helper():
    offenders = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if relative in NOT_EXPORTS or relative.startswith(NOT_EXPORT_DIRS) or "/migrations/" in relative:
                continue
            if DIRECT_WRITE.search(path.read_text()):
                offenders.append(relative)
    assert offenders == [], "write CSV/XLSX through cloudcore_crm.lib.spreadsheets"


@pytest.mark.parametrize("text", HOSTILE)
def test_safe_cell_neutralises_formula_text(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Acme Pty Ltd", "", None, 12, -5, 3.5, "a=b", "O'Brien"])
def test_safe_cell_leaves_other_values_alone(value):
    assert safe_cell(value) == value


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for cell in row]


def _assert_inert(cells: list[str]) -> None:
    live = [cell for cell in cells if cell.startswith(spreadsheets.FORMULA_PREFIXES)]
    assert live == []
    for text in HOSTILE:
        assert "'" + text in cells


def test_the_legacy_import_rejected_rows_are_formula_safe():
    report = FileReport(name="client master.xlsx", store="d1", headers=[*HOSTILE, "Client Name"])
    report.rejected.append((7, [*HOSTILE, "Acme"], HOSTILE[0]))
    _assert_inert(_cells(report.rejected_csv()))


def test_the_legacy_import_rejected_rows_of_several_sheets_are_formula_safe():
    report = FileReport(name="pipeline.xlsx", store="d3", headers=["Client Name"], sheet="Open")
    report.rejected.append((3, ["Acme"], "no deal"))
    report.other_sheets.append(("Closed", [*HOSTILE, "Client Name"], [(7, [*HOSTILE, "Acme"], HOSTILE[0])]))
    _assert_inert(_cells(report.rejected_csv()))


def test_the_ticket_import_rejected_rows_are_formula_safe():
    row = importers.RawRow(number=3, original={h: h for h in HOSTILE}, fields={})
    _assert_inert(_cells(importers.rejected_csv(list(HOSTILE), [(row, HOSTILE[1])]).decode("utf-8-sig")))


def test_the_csv_writer_and_the_xlsx_row_helper_neutralise_every_cell():
    buffer = io.StringIO()
    spreadsheets.csv_writer(buffer).writerows([HOSTILE, HOSTILE])
    _assert_inert(_cells(buffer.getvalue()))

    sheet = Workbook().active
    spreadsheets.append_row(sheet, HOSTILE)
    assert [cell.value for cell in sheet[1]] == ["'" + text for text in HOSTILE]
    assert all(cell.data_type == "s" for cell in sheet[1])
