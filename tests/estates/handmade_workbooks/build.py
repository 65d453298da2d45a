"""Builds the hand-made workbooks of this estate (run once; the .xlsx files are committed).

    .venv/bin/python tests/estates/handmade_workbooks/build.py

Every cell below is a literal typed here, in the shapes people leave in such workbooks
(seeds 000 and 001, FORMATS.md section 5, tests/samples/legacy_customers.xlsx): title rows
and notes above the header, merged title and group cells, a client merged down over two
deals, rows hidden by a filter, a hidden sheet, money as numbers and as text ("$9,000.00",
"AUD 30k", "12.5k", "12,500"), dates as Excel dates, as day-first text and as bare serials
in General cells, formulas nobody recalculated (no saved value), a totals line, stages and
names typed loosely. Nothing here comes from `migration/legacy_estate.py`. The facts the
import should make of them are worked out by hand in `truth.json`.

The helpdesk export beside them (`helpdesk_tickets.csv`) is typed by hand as CSV: the
triage sheet enriches its tickets.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).parent
DATE = "dd/mm/yyyy"
STAMP = "dd/mm/yyyy hh:mm"


def _dates(ws, cells: dict[str, str]) -> None:
    for ref, number_format in cells.items():
        ws[ref].number_format = number_format


def client_master() -> None:
    """D1: the client register, as Customer Relations keeps it."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Clients"
    ws.append(["CLIENT REGISTER - Customer Relations - DO NOT SORT (ask Bev)"])
    ws.merge_cells("A1:M1")
    ws.append(["Company", None, None, None, "Contract", None, None, None, None, "Contact"])
    ws.merge_cells("A2:D2")
    ws.merge_cells("E2:I2")
    ws.merge_cells("J2:M2")
    ws.append(
        [
            "Client ID",
            "Name",
            "ABN",
            "Account Manager",
            "Product",
            "Seats",
            "Start",
            "Renewal",
            "Annual value",
            "Person",
            "Email",
            "Phone",
            "State",
        ]
    )
    rows = [
        # row 4: dates as Excel dates, the value as a number
        ["CC201", "Jarrah Dental Pty Ltd", "51 824 753 556", "Chloe Bennett", "DataVault", 1,
         dt.datetime(2025, 7, 1), dt.datetime(2027, 7, 1), 24000,
         "Ann Lee", "ann@jarrah.example", "08 9300 1111", "WA"],
        # row 5: dates as text, money as text, the rep's name with odd case and spacing
        ["CC202", "Marri Freight Pty. Ltd.", None, "daniel  OKAFOR", "Cloud Sync", 25,
         "15/03/2026", "15/03/2027", "$9,000.00",
         "Raj Patel", "raj@marri.example", "(08) 9300 2222", "W.A."],
        # row 6: dates as bare serials in General cells, money as "AUD 30k"
        ["CC203", "Tingle Analytics Pty Ltd", "53004085616", "Chloe Bennett", "Analytics-Pro", 10,
         46113, 46478, "AUD 30k",
         "Lena Ho", "lena@tingle.example", "0893003333", "Western Australia"],
        # row 7: the same client's second product
        ["CC203", "Tingle Analytics Pty Ltd", None, "Chloe Bennett", "Security and Compliance", 1,
         dt.datetime(2026, 1, 1), dt.datetime(2027, 1, 1), "12,500",
         "Lena Ho", "lena@tingle.example", None, "WA"],
        # row 8: hidden by the filter (seed 001, P5: a filtered-out row is still a client)
        ["CC204", "Yate Legal Pty Ltd", "11 123 456 780", "Ravi Sharma", "Managed Services", 1,
         "1/11/25", "1/11/26", 60000,
         "Gus Reid", "gus@yate.example", "08 9300 4444", "wa"],
        # row 9: the same client typed again without its code, under another name
        [None, "Jarrah Dental Surgery", "51824753556", "Chloe Bennett", "DataVault", 1,
         dt.datetime(2025, 7, 1), dt.datetime(2027, 7, 1), 24000,
         "Ann Lee", "ann@jarrah.example", None, "WA"],
        # row 10: an ABN that fails the checksum, a manager nobody is, a renewal "TBC"
        ["CC205", "Banksia Hosting Pty Ltd", "12 345 678 901", "Bev Thompson", "Cloud Hosting (Perth)", 4,
         "1/7/2025", "TBC", 10000,
         "Ivy Tran", "ivy@banksia.example", None, "WA"],
        # row 11: a start with no day: that cell is left out, the client and contact imported
        ["CC206", "Wandoo Mining Pty Ltd", None, "Ravi Sharma", "DataVault", 1,
         "Sept 2022", dt.datetime(2027, 2, 1), 5000,
         "Kim Nguyen", "kim@wandoo.example", None, "WA"],
    ]  # fmt: skip
    for row in rows:
        ws.append(row)
    _dates(ws, {f"{c}{r}": DATE for c in "GH" for r in (4, 7, 9, 11)})
    ws.row_dimensions[8].hidden = True
    ws.append([])
    ws.append([None, None, None, None, None, None, None, "Total", "=SUM(I4:I11)"])  # row 13, never recalculated
    ws.auto_filter.ref = "A3:M11"
    notes = wb.create_sheet("Notes")
    notes.append(["Renewal dates before 2026 were typed by hand. Bev."])
    notes.sheet_state = "hidden"
    wb.save(HERE / "client_master.xlsx")


