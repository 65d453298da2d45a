"""CSV and XLSX downloads of a list, exactly as filtered.

Every text cell passes through `safe_cell()`: a cell a spreadsheet would read as a formula
(one beginning with `=`, `+`, `-`, `@`, a tab or a carriage return) is written as text.
(`cloudcore_crm/lib/spreadsheets.py` may take this helper over; it is kept in one place.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone

from cloudcore_crm.lib import spreadsheets

FORMATS = ("csv", "xlsx")


def safe_cell(value):
    """A value as a spreadsheet must show it: formula-like text prefixed with an apostrophe
    (shown as written in Excel, LibreOffice and Google Sheets); numbers and dates as they are."""
    return "" if value is None else spreadsheets.safe_cell(value)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _filename(stem: str, extension: str) -> str:
    return f"{stem}-{timezone.localdate():%Y-%m-%d}.{extension}"


def export_response(fmt: str, *, stem: str, headers: Sequence[str], rows: Iterable[Sequence]) -> HttpResponse:
    """The download of `rows` under `headers` as CSV (streamed) or XLSX."""
    if fmt == "xlsx":
        return _xlsx(stem, headers, rows)
    writer = spreadsheets.csv_writer(_Echo())

    def lines():
        yield "\ufeff"  # so Excel reads the file as UTF-8
        yield writer.writerow(headers)
        for row in rows:
            yield writer.writerow([_csv_value(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(stem, "csv")}"'
    return response


def _csv_value(value):
    """Dates as ISO dates and None as empty; text is neutralised by the writer, and numbers
    (a negative amount too) stay numbers."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _xlsx(stem: str, headers: Sequence[str], rows: Iterable[Sequence]) -> HttpResponse:
    import io

    from openpyxl.cell import WriteOnlyCell

    book = spreadsheets.new_workbook(write_only=True)
    sheet = book.create_sheet(stem[:31])
    sheet.append(list(headers))
    for row in rows:
        cells = []
        for value in row:
            value = safe_cell(value)
            if isinstance(value, Decimal):
                value = float(value)
            if isinstance(value, dt.datetime) and timezone.is_aware(value):
                value = timezone.localtime(value).replace(tzinfo=None)
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text, never a formula, whatever it begins with
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(stem, "xlsx")}"'
    return response
