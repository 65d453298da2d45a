"""The board's cases as CSV or XLSX, safe to open in a spreadsheet.

A text cell that starts with = + - @ (or a tab or carriage return) would be run as a
formula by Excel; it is written with a leading apostrophe instead (OWASP's advice), so a
client named "=HYPERLINK(...)" is shown, never run.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from cloudcore_crm.lib import spreadsheets
from renewals.forecast import BAND_LABELS

HEADERS = [
    "Client code",
    "Client",
    "Product",
    "Renewal date",
    "Status",
    "Value at stake (AUD/yr)",
    "Churn risk",
    "Account owner",
    "Relations coordinator",
    "Office",
    "Last outreach",
]
safe = spreadsheets.safe_cell


def rows(cases) -> Iterable[list]:
    for case in cases:
        account = case.account
        yield [
            safe(value)
            for value in (
                account.code,
                account.display_name,
                case.subscription.product.name,
                case.term_end,
                case.get_status_display(),
                case.value_at_stake,
                BAND_LABELS.get(getattr(case, "band", "") or "", "no score"),
                account.owner.get_full_name() if account.owner else "",
                account.relations_coordinator.get_full_name() if account.relations_coordinator else "",
                account.get_office_display(),
                case.last_outreach_at.date() if case.last_outreach_at else None,
            )
        ]


def as_csv(cases) -> str:
    out = io.StringIO()
    writer = spreadsheets.csv_writer(out)
    writer.writerow(HEADERS)
    for row in rows(cases):
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()


def as_xlsx(cases) -> bytes:
    workbook = spreadsheets.new_workbook(write_only=True)
    sheet = workbook.create_sheet("Renewals")
    sheet.append(HEADERS)
    for row in rows(cases):
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