def chloe() -> None:
    """D3: Chloe's workbook: a title and a note above the header, the rep in the file name."""
    wb = Workbook()
    ws = wb.active
    ws.title = "FY27"
    ws.append(["Chloe's deals FY2026-27"])
    ws.merge_cells("A1:H1")
    ws.append(["Updated 28/09/2026 - ring me before touching this"])
    ws.append([])
    ws.append(["Client", "Opportunity", "Stage", "Value", "Close Date", "Product", "Quarter", "Notes"])
    rows = [
        # row 5: the client under the name the master's variant row gave it
        ["Jarrah Dental Surgery", "DataVault seat expansion", "Proposal", "$12,500",
         dt.datetime(2026, 11, 30), "DataVault", "Q2 FY27", "waiting on their IT"],
        # row 6: won, the stage typed with a dash, money as "12.5k", the date as text
        ["Tingle Analytics", "Security & Compliance upgrade", "Closed - Won", "12.5k",
         "30/06/2026", "Security & Compliance", "Q4 FY26", None],
        # row 7: a stage with a trailing space, the close date a bare serial
        ["Tingle Analytics", "Analytics Pro renewal FY28", "qualified ", 30000,
         46478, "Analytics Pro", "Q4 FY27", None],
        # row 8: hidden by a filter; still a deal
        ["Yate Legal", "Email security bundle", "Prospect", "7,500",
         "1/11/2026", "Security & Compliance", "Q2 FY27", "met at the law society lunch"],
        # row 9: a lead for a company that is not a client yet
        ["Karri Constructions", "CloudSync pilot", "Lead", "5k", None, "CloudSync", "Q3 FY27", None],
    ]  # fmt: skip
    for row in rows:
        ws.append(row)
    _dates(ws, {"E5": DATE})
    ws.row_dimensions[8].hidden = True
    ws.append([])
    ws.append([None, "TOTAL", None, "=SUM(D5:D9)"])  # row 11: a totals line, never recalculated
    ws.auto_filter.ref = "A4:H9"
    wb.save(HERE / "Pipeline - Chloe Bennett.xlsx")


def daniel() -> None:
    """D3: Daniel's workbook: the rep in a title cell, a client merged down over two deals."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Pipeline"
    ws.append(["Sales Rep: daniel okafor"])
    ws.append(
        ["Customer Name", "Deal", "Status", "Amount (AUD)", "Expected Close", "Solution", "Forecast", "Lost reason"]
    )
    rows = [
        # rows 3-4: one client cell merged over its two deals
        ["MARRI FREIGHT", "CloudSync 50 more seats", "Proposal Sent", 4500, "15/12/2026", "Cloud Sync", "Commit",
         None],
        [None, "Data Vault for depots", "Lost", "$8,000", "31/08/2026", "Data Vault", None,
         "Price - went with Backblaze"],
        ["Yate Legal", "Security review", "Meeting", "AUD 15k", dt.datetime(2027, 2, 28), "Security & Compliance",
         "Best case", None],
        # row 6: a stage the CRM's funnel does not have: held for a steward to map
        ["Banksia Hosting", "Hosting renewal 2027", "Negotiation", 10000, "1/07/2027", "Cloud Hosting", "Commit", None],
    ]  # fmt: skip
    for row in rows:
        ws.append(row)
    ws.merge_cells("A3:A4")
    _dates(ws, {"E5": DATE})
    wb.save(HERE / "Sales pipeline 2026 (Daniel).xlsx")


def ravi() -> None:
    """D3: Ravi's workbook: the header on the first row, his own words for everything, and
    the deals he has closed on a second sheet with its columns in another order."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Open"
    ws.append(["Company", "What", "Where we are", "$", "When", "Product line"])
    rows = [
        # row 2: the amount a formula nobody recalculated
        ["Marri Freight", "Hosting for new depot", "Proposal", "=250*12", "1/09/2026", "Cloud Hosting"],
        ["Banksia Hosting", "Backup add-on", "Qualified", "2,400", "1/12/26", "DataVault"],
    ]
    for row in rows:
        ws.append(row)
    closed = wb.create_sheet("Closed FY26")
    closed.append(["Company", "What", "$", "Where we are", "When", "Product line", "Why lost"])
    rows = [
        ["Yate Legal Pty Ltd", "Managed Services renewal", 60000, "dead", 46234, "Managed Services",
         "Timing: budget frozen until FY28"],
        # row 3: the client whose master row had a start with no day
        ["Wandoo Mining", "DataVault for the mine site", "5,000", "won", "1/02/2026", "DataVault", None],
    ]  # fmt: skip
    for row in rows:
        closed.append(row)
    wb.save(HERE / "Pipeline_Ravi Sharma.xlsx")


