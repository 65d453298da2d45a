"""Formula-safe CSV and XLSX of exactly the deals a list shows (its filters and order)."""

from __future__ import annotations

import io
from collections.abc import Iterable

from django.http import HttpResponse

from cloudcore_crm.lib import spreadsheets

HEADER = ["Deal", "Customer code", "Customer", "Stage", "Amount (AUD)", "Expected close", "Owner", "Source", "Product"]


def deal_rows(deals) -> Iterable[list[object]]:
    yield HEADER
    for deal in deals.iterator(chunk_size=2000):
        yield [
            deal.name,
            deal.account.code,
            deal.account.legal_name,
            deal.get_stage_display(),
            deal.amount,
            deal.expected_close,
            deal.owner.get_full_name() if deal.owner_id else "",
            deal.get_source_display(),
            deal.product.name if deal.product_id else "",
        ]


def write_csv(rows: Iterable[list[object]], filename: str) -> HttpResponse:
    buffer = io.StringIO()
    writer = spreadsheets.csv_writer(buffer)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def write_xlsx(rows: Iterable[list[object]], filename: str) -> HttpResponse:
    book = spreadsheets.new_workbook(write_only=True)
    sheet = book.create_sheet("Pipeline")
    for row in rows:
        spreadsheets.append_row(sheet, row)
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
