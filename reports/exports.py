"""The board pack as an Excel workbook (openpyxl, native charts) and as a PDF (WeasyPrint).

Both render `reports.pack.BoardPack`, the structure the HTML page renders, so their
figures are the page's. In the workbook numbers are numbers (with number formats, never
text), every chart is an Excel chart over the table's own cells, and text that Excel
would take for a formula (=, +, -, @ first) is written as text.
"""

from __future__ import annotations

from io import BytesIO

from django.conf import settings
from django.template.loader import render_to_string
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from cloudcore_crm.lib import spreadsheets
from reports.pack import MONEY, PCT, BoardPack, Table, cell_kind

NUMBER_FORMATS = {
    "money": '"$"#,##0;[Red]-"$"#,##0',
    "int": "#,##0",
    "pct": "0.0%",
    "hours": "0.0",
    "score": "0.0",
}
HEADER_FILL = PatternFill("solid", fgColor="DCE8F5")
MAX_SHEET_TITLE = 31


safe_text = spreadsheets.safe_text  # text Excel shows as text, never runs as a formula


def workbook(pack: BoardPack) -> bytes:
    book = spreadsheets.new_workbook()
    cover = book.active
    cover.title = "Cover"
    cover["A1"] = safe_text(f"CloudCore Networks board pack, {pack.label}")
    cover["A1"].font = Font(bold=True, size=14)
    cover["A2"] = safe_text(
        f"Figures as at {pack.snapshot.as_of:%d %B %Y} (month end); "
        f"{'rebuilt from history' if pack.snapshot.is_rebuilt else 'frozen from the live record'}; "
        f"version {pack.snapshot.version}."
    )
    cover.column_dimensions["A"].width = 90
    for number, section in enumerate(pack.sections, start=1):
        sheet = book.create_sheet(_sheet_title(number, section.title))
        row = 1
        sheet.cell(row=row, column=1, value=safe_text(section.title)).font = Font(bold=True, size=13)
        row += 1
        if section.note:
            sheet.cell(row=row, column=1, value=safe_text(section.note))
            row += 1
        for table in section.tables:
            row = _write_table(sheet, table, row + 1)
        sheet.column_dimensions["A"].width = 42
        for column in range(2, 9):
            sheet.column_dimensions[get_column_letter(column)].width = 18
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_title(number: int, title: str) -> str:
    cleaned = "".join(ch for ch in title if ch not in "[]:*?/\\")
    return f"{number} {cleaned}"[:MAX_SHEET_TITLE]


def _write_table(sheet, table: Table, row: int) -> int:
    sheet.cell(row=row, column=1, value=safe_text(table.title)).font = Font(bold=True)
    header = row + 1
    for column, name in enumerate(table.columns, start=1):
        cell = sheet.cell(row=header, column=column, value=safe_text(name))
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    first = header + 1
    for offset, cells in enumerate(table.rows):
        for column, item in enumerate(cells):
            kind = cell_kind(table, column, cells)
            target = sheet.cell(row=first + offset, column=column + 1)
            if kind == "text":
                target.value = safe_text(item.value)
            else:
                target.value = item.value  # a number (or empty), never text
                target.number_format = NUMBER_FORMATS.get(kind, "General")
    last = first + len(table.rows) - 1
    after = last + 1
    if table.note:
        sheet.cell(row=after, column=1, value=safe_text(table.note)).font = Font(italic=True)
        after += 1
    if table.chart and table.rows:
        _add_chart(sheet, table, header, first, last, after)
        after += 18
    return after + 1


def _add_chart(sheet, table: Table, header: int, first: int, last: int, anchor_row: int) -> None:
    chart = table.chart
    if chart.kind == "line":
        excel = LineChart()
    else:
        excel = BarChart()
        excel.type = "bar"  # horizontal, as on the page
        excel.y_axis.majorGridlines = None
    excel.title = chart.title
    excel.height, excel.width = 8, 18
    # Rows kept for the chart may be a subset of the table's (the movement rows): the chart
    # reads the contiguous cells of the rows whose category is charted.
    categories = [str(row[0].value) for row in table.rows]
    start = first + categories.index(chart.categories[0])
    end = start + len(chart.categories) - 1
    for series in chart.series:
        data = Reference(sheet, min_col=series.column + 1, min_row=header, max_row=end) if start == first else None
        if data is None:
            data = Reference(sheet, min_col=series.column + 1, min_row=start, max_row=end)
            excel.add_data(data, titles_from_data=False)
        else:
            excel.add_data(data, titles_from_data=True)
    excel.set_categories(Reference(sheet, min_col=1, min_row=start, max_row=end))
    if chart.value_kind == MONEY:
        excel.y_axis.number_format = '"$"#,##0'
    elif chart.value_kind == PCT:
        excel.y_axis.number_format = "0%"
    excel.legend = None
    sheet.add_chart(excel, f"B{anchor_row}")


def pdf(pack: BoardPack) -> bytes:
    from weasyprint import HTML  # imported here: Pango loads only when a PDF is asked for

    html = render_to_string("reports/board_pack_pdf.html", {"pack": pack})
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