def triage() -> None:
    """D2t: the support team's triage sheet beside the helpdesk (seed 000, 4.3 step 6)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Triage log"
    ws.append(["SUPPORT TRIAGE LOG - look-ups and escalations"])
    ws.merge_cells("A1:M1")
    ws.append(["Severity: P1 = down, P2 = degraded, P3 = annoying, P4 = question. Log it in the helpdesk FIRST."])
    ws.append(
        [
            "Date logged",
            "Ticket #",
            "Client",
            "Contact",
            "Issue",
            "Severity",
            "Escalated to",
            "Escalation notes",
            "Agent",
            "Contract value",
            "Renewal",
            "Status",
            "Days open",
        ]
    )
    rows = [
        # row 4: escalated beyond what the helpdesk shows (Medium there)
        [dt.datetime(2026, 9, 14, 9, 20), "#5001", "Jarrah Dental Surgery", "Ann Lee", "Nightly backups failing",
         "P2 - High", "Duty manager", "Ann says they will look at other vendors if this is not fixed by Friday",
         "Sam Lee", "$24,000", "01/07/2027", "Open"],
        # row 5: a lower severity than the helpdesk's: the helpdesk stands
        ["2/09/2026", "FD-5002", "Tingle Analytics", "Lena Ho", "Dashboards slow", "P4", None, None,
         "Ana Cruz", 42500, None, "Resolved"],
        # row 6: hidden by a filter; still an escalation (High in the helpdesk)
        [dt.datetime(2026, 9, 20, 7, 45), 5003, "Marri Freight", "Raj Patel", "Sync client crashes on depot PCs",
         "URGENT", "Chloe Bennett", "Raj rang Chloe directly; their CEO is unhappy", "Sam Lee", "9000", None,
         "Escalated"],
        # row 7: a ticket older than the helpdesk export; the date a bare serial
        [46204, 4987, "Yate Legal", "Gus Reid", "Printer mapping lost after update", "Med", None, None,
         "Ana Cruz", None, None, "Closed"],
        # row 8: a phone call nobody ticketed
        ["3/09/2026", "phone", "Banksia Hosting", "Ivy Tran", "Asked about the renewal price", None, None, None,
         "Sam Lee", None, None, "Closed"],
        # row 9: a ticket number typed wrong (5002 is Tingle's)
        [dt.datetime(2026, 9, 25, 11, 0), "#5002", "Marri Freight", "Raj Patel", "Sync again", "P3", None, None,
         "Ana Cruz", None, None, "Open"],
    ]  # fmt: skip
    for row in rows:
        number = ws.max_row + 1
        ws.append([*row, f"=TODAY()-A{number}"])  # never recalculated: no saved value
    _dates(ws, {"A4": STAMP, "A6": STAMP, "A9": STAMP})
    ws.row_dimensions[6].hidden = True
    ws.append([])
    ws.append([None, None, None, None, "NB anything P1 goes to the duty manager by phone as well - Sam"])  # row 11
    ws.auto_filter.ref = "A3:M9"
    agents = wb.create_sheet("Agents")
    agents.append(["Agent", "Extension"])
    agents.append(["Sam Lee", 4101])
    agents.append(["Ana Cruz", 4102])
    wb.save(HERE / "support_triage.xlsx")


if __name__ == "__main__":
    client_master()
    chloe()
    daniel()
    ravi()
    triage()
