"""The legacy estate as CloudCore has it today, generated from the demo world's plan.

`write_estate(directory, seed=, clients=)` renders `customers.demo.plan_world` as the
stores of seed 000, with their real-world mess:

- D1 `client_master.xlsx`: title row, merged group headers, one row per subscription,
  values as numbers and as text ("$12,000.00", "AUD 12k"), dates as Excel dates, serials
  and text ("30/06/2026"), rows hidden by a filter, trailing spaces, name variants entered
  again without the client code, a formula total without a cached value, a hidden sheet.
- D3 `Pipeline - <rep>.xlsx`: one workbook per sales rep, each with its own column names.
- D4 `xero_sales_invoices.csv`: Xero's Sales Invoices export (one row per line item).
- D7 `outlook_renewals.csv`: an Outlook calendar export of renewal reminders, cp1252,
  with some renewals missing and some dates copied wrongly.
- D2 `helpdesk_tickets.csv` and `support_triage.xlsx`: the helpdesk's ticket export and the
  support team's triage sheet that partly overlaps it (`migration.legacy_helpdesk`).
- `truth.json`: which legacy rows are which real client and the true values, for tests.

Money truth is what Xero invoices; renewal-date truth is the client master's.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.utils.datetime import to_excel

from customers.demo import ACME_NUMBERS, PRODUCTS, AccountPlan, demo_staff, plan_world
from customers.models import account_code
from migration.legacy_helpdesk import write_helpdesk

CLIENT_MASTER = "client_master.xlsx"
XERO_INVOICES = "xero_sales_invoices.csv"
OUTLOOK_RENEWALS = "outlook_renewals.csv"
TRUTH = "truth.json"

D1_HEADERS = [
    "Client ID",
    "Client Name",
    "Trading Name",
    "ABN",
    "Industry",
    "Office",
    "Status",
    "Account Manager",
    "Coordinator",
    "Product",
    "Seats",
    "Start Date",
    "Renewal Date",
    "Annual Value",
    "Primary Contact",
    "Email",
    "Phone",
    "State",
    "Segment",
    "Street",
    "Suburb",
    "Postcode",
    "Website",
]
XERO_HEADERS = [
    "ContactName",
    "EmailAddress",
    "POAddressLine1",
    "POAddressLine2",
    "POAddressLine3",
    "POAddressLine4",
    "POCity",
    "PORegion",
    "POPostalCode",
    "POCountry",
    "SAAddressLine1",
    "SAAddressLine2",
    "SAAddressLine3",
    "SAAddressLine4",
    "SACity",
    "SARegion",
    "SAPostalCode",
    "SACountry",
    "InvoiceNumber",
    "Reference",
    "InvoiceDate",
    "DueDate",
    "PlannedDate",
    "Total",
    "TaxTotal",
    "InvoiceAmountPaid",
    "InvoiceAmountDue",
    "InventoryItemCode",
    "Description",
    "Quantity",
    "UnitAmount",
    "Discount",
    "LineAmount",
    "AccountCode",
    "TaxType",
    "TaxAmount",
    "TrackingName1",
    "TrackingOption1",
    "TrackingName2",
    "TrackingOption2",
    "Currency",
    "Type",
    "Sent",
    "Status",
]
OUTLOOK_HEADERS = [
    "Subject",
    "Start Date",
    "Start Time",
    "End Date",
    "End Time",
    "All day event",
    "Reminder on/off",
    "Reminder Date",
    "Reminder Time",
    "Meeting Organizer",
    "Required Attendees",
    "Optional Attendees",
    "Meeting Resources",
    "Billing Information",
    "Categories",
    "Description",
    "Location",
    "Mileage",
    "Priority",
    "Private",
    "Sensitivity",
    "Show time as",
]
# Each rep kept their own workbook with their own words for the same things (D3).
# Companies only a rep's workbook names (no client is called anything like them).
LEAD_COMPANIES = (
    "Ningaloo Reef Dive Tours",
    "Esperance Grain Cooperative",
    "Wave Rock Quarries",
    "Bungle Bungle Heli Flights",
    "Lake Argyle Barramundi",
    "Gibb River Cattle Station",
)

PIPELINE_LAYOUTS = [
    (["Client", "Opportunity", "Stage", "Value", "Close Date", "Product"], {}),
    (["Customer Name", "Deal", "Status", "Amount (AUD)", "Expected Close", "Solution"], {"proposal": "Proposal sent"}),
    (["Account", "Opportunity Name", "Sales Stage", "Est. Value", "Target Date", "Product"], {"won": "Closed Won"}),
    (["Company", "What", "Where we are", "$", "When", "Product line"], {"lost": "Closed Lost", "meeting": "Met"}),
    (["Client", "Opp", "Stage", "Deal Value", "Close", "Product"], {"qualified": "Qualified lead"}),
    (["Organisation", "Opportunity", "Pipeline Stage", "Value ex GST", "Forecast Close", "Offering"], {}),
]
SEGMENT_LABELS = {"small": "SMB", "mid": "Mid-market", "enterprise": "Enterprise"}
BILLING_FREQUENCIES = ((1, 0.45), (2, 0.05), (4, 0.3), (12, 0.2))  # invoices a year, share of subscriptions
CADENCES = {1: "annual", 2: "half-yearly", 4: "quarterly", 12: "monthly"}
PRIMARY_ONLY = 0.7  # clients with several subscriptions whose master rows list the primary only
PARTIAL_EXPORT = 0.3  # monthly and quarterly subscriptions whose export holds the latest quarter only
# How people typed product names into the master: each matched after normalising.
LOOSE_PRODUCTS = {
    "Security & Compliance": ["Security and Compliance", "security & compliance", "Security & Compliance (legacy)"],
    "Managed Services": ["Managed Service", "managed services", "Managed  Services"],
    "CloudSync": ["Cloud Sync", "cloudsync"],
    "DataVault": ["Data Vault", "DATAVAULT"],
    "Analytics Pro": ["Analytics-Pro", "analytics pro"],
    "Cloud Hosting": ["Cloud hosting", "Cloud Hosting (Perth)"],
}


@dataclass
class TruthClient:
    """One real client: its code, names, ABN, and the true value and renewal per product."""

    id: str
    code: str
    legal_name: str
    abn: str
    subscriptions: dict[str, dict] = field(default_factory=dict)
    rows: list[list] = field(default_factory=list)  # [store, file, sheet, row]
    opportunities: int = 0


def _variant_name(rng: random.Random, legal_name: str) -> str:
    """How another person typed the same company name."""
    base = legal_name
    for suffix in (" Pty Ltd", " Pty. Ltd.", " Ltd"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return rng.choice(
        [base.upper(), f"{base} Pty. Limited", f"{base} P/L", base, f"{base} Pty Ltd".lower(), f"{base}  Pty Ltd "]
    )


def _money_text(rng: random.Random, value: Decimal) -> object:
    choice = rng.random()
    if choice < 0.55:
        return float(value) if value % 1 else int(value)
    if choice < 0.75:
        return f"${value:,.2f}"
    if choice < 0.85 and value % 1000 == 0:
        return f"AUD {int(value / 1000)}k"
    return f"{value:,.0f}" if value % 1 == 0 else f"{value:,.2f}"


def _date_cell(rng: random.Random, day: dt.date | None) -> object:
    if day is None:
        return rng.choice(["TBC", None, "tba"])
    choice = rng.random()
    if choice < 0.6:
        return dt.datetime(day.year, day.month, day.day)
    if choice < 0.75:
        return int(to_excel(dt.datetime(day.year, day.month, day.day)))  # a serial in a General cell
    if choice < 0.92:
        return day.strftime("%d/%m/%Y") if rng.random() < 0.7 else f"{day.day}/{day.month}/{day:%y}"
    return day.strftime("%d %b %Y")


def _drifted(rng: random.Random, value: Decimal) -> Decimal:
    """The client master's copy of a contract value that Xero has since moved away from
    (always by more than the drift tolerance: 1% and $100)."""
    drifted = (value * Decimal(str(rng.choice([0.9, 0.95, 1.05, 1.1])))).quantize(Decimal("1"))
    if abs(drifted - value) <= max(value / 100, Decimal(100)):
        drifted = value + 250
    return drifted


def _loose_product(rng: random.Random, name: str) -> str:
    """A product name as typed into the master: now and then loosely."""
    if rng.random() < 0.1:
        return rng.choice(LOOSE_PRODUCTS.get(name, [name]))
    return name


def _loose_person(rng: random.Random, name: str) -> str:
    """A staff name as typed into the master: now and then with odd case or spacing."""
    if name and rng.random() < 0.1:
        first, _, last = name.partition(" ")
        return rng.choice([f" {name} ", f"{first}  {last}", name.upper(), name.lower()])
    return name


def _period_text(day: dt.date, frequency: int) -> str:
    """The billing period an invoice line states: "August 2026", "Aug-Oct 2026",
    "6 months (...)", "12 months (01/07/2026 - 30/06/2027)"."""
    if frequency == 12:
        return f"{day:%B %Y}"
    months = 12 // frequency
    end_month = _add_months(day.replace(day=1), months - 1)
    if frequency == 4:
        if end_month.year == day.year:
            return f"{day:%b}-{end_month:%b} {day.year}"
        return f"{day:%b %Y} - {end_month:%b %Y}"
    end = _add_months(day, months) - dt.timedelta(days=1)
    return f"{months} months ({day:%d/%m/%Y} - {end:%d/%m/%Y})"


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


class _Estate:
    def __init__(self, directory: Path, seed: int, clients: int, today: dt.date):
        self.dir = directory
        self.rng = random.Random(seed * 7919 + 1)
        self.today = today
        self.plans = plan_world(seed=seed, today=today, count=clients)
        # The Acme trio are one real client entered three times: keep the full record and
        # let the other two spellings appear only as extra rows and invoice names.
        self.skip = set(ACME_NUMBERS[1:]) if clients >= max(ACME_NUMBERS) else set()
        self.truth: dict[int, TruthClient] = {}
        self.leads: list[dict] = []  # companies only a rep's workbook names: each the rep's prospect
        self.waiting_stages: list[dict] = []  # deals at a stage word the funnel lacks: held, not imported
        self.staff = {m.username: m.full_name for m in demo_staff()}
        self.conflicts: list[dict] = []
        self.drifts: list[dict] = []  # client-master values planted apart from what Xero bills
        self.secondary: set[tuple[int, str]] = set()  # (client, product) the master does not list

    def clients(self) -> list[AccountPlan]:
        return [p for p in self.plans if p.number not in self.skip]

    # --- D1 ------------------------------------------------------------------------
    def client_master(self) -> None:
        rng = self.rng
        wb = Workbook()
        ws = wb.active
        ws.title = "Clients"
        ws.append(["CLIENT REGISTER - DO NOT EDIT (ask Bev)"])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(D1_HEADERS))
        ws.append(
            ["Company", None, None, None, None, None, None, None, None, "Contract", None, None, None, None, "Contact"]
        )
        ws.merge_cells("A2:I2")
        ws.merge_cells("J2:N2")
        ws.merge_cells("O2:R2")
        ws.append(D1_HEADERS)
        row_number = 3
        for plan in self.clients():
            f = plan.fields
            code = account_code(plan.number)
            truth = self.truth.setdefault(
                plan.number, TruthClient(id=f"T{plan.number:05d}", code=code, legal_name=f["legal_name"], abn=f["abn"])
            )
            primary = next((c for c in plan.contacts if c.is_primary), plan.contacts[0] if plan.contacts else None)
            # The master lists current contracts only; ended ones were deleted from the sheet.
            # Most clients' rows hold their primary product only: the other subscriptions
            # are known to Xero's invoices and the renewal calendar (seed 001).
            current = [s for s in plan.subscriptions if s.status in ("active", "pending")]
            subs = current or [None]
            if len(current) > 1 and rng.random() < PRIMARY_ONLY:
                subs = current[:1]
                self.secondary.update((plan.number, s.product) for s in current[1:])
            variant_from = 1 if len(subs) > 1 and rng.random() < 0.04 else None
            for index, sub in enumerate(subs):
                variant = variant_from is not None and index >= variant_from
                name = _variant_name(rng, f["legal_name"]) if variant else f["legal_name"]
                if not variant and rng.random() < 0.03:
                    name += "  "
                abn = f["abn"]
                if abn and rng.random() < 0.4:
                    abn = f"{abn[:2]} {abn[2:5]} {abn[5:8]} {abn[8:]}"
                if variant and rng.random() < 0.5:
                    abn = ""
                d1_value = None
                if sub is not None:
                    d1_value = sub.annual_value
                    if rng.random() < 0.1 and sub.annual_value > 0:
                        d1_value = _drifted(rng, sub.annual_value)
                row = [
                    "" if variant else code,
                    name,
                    "" if variant else f["trading_name"],
                    abn,
                    f["industry"].replace("_", " ").title(),
                    f["office"].title(),
                    f["lifecycle_status"].title(),
                    _loose_person(rng, self.staff.get(plan.owner, "")),
                    _loose_person(rng, self.staff.get(plan.coordinator, "")) if plan.coordinator else "",
                    _loose_product(rng, PRODUCTS[sub.product].name) if sub else None,
                    sub.seats if sub else None,
                    _date_cell(rng, sub.start_date) if sub else None,
                    _date_cell(rng, sub.renewal_date) if sub else None,
                    _money_text(rng, d1_value) if d1_value is not None else None,
                    f"{primary.first_name} {primary.last_name}" if primary else None,
                    primary.email if primary else None,
                    f["phone"],
                    rng.choice([f["state"], f["state"].lower(), ".".join(f["state"]) + ".", f["state"]]),
                    SEGMENT_LABELS[f["segment"]],
                    "" if variant else f["street"],
                    "" if variant else f["suburb"],
                    "" if variant else (int(f["postcode"]) if f["postcode"] and rng.random() < 0.5 else f["postcode"]),
                    "" if variant else f["website"],
                ]
                ws.append(row)
                row_number += 1
                if rng.random() < 0.03:
                    ws.row_dimensions[row_number].hidden = True  # filtered out: must still import
                truth.rows.append(["d1", CLIENT_MASTER, "Clients", row_number])
                if sub is not None:
                    truth.subscriptions[sub.product] = {
                        "annual_value": str(sub.annual_value),
                        "renewal_date": sub.renewal_date.isoformat() if sub.renewal_date else None,
                        "d1_value": str(d1_value),
                        "seats": sub.seats,
                        "stores": ["d1"],
                    }
                    if d1_value != sub.annual_value:
                        self.conflicts.append({"code": code, "product": sub.product, "field": "annual_value"})
                        self.drifts.append({"code": code, "product": sub.product})
            if plan.number == ACME_NUMBERS[0] and self.skip:
                for name, abn in (("ACME", "99612345678"), ("Acme", "")):
                    sub = plan.subscriptions[0]
                    ws.append(
                        [
                            "",
                            name,
                            "",
                            abn,
                            "",
                            "Perth",
                            "",
                            "",
                            "",
                            PRODUCTS[sub.product].name,
                            sub.seats,
                            _date_cell(rng, sub.start_date),
                            _date_cell(rng, sub.renewal_date),
                            _money_text(rng, sub.annual_value),
                            "Jane Citizen",
                            "",
                            "0855501234",
                            "W.A.",
                        ]
                    )
                    row_number += 1
                    truth.rows.append(["d1", CLIENT_MASTER, "Clients", row_number])
        ws.auto_filter.ref = f"A3:R{row_number}"
        ws.append([])
        ws.append([None] * 12 + ["Total", f"=SUM(N4:N{row_number})"])  # never calculated: no cached value
        notes = wb.create_sheet("Notes")
        notes.append(["Dates before mid-2021 were typed by hand; some are text."])
        notes.sheet_state = "hidden"
        wb.save(self.dir / CLIENT_MASTER)

    # --- D4 ------------------------------------------------------------------------
    def xero_invoices(self) -> None:
        rng = self.rng
        rows: list[list] = []
        number = 1000
        for plan in self.clients():
            truth = self.truth[plan.number]
            for sub in plan.subscriptions:
                if sub.status not in ("active", "pending") or sub.annual_value <= 0:
                    continue
                frequency = rng.choices([f for f, _ in BILLING_FREQUENCIES], [w for _, w in BILLING_FREQUENCIES])[0]
                amounts = _split(sub.annual_value, frequency)
                # An export that holds only the latest quarter: annualised by the cadence,
                # never a sum of the months it happens to hold.
                held = len(amounts)
                if frequency >= 4 and rng.random() < PARTIAL_EXPORT:
                    held = frequency // 4
                stated = rng.random() < 0.5 or held == 1
                for i, amount in enumerate(amounts[:held]):
                    number += 1
                    day = self.today - dt.timedelta(days=int(365 * (i + 0.5) / frequency))
                    contact = plan.fields["legal_name"]
                    if rng.random() < 0.08:
                        contact = _variant_name(rng, contact).strip()
                    if plan.number == ACME_NUMBERS[0] and i % 2:
                        contact = "ACME"
                    status = "Paid" if day < self.today - dt.timedelta(days=30) else "Awaiting Payment"
                    period = _period_text(day, frequency) if stated or frequency <= 2 else ""
                    rows.append(_xero_row(contact, f"INV-{number}", day, sub, amount, status, "Sales invoice", period))
                    truth.rows.append(["d4", XERO_INVOICES, "", len(rows) + 1])
                self._billed(plan, sub, amounts, held, frequency)
                if rng.random() < 0.02:  # a voided invoice never counts
                    number += 1
                    rows.append(
                        _xero_row(
                            plan.fields["legal_name"],
                            f"INV-{number}",
                            self.today,
                            sub,
                            sub.annual_value,
                            "Voided",
                            "Sales invoice",
                        )
                    )
        with open(self.dir / XERO_INVOICES, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(XERO_HEADERS)
            writer.writerows(rows)

    def _billed(self, plan: AccountPlan, sub, amounts: list[Decimal], held: int, frequency: int) -> None:
        """The truth of a subscription Xero bills: its annual value as the invoices held
        show it (a partial export's invoices times the cadence), and, for one the master
        does not list, the subscription itself."""
        billed = sub.annual_value if held == len(amounts) else amounts[0] * frequency
        truth = self.truth[plan.number]
        facts = truth.subscriptions.get(sub.product)
        if facts is None:
            facts = truth.subscriptions[sub.product] = {
                "annual_value": str(billed),
                "renewal_date": None,
                "d1_value": None,
                "seats": 1,
                "stores": [],
            }
        facts["annual_value"] = str(billed)
        facts["stores"].append("d4")
        facts["cadence"] = CADENCES[frequency]

    # --- D7 ------------------------------------------------------------------------
    def outlook_renewals(self) -> None:
        rng = self.rng
        rows = []
        for plan in self.clients():
            for sub in plan.subscriptions:
                if sub.renewal_date is None or sub.status not in ("active", "pending"):
                    continue
                secondary = (plan.number, sub.product) in self.secondary
                if not secondary and rng.random() < 0.08:
                    continue  # the renewal blind spot: filtered out of D1, never copied here
                day = sub.renewal_date
                if secondary:
                    # The only record of its renewal (the master does not list it).
                    facts = self.truth[plan.number].subscriptions.setdefault(
                        sub.product,
                        {"annual_value": "0.00", "renewal_date": None, "d1_value": None, "seats": 1, "stores": []},
                    )
                    facts["renewal_date"] = day.isoformat()
                    facts["stores"].append("d7")
                elif rng.random() < 0.05:
                    day = day + dt.timedelta(days=rng.choice([-30, -7, 1, 14, 31]))
                    self.conflicts.append(
                        {"code": account_code(plan.number), "product": sub.product, "field": "renewal_date"}
                    )
                end = day + dt.timedelta(days=1)
                name = plan.fields["trading_name"] or plan.fields["legal_name"]
                rows.append(
                    [
                        f"Renewal: {name} - {PRODUCTS[sub.product].name}",
                        f"{day.day}/{day:%m/%Y}",
                        "12:00:00 AM",
                        f"{end.day}/{end:%m/%Y}",
                        "12:00:00 AM",
                        "True",
                        "True",
                        f"{day.day}/{day:%m/%Y}",
                        "9:00:00 AM",
                        "Customer Relations",
                        "",
                        "",
                        "",
                        "",
                        "Renewals",
                        f'Client {account_code(plan.number)}\r\nContract value "as per master sheet"',
                        "",
                        "",
                        "Normal",
                        "False",
                        "Normal",
                        "0",
                    ]
                )
                self.truth[plan.number].rows.append(["d7", OUTLOOK_RENEWALS, "", len(rows) + 1])
        with open(self.dir / OUTLOOK_RENEWALS, "w", newline="", encoding="cp1252", errors="replace") as handle:
            writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
            writer.writerow(OUTLOOK_HEADERS)
            writer.writerows(rows)

    # --- D3 ------------------------------------------------------------------------
    def pipelines(self) -> list[str]:
        by_rep: dict[str, list[tuple[AccountPlan, object]]] = {}
        for plan in self.clients():
            for opp in plan.opportunities:
                by_rep.setdefault(opp.owner, []).append((plan, opp))
        files = []
        for index, (rep, deals) in enumerate(sorted(by_rep.items())):
            headers, stage_words = PIPELINE_LAYOUTS[index % len(PIPELINE_LAYOUTS)]
            wb = Workbook()
            ws = wb.active
            ws.title = "Pipeline"
            ws.append([f"Rep: {self.staff.get(rep, rep)}"])
            ws.append([])
            ws.append(headers)
            for plan, opp in deals:
                name = plan.fields["trading_name"] or plan.fields["legal_name"]
                if self.rng.random() < 0.1:
                    name = _variant_name(self.rng, plan.fields["legal_name"]).strip()
                ws.append(
                    [
                        name,
                        opp.name,
                        stage_words.get(opp.stage, opp.stage.title()),
                        _money_text(self.rng, opp.amount),
                        _date_cell(self.rng, opp.expected_close),
                        PRODUCTS[opp.product].name if opp.product else "",
                    ]
                )
                self.truth[plan.number].opportunities += 1
            self._leads(ws, rep, index)
            filename = f"Pipeline - {self.staff.get(rep, rep)}.xlsx"
            wb.save(self.dir / filename)
            files.append(filename)
        return files

    def _leads(self, ws, rep: str, index: int) -> None:
        """A rep's leads for companies that are no client yet (seed 000: leads are captured
        in the rep's own workbook), and a deal at a stage the CRM's funnel does not have."""
        company = LEAD_COMPANIES[index % len(LEAD_COMPANIES)]
        self.leads.append({"name": company, "rep": rep, "deals": 2})
        ws.append([company, "First conversation", "Lead", "5k", None, ""])
        ws.append([company, "Pilot proposal", "Proposal", "12,000", None, ""])
        self.waiting_stages.append({"rep": rep, "word": "Negotiation", "row": ws.max_row + 1})
        plan, opp = next((p, o) for p in self.clients() for o in p.opportunities if o.owner == rep)
        ws.append([plan.fields["legal_name"], f"{opp.name} (second phase)", "Negotiation", "3000", None, ""])

    def write_truth(self, pipeline_files: list[str], helpdesk_files: list[str], helpdesk: dict | None) -> None:
        payload = {
            "generated_for": self.today.isoformat(),
            "files": [CLIENT_MASTER, XERO_INVOICES, OUTLOOK_RENEWALS, *pipeline_files, *helpdesk_files],
            "clients": [vars(t) for t in self.truth.values()],
            "conflicts": self.conflicts,
            "drifts": self.drifts,
            "leads": self.leads,
            "waiting_stages": self.waiting_stages,
        }
        if helpdesk is not None:
            payload["helpdesk"] = helpdesk
        (self.dir / TRUTH).write_text(json.dumps(payload, indent=1))


def _split(total: Decimal, parts: int) -> list[Decimal]:
    """`total` in `parts` invoice amounts that add up exactly (the last takes the cents)."""
    each = (total / parts).quantize(Decimal("0.01"))
    return [each] * (parts - 1) + [total - each * (parts - 1)]


def _xero_row(
    contact: str, number: str, day: dt.date, sub, amount: Decimal, status: str, kind: str, period: str = ""
) -> list:
    tax = (amount * Decimal("0.1")).quantize(Decimal("0.01"))
    values = dict.fromkeys(XERO_HEADERS, "")
    product = PRODUCTS[sub.product]
    values.update(
        ContactName=contact,
        InvoiceNumber=number,
        Reference=sub.tenancy_ref,
        InvoiceDate=day.strftime("%d/%m/%Y"),
        DueDate=(day + dt.timedelta(days=30)).strftime("%d/%m/%Y"),
        Total=f"{amount + tax:.2f}",
        TaxTotal=f"{tax:.2f}",
        InvoiceAmountPaid=f"{amount + tax:.2f}" if status == "Paid" else "0.00",
        InvoiceAmountDue="0.00" if status in ("Paid", "Voided") else f"{amount + tax:.2f}",
        InventoryItemCode=sub.product.upper(),
        Description=f"{product.name} subscription ({sub.seats} {product.unit})" + (f" - {period}" if period else ""),
        Quantity="1.0000",
        UnitAmount=f"{amount:.2f}",
        LineAmount=f"{amount:.2f}",
        AccountCode="200",
        TaxType="GST on Income",
        TaxAmount=f"{tax:.2f}",
        Currency="AUD",
        Type=kind,
        Sent="Sent",
        Status=status,
    )
    return [values[h] for h in XERO_HEADERS]


def write_estate(
    directory: Path, *, seed: int = 2026, clients: int = 500, today: dt.date | None = None, helpdesk: bool = True
) -> list[str]:
    """Write every legacy file and truth.json into `directory`; return the file names.

    `helpdesk=False` leaves D2 out (the demo world loads its own two years of tickets).
    """
    from django.utils import timezone

    directory.mkdir(parents=True, exist_ok=True)
    estate = _Estate(directory, seed, clients, today or timezone.localdate())
    estate.client_master()
    estate.xero_invoices()
    estate.outlook_renewals()
    pipelines = estate.pipelines()
    # D2 last, with its own random generator: the files above stay the same for a seed.
    helpdesk_files, helpdesk_truth = write_helpdesk(estate, seed=seed) if helpdesk else ([], None)
    estate.write_truth(pipelines, helpdesk_files, helpdesk_truth)
    return [CLIENT_MASTER, XERO_INVOICES, OUTLOOK_RENEWALS, *pipelines, *helpdesk_files, TRUTH]
