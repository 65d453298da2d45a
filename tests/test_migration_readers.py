"""The workbook reader: rows and columns where Excel shows them, values as the parsers
expect them, and sheets refused before they are loaded when they are too big."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from python_calamine import CalamineWorkbook

from cloudcore_crm.lib.headers import HeaderMap
from migration import readers
from migration.readers import FORMULA_WITHOUT_VALUE, FileRefused, xlsx_tables

MAP = HeaderMap({"name": ["Client Name"], "value": ["Annual Value"], "renewal": ["Renewal Date"]}, required=["name"])


def _tables(path: Path) -> list[tuple[str, int, list[object], list[tuple[int, list[object]]]]]:
    tables = xlsx_tables(path, [MAP])
    return [(t.sheet, t.header_row, t.headers, [(r.number, r.values) for r in t.rows]) for t in tables]


def test_rows_and_columns_keep_their_spreadsheet_positions(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Clients"
    ws["C2"] = "CloudCore client master"  # a title row, data starting in column C
    ws["C4"], ws["D4"], ws["E4"] = "Client Name", "Annual Value", "Renewal Date"
    ws["C5"], ws["D5"], ws["E5"] = "Acme Pty Ltd", 12000, dt.datetime(2026, 6, 30)
    ws["C7"], ws["D7"], ws["E7"] = "Blue Wren", 12.5, "30/06/2026"  # after an empty row
    path = tmp_path / "book.xlsx"
    wb.save(path)

    [(sheet, header_row, headers, rows)] = _tables(path)

    assert (sheet, header_row) == ("Clients", 4)
    assert headers == [None, None, "Client Name", "Annual Value", "Renewal Date"]
    assert rows == [
        (5, [None, None, "Acme Pty Ltd", 12000, dt.datetime(2026, 6, 30)]),
        (7, [None, None, "Blue Wren", 12.5, "30/06/2026"]),
    ]
    assert type(rows[0][1][3]) is int  # a whole number reads as openpyxl gives it


def test_hidden_sheets_are_read_and_sheets_without_the_columns_are_skipped(tmp_path):
    wb = Workbook()
    wb.active.title = "Notes"
    wb.active["A1"] = "Nothing to import here"
    hidden = wb.create_sheet("Old clients")
    hidden.sheet_state = "hidden"
    hidden.append(["Client Name", "Annual Value"])
    hidden.append(["Acme", 10])
    path = tmp_path / "book.xlsx"
    wb.save(path)

    assert [(sheet, rows) for sheet, _, _, rows in _tables(path)] == [("Old clients", [(2, ["Acme", 10])])]


def test_a_formula_without_a_saved_value_is_marked_not_read_as_empty(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["Client Name", "Annual Value"])
    ws.append(["Acme", "=10*1200"])  # openpyxl saves no value for it, as a non-calculating tool would
    path = tmp_path / "book.xlsx"
    wb.save(path)

    [(_, _, _, rows)] = _tables(path)

    assert rows == [(2, ["Acme", FORMULA_WITHOUT_VALUE])]


def test_a_cell_merged_down_gives_its_value_to_each_of_its_rows_and_a_title_stays_put(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["Clients we look after"])
    ws.merge_cells("A1:C1")  # a title across the columns: not spread over them
    ws.append(["Client Name", "Annual Value", "Renewal Date"])
    ws.append(["Acme", 10, "1/07/2026"])
    ws.append([None, 20, "1/08/2026"])  # Acme again: the client cell is merged over both rows
    ws.append(["Blue Wren", 30])
    ws.append(["", 40])  # the cell was left empty, not merged: still empty
    ws.merge_cells("A3:A4")
    path = tmp_path / "book.xlsx"
    wb.save(path)

    [(_, header_row, _, rows)] = _tables(path)

    assert header_row == 2
    assert rows == [
        (3, ["Acme", 10, "1/07/2026"]),
        (4, ["Acme", 20, "1/08/2026"]),
        (5, ["Blue Wren", 30]),
        (6, [None, 40]),
    ]


def test_a_hostile_merge_list_fills_no_more_cells_than_a_sheet_has_rows(monkeypatch):
    class Sheet:
        merged_cell_ranges = [((0, column), (readers.MAX_DATA_ROWS, column)) for column in range(100)]

    down = readers._merged_down(Sheet())
    assert sum(map(len, down.values())) <= readers.MAX_DATA_ROWS + 1


def test_a_sheet_with_too_many_rows_is_refused_before_it_is_loaded(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_DATA_ROWS", 50)
    wb = Workbook()
    ws = wb.active
    ws.append(["Client Name"])
    for n in range(100):
        ws.append([f"Client {n}"])
    path = tmp_path / "book.xlsx"
    wb.save(path)
    loaded: list[str] = []

    class RecordingWorkbook:
        def __init__(self, book):
            self._book = book

        @classmethod
        def from_path(cls, name):
            return cls(CalamineWorkbook.from_path(name))

        def get_sheet_by_name(self, name):
            loaded.append(name)
            return self._book.get_sheet_by_name(name)

        def __getattr__(self, name):
            return getattr(self._book, name)

    monkeypatch.setattr(readers, "CalamineWorkbook", RecordingWorkbook)

    with pytest.raises(FileRefused, match="more than 50 rows"):
        _tables(path)
    assert loaded == []
    monkeypatch.setattr(readers, "MAX_DATA_ROWS", 500)
    assert len(_tables(path)[0][3]) == 100 and loaded == ["Sheet"]  # the recording itself works


def test_a_run_loads_each_workbook_once_for_recognising_and_importing(tmp_path, monkeypatch):
    wb = Workbook()
    wb.active.append(["Client Name"])
    wb.active.append(["Acme"])
    path = tmp_path / "book.xlsx"
    wb.save(path)
    loads = []
    real = readers.load_sheets
    monkeypatch.setattr(readers, "load_sheets", lambda p: loads.append(p) or real(p))
    kept: readers.LoadedSheets = {}

    first = [t.headers for t in xlsx_tables(path, [MAP], kept)]
    again = [[r.values for r in t.rows] for t in xlsx_tables(path, [MAP], kept)]

    assert (first, again, loads) == ([["Client Name"]], [[["Acme"]]], [path])


def test_sheets_are_found_through_the_workbook_relationships_not_the_part_names(tmp_path):
    wb = Workbook()
    wb.active.title = "First"
    wb.active.append(["Client Name"])
    wb.active.append(["From the first sheet"])
    second = wb.create_sheet("Second")
    second.append(["Client Name"])
    second.append(["From the second sheet"])
    written = tmp_path / "written.xlsx"
    wb.save(written)
    # Swap the two sheets' part names, as a tool that renumbers parts might.
    path = tmp_path / "swapped.xlsx"
    one, two = "xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"
    swap = {one: two, two: one}
    with zipfile.ZipFile(written) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"sheet1.xml", b"sheetX.xml").replace(b"sheet2.xml", b"sheet1.xml")
                data = data.replace(b"sheetX.xml", b"sheet2.xml")
            target.writestr(swap.get(item.filename, item.filename), data)

    assert [(sheet, rows[0][1]) for sheet, _, _, rows in _tables(path)] == [
        ("First", ["From the first sheet"]),
        ("Second", ["From the second sheet"]),
    ]
