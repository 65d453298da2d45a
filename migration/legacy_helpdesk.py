"""D2, the support ticket log, as CloudCore has it: two copies that partly overlap (seed 000,
section 3). Called by `legacy_estate.write_estate` with the same plan as the other stores.

- `helpdesk_tickets.csv`: the helpdesk's ticket export in Freshdesk's column layout (UTF-8
  with a BOM, CRLF, local Perth times `YYYY-MM-DD HH:MM:SS`), the last twelve months, with
  the custom `Client code` field the agents fill in most of the time (sometimes as a `cc045`
  tag instead, sometimes with two digits swapped). The company is the helpdesk's own record
  of the client: the legal name, the brand, a typed variant, now and then a typo; some
  contacts have no company; a few companies are no client at all (a trial, a partner).
- `support_triage.xlsx`: the support team's Excel sheet (merged title, its own column names:
  date logged, ticket #, client as typed, severity P1-P4, escalation notes, the contract
  value and renewal looked up by hand, a formula column nobody recalculated, hidden rows).
  It goes back eighteen months, so some of its tickets are older than the export; some rows
  are phone calls never ticketed, some name a ticket twice, and a few carry a mistyped
  ticket number.

The truth (which client each row really is, what each triage row should do) goes into
truth.json under `helpdesk`, and each row into its client's `rows` like the other stores.
Its own random generator keeps the other stores' files byte-identical for a seed.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from openpyxl import Workbook
from openpyxl.utils.datetime import to_excel

from customers.demo import ACME_NUMBERS, PRODUCTS, AccountPlan

if TYPE_CHECKING:
    from migration.legacy_estate import TruthClient, _Estate

EXPORT = "helpdesk_tickets.csv"
TRIAGE = "support_triage.xlsx"
TRIAGE_SHEET = "Triage log"
# The same answers on Freshdesk's five-point survey (same 0-10 score as the three-point label).
FIVE_POINT = {"Awesome": "Extremely satisfied", "Neutral": "Neutral", "Not Good": "Extremely dissatisfied"}
EXPORT_HEADERS = [
    "Ticket ID",
    "Subject",
    "Status",
    "Priority",
    "Source",
    "Type",
    "Agent",
    "Group",
    "Created time",
    "Due by Time",
    "Resolved time",
    "Closed time",
    "Last update time",
    "Initial response time",
    "Time tracked",
    "First response time (in hrs)",
    "Resolution time (in hrs)",
    "Agent interactions",
    "Customer interactions",
    "Resolution status",
    "First response status",
    "Tags",
    "Survey results",
    "Product",
    "Full name",
    "Email",
    "Work phone",
    "Mobile phone",
    "Contact ID",
    "Company Name",
    "Company Domains",
    "Client code",  # a custom ticket field: Freshdesk appends custom fields after its own
]
TRIAGE_HEADERS = [
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
FIRST_TICKET = 40001
EXPORT_DAYS = 365  # the export was filtered to the last twelve months
SHEET_DAYS = 545  # the triage sheet was started eighteen months ago
YEARLY = {"small": 2.5, "mid": 5.0, "enterprise": 24.0}  # tickets a year per client, before its own spread
PRIORITIES = ("Low", "Medium", "High", "Urgent")
PRIORITY_WEIGHTS = (25, 50, 20, 5)
SLA_HOURS = {"Low": 72, "Medium": 24, "High": 8, "Urgent": 4}
RESOLUTION_HOURS = {"Low": 30, "Medium": 14, "High": 6, "Urgent": 3}
AGENTS = ("Sam Lee", "Alex Wong", "Jess Ferreira", "Tui Rangi", "Dev Patel")
SUBJECTS = (
    "Outlook keeps asking for a password",
    "Cannot connect to the VPN from home",
    "New starter: email, laptop and {product} access",
    "Backup job failed overnight",
    'Backup job failed - warehouse NAS ("VSS error 0x80042306")',
    "Printer offline at reception",
    "Shared drive is very slow",
    "Phishing email reported by staff",
    "MFA reset for a user who changed phones",
    "{product} not syncing on one PC",
    "{product}: report will not refresh",
    "Teams calls breaking up, again",
    "Restore a deleted folder, urgently please",
    "Licence needed for a new user",
    "Laptop will not boot after update",
    "Firewall blocking a supplier portal",
    "Leaver: disable account and forward email",
    "Quote request: extra {product} seats",
    "Website certificate expiring",
)
TAGS = ("m365", "vpn", "backup", "printer", "onboarding", "security", "licence", "network", "renewal")
NOTES = (
    "Escalated to L2, client very unhappy",
    "Client says this is the third time this month. Told account manager.",
    "Waiting on vendor (Microsoft) - case opened",
    "Practice manager called twice; wants a call back from a senior tech",
    "Looked up contract in the master sheet - they are on a premium SLA",
    "Renewal coming up, flagged to sales",
    "Onsite visit booked",
    "Called client 2pm.\nNo answer, left voicemail.",
    "Mentioned they are looking at other providers!!",
    "Root cause: expired certificate. Fix applied, monitoring",
)
ESCALATED_TO = ("L2 - Alex", "Account manager", "Vendor", "Team lead", "")
SEVERITY_WORDS = {
    "Urgent": ("P1", "Sev 1", "URGENT", "Critical", "P1 - Critical"),
    "High": ("P2", "High", "Sev 2", "hi", "P2 - High"),
    "Medium": ("P3", "Med", "Medium", "Normal"),
    "Low": ("P4", "Low", "low"),
}
SHEET_STATUS = {"Open": "Open", "Pending": "Waiting on client", "Resolved": "Resolved", "Closed": "Closed"}
# Companies that contacted support but are no client in the client master.
UNKNOWN_COMPANIES = (
    ("Zephyr Aviation Charters", "zephyraviation.example"),
    ("Quandong Vineyard Estate", "quandongvineyard.example"),
    ("Nullarbor Roadhouse Co", "nullarborroadhouse.example"),
    ("Mundaring Pottery Studio", "mundaringpottery.example"),
    ("Exmouth Dive Charters", "exmouthdive.example"),
    ("Bunyip Toy Workshop", "bunyiptoys.example"),
    ("Yanchep Kite School", "yanchepkites.example"),
    ("Lake Ballard Art Trail Inc", "lakeballard.example"),
)
EXPORT_MOMENT = dt.time(17, 30)  # when the export was taken, on the estate's day
# The rarer mistakes come at a fixed rhythm, so even a small estate has each of them.
TYPO_EVERY = 60  # one client in 60 has a misspelt helpdesk company
WRONG_CODE_EVERY = 150  # one coded ticket in 150 has the code's last two digits swapped
REPEAT_EVERY = 25  # one triaged ticket in 25 is logged on two rows
WRONG_TICKET_EVERY = 60  # one triaged ticket in 60 gets a second row with a mistyped number


@dataclass
class _Contact:
    name: str
    email: str
    phone: str
    company: str  # the helpdesk company this contact is filed under ("" = none)
    contact_id: int


@dataclass
class _Ticket:
    client: TruthClient | None  # None: a company that is no client
    plan: AccountPlan | None
    contact: _Contact
    domain: str
    opened: dt.datetime
    priority: str
    subject: str
    product: str
    number: int = 0
    code: str = ""
    case: str = "clean"
    status: str = "Closed"  # what the export says; older tickets were closed long ago


@dataclass
class Helpdesk:
    """What the two D2 files hold, for truth.json."""

    export_rows: list[dict] = field(default_factory=list)
    triage_rows: list[dict] = field(default_factory=list)

    def truth(self) -> dict:
        return {
            "export": EXPORT,
            "triage": TRIAGE,
            "triage_sheet": TRIAGE_SHEET,
            "export_rows": self.export_rows,
            "triage_rows": self.triage_rows,
        }


def _typo(rng: random.Random, name: str) -> str:
    """Two neighbouring letters of the longest word swapped: a fast typist's name."""
    words = name.split()
    index = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[index]
    if len(word) < 5:
        return name
    at = rng.randrange(1, len(word) - 2)
    words[index] = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    return " ".join(words)


def _brand(plan: AccountPlan) -> str:
    legal = plan.fields["legal_name"]
    for suffix in (" Pty Ltd", " Pty. Ltd.", " Ltd"):
        if legal.endswith(suffix):
            legal = legal[: -len(suffix)]
            break
    return plan.fields["trading_name"] or legal


def _domain(plan: AccountPlan) -> str:
    website = plan.fields.get("website") or ""
    return website.split("//", 1)[-1].removeprefix("www.").strip("/")


def _hms(hours: float) -> str:
    seconds = int(hours * 3600)
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _stamp(moment: dt.datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""


class _Writer:
    def __init__(self, estate: _Estate, seed: int):
        from migration.legacy_estate import _money_text, _variant_name

        self.estate = estate
        self.rng = random.Random(seed * 7919 + 2)  # D2's own: the other stores' draws are untouched
        self.variant = _variant_name
        self.money = _money_text
        self.today = estate.today
        self.export_at = dt.datetime.combine(self.today, EXPORT_MOMENT)
        self.tickets: list[_Ticket] = []
        self.typo_clients: set[int] = set()  # clients whose helpdesk company name is misspelt
        self.contacts_of: dict[int, list[_Contact]] = {}
        self.out = Helpdesk()

    # --- Tickets ---------------------------------------------------------------------
    def plan(self) -> None:
        rng = self.rng
        clients = self.estate.clients()
        acme = ACME_NUMBERS[0] if self.estate.skip else None
        for plan in clients:
            if plan.fields["lifecycle_status"] == "prospect" or not plan.contacts:
                continue
            client = self.estate.truth[plan.number]
            company = self._company(plan, acme)
            contacts = []
            for i, person in enumerate(plan.contacts):
                filed = company if rng.random() > 0.05 else ""  # a contact nobody linked to the company
                if plan.number == acme:
                    filed = ("Acme Pty. Ltd.", "ACME")[i % 2]
                contacts.append(
                    _Contact(
                        f"{person.first_name} {person.last_name}",
                        person.email,
                        person.phone,
                        filed,
                        48000120000 + plan.number * 10 + i,
                    )
                )
            rate = YEARLY.get(plan.fields["segment"], 2.5) * rng.lognormvariate(0, 0.6)
            # Ex-clients stopped calling some months before they left.
            newest = 200 if plan.fields["lifecycle_status"] == "churned" else 0
            self.contacts_of[plan.number] = contacts
            products = [PRODUCTS[s.product].name for s in plan.subscriptions if s.status in ("active", "pending")]
            for days_ago in self._days(rate, newest):
                self.tickets.append(self._ticket(client, plan, rng.choice(contacts), _domain(plan), days_ago, products))
        for index, (name, domain) in enumerate(UNKNOWN_COMPANIES[: max(1, len(clients) // 40)]):
            person = _Contact(f"Guest {index + 1}", f"office@{domain}", "", name, 48000990000 + index)
            for _ in range(1 + index % 3):
                days_ago = rng.uniform(1, EXPORT_DAYS - 5)
                ticket = self._ticket(None, None, person, domain, days_ago, [])
                ticket.case = "unknown_company"
                self.tickets.append(ticket)
        self.tickets.sort(key=lambda t: t.opened)
        for number, ticket in enumerate(self.tickets, FIRST_TICKET):
            ticket.number = number
        self._misspell(acme)

    def _misspell(self, acme: int | None) -> None:
        """Every TYPO_EVERY-th client with tickets in the export gets a misspelt company."""
        start = self.export_at - dt.timedelta(days=EXPORT_DAYS)
        exported = {t.plan.number for t in self.tickets if t.plan and t.opened >= start and t.contact.company}
        eligible = [p for p in self.estate.clients() if p.number in exported and p.number != acme]
        for plan in eligible[TYPO_EVERY // 3 :: TYPO_EVERY]:
            typo = _typo(self.rng, _brand(plan))
            if typo == _brand(plan):
                continue
            for contact in self.contacts_of[plan.number]:
                if contact.company:
                    contact.company = typo
            self.typo_clients.add(plan.number)

    def _company(self, plan: AccountPlan, acme: int | None) -> str:
        """The helpdesk's company record for this client, typed once by whoever created it."""
        rng = self.rng
        legal = plan.fields["legal_name"]
        choice = rng.random()
        if plan.number == acme:
            return "ACME"
        if choice < 0.45:
            return legal
        if choice < 0.75:
            return _brand(plan)
        return self.variant(rng, legal).strip()

    def _days(self, rate: float, newest: float) -> list[float]:
        days, day = [], SHEET_DAYS
        while True:
            day -= self.rng.expovariate(rate / 365)
            if day <= max(newest, 0.3):
                return days
            days.append(day)

    def _ticket(self, client, plan, contact, domain, days_ago: float, products: list[str]) -> _Ticket:
        rng = self.rng
        opened = self.export_at - dt.timedelta(days=days_ago)
        # Tickets arrive in working hours, Perth time.
        opened = opened.replace(hour=rng.randint(7, 17), minute=rng.randint(0, 59), second=rng.randint(0, 59))
        opened = min(opened, self.export_at - dt.timedelta(minutes=30))
        product = rng.choice(products) if products and rng.random() < 0.7 else ""
        subject = rng.choice(SUBJECTS).format(product=product or "CloudSync")
        priority = rng.choices(PRIORITIES, PRIORITY_WEIGHTS)[0]
        return _Ticket(client, plan, contact, domain, opened, priority, subject, product)

    # --- The export ------------------------------------------------------------------------
    def export(self) -> None:
        rng = self.rng
        rows = []
        start = self.export_at - dt.timedelta(days=EXPORT_DAYS)
        by_code = {t.code: t for t in self.estate.truth.values()}
        coded = 0
        uncoded: set[int] = set()  # misspelt clients whose first ticket came without a code
        for ticket in self.tickets:
            if ticket.opened < start:
                continue
            code = ""
            tags = rng.sample(TAGS, rng.choice([0, 1, 1, 2]))
            number = ticket.plan.number if ticket.plan else None
            if number in self.typo_clients and number not in uncoded and ticket.contact.company:
                uncoded.add(number)
            elif ticket.client is not None:
                draw = rng.random()
                if draw < 0.68:
                    code = ticket.client.code if rng.random() < 0.9 else ticket.client.code.lower()
                elif draw < 0.72:
                    tags.append(ticket.client.code.lower())  # the code as a tag, not in the field
                    ticket.case = "code_tag"
                swapped = _swapped_code(ticket.client.code)
                detectable = ticket.contact.company and ticket.plan.number not in self.typo_clients
                if code and detectable and swapped in by_code and swapped != code:
                    coded += 1
                    if coded % WRONG_CODE_EVERY == WRONG_CODE_EVERY // 3:
                        code, ticket.case = swapped, "wrong_code"  # CC045 typed as CC054
            ticket.code = code
            if ticket.case == "clean" and not code and ticket.client is not None:
                if not ticket.contact.company:
                    ticket.case = "no_company"  # found by the requester's email, if anything
                elif ticket.plan.number in self.typo_clients:
                    ticket.case = "typo_company"  # held for a person to choose
            rows.append(self._export_row(ticket, code, tags))
            self.out.export_rows.append(
                {
                    "row": len(rows) + 1,
                    "ticket": str(ticket.number),
                    "client": ticket.client.id if ticket.client else None,
                    "code": ticket.client.code if ticket.client else None,
                    "company": ticket.contact.company,
                    "case": ticket.case,
                    "priority": ticket.priority.lower(),
                }
            )
            if ticket.client is not None:
                ticket.client.rows.append(["d2", EXPORT, "", len(rows) + 1])
        with open(self.estate.dir / EXPORT, "w", newline="", encoding="utf-8-sig") as handle:
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow(EXPORT_HEADERS)
            writer.writerows(rows)

    def _export_row(self, ticket: _Ticket, code: str, tags: list[str]) -> list[str]:
        rng = self.rng
        opened, priority = ticket.opened, ticket.priority
        age = (self.export_at - opened).total_seconds() / 3600
        hours = RESOLUTION_HOURS[priority] * rng.lognormvariate(0, 0.8)
        first = min(age, rng.uniform(0.05, 3.0) * (0.5 if priority in ("High", "Urgent") else 1.5))
        resolved = closed = None
        if hours < age and rng.random() < 0.97:
            resolved = opened + dt.timedelta(hours=hours)
            status = "Closed" if age - hours > 72 else "Resolved"
            if status == "Closed":
                closed = resolved + dt.timedelta(hours=rng.uniform(48, 72))
        else:
            status = rng.choice(["Open", "Open", "Pending", "Waiting on Third Party"])
        updated = closed or resolved or min(opened + dt.timedelta(hours=rng.uniform(0.5, 30)), self.export_at)
        survey = ""
        if resolved and rng.random() < 0.4:
            survey = rng.choices(["Awesome", "Neutral", "Not Good"], [60, 25, 15])[0]
            if ticket.number % 3 == 0:  # the survey was switched to Freshdesk's five-point scale
                survey = FIVE_POINT[survey]
        sla = SLA_HOURS[priority]
        contact = ticket.contact
        values = {
            "Ticket ID": str(ticket.number),
            "Subject": ticket.subject,
            "Status": status,
            "Priority": priority,
            "Source": rng.choice(["Email", "Email", "Portal", "Phone", "Chat"]),
            "Type": rng.choice(["Incident", "Incident", "Service Request", "Question", "Problem"]),
            "Agent": rng.choice(AGENTS) if status != "Open" or rng.random() < 0.7 else "",
            "Group": "Sales" if ticket.subject.startswith("Quote") else "Service Desk",
            "Created time": _stamp(opened),
            "Due by Time": _stamp(opened + dt.timedelta(hours=sla)),
            "Resolved time": _stamp(resolved),
            "Closed time": _stamp(closed),
            "Last update time": _stamp(updated),
            "Initial response time": _stamp(opened + dt.timedelta(hours=first)),
            "Time tracked": f"{int(hours // 4):02d}:{rng.choice([0, 15, 30, 45]):02d}" if resolved else "00:00",
            "First response time (in hrs)": _hms(first),
            "Resolution time (in hrs)": _hms(hours) if resolved else "",
            "Agent interactions": str(rng.randint(1, 6)),
            "Customer interactions": str(rng.randint(1, 5)),
            "Resolution status": ("Within SLA" if hours <= sla else "SLA Violated") if resolved else "",
            "First response status": "Within SLA" if first <= sla / 4 else "SLA Violated",
            "Tags": ",".join(tags),
            "Survey results": survey,
            "Product": ticket.product,
            "Full name": contact.name,
            "Email": contact.email,
            "Work phone": contact.phone if contact.phone.startswith("0") and contact.phone[1] != "4" else "",
            "Mobile phone": contact.phone if contact.phone.startswith("04") else "",
            "Contact ID": str(contact.contact_id),
            "Company Name": contact.company,
            "Company Domains": ticket.domain if contact.company else "",
            "Client code": code,
        }
        ticket.status = status  # the sheet copies it
        return [values[h] for h in EXPORT_HEADERS]

    # --- The triage sheet --------------------------------------------------------------
    def triage(self) -> None:
        rng = self.rng
        start = self.export_at - dt.timedelta(days=EXPORT_DAYS)
        exported = [t for t in self.tickets if t.opened >= start and t.client is not None]
        entries: list[tuple[dt.datetime, list, dict]] = []
        picked = 0
        for ticket in self.tickets:
            if ticket.client is None:
                continue
            if rng.random() >= (0.4 if ticket.priority in ("High", "Urgent") else 0.05):
                continue
            picked += 1
            in_export = ticket.opened >= start
            logged = ticket.opened + dt.timedelta(minutes=rng.randint(5, 240))
            case = "enrich" if in_export else "not_in_export"
            entries.append(self._triage_entry(ticket, logged, case, ticket.number))
            if picked % REPEAT_EVERY == 3:  # logged again a day or two later, with more to say
                later = logged + dt.timedelta(days=rng.randint(1, 3), minutes=rng.randint(0, 300))
                case = "repeat" if in_export else "not_in_export"
                entries.append(self._triage_entry(ticket, later, case, ticket.number))
            if in_export and picked % WRONG_TICKET_EVERY == WRONG_TICKET_EVERY // 2:
                other = _neighbour(ticket, exported)
                if other is not None:
                    entries.append(self._triage_entry(ticket, logged, "wrong_ticket", other.number))
        for plan in self.estate.clients()[:: max(1, len(self.estate.clients()) // 12)]:
            # A phone call nobody ticketed: a client and notes, no ticket number.
            if plan.fields["lifecycle_status"] == "prospect" or not plan.contacts:
                continue
            first = plan.contacts[0]
            caller = _Contact(f"{first.first_name} {first.last_name}", first.email, first.phone, "", 0)
            ticket = self._ticket(self.estate.truth[plan.number], plan, caller, "", rng.uniform(1, 300), [])
            ticket.status = "Open"
            entries.append(self._triage_entry(ticket, ticket.opened, "no_ticket", None))
        entries.sort(key=lambda e: e[0])
        self._write_triage(entries)

    def _triage_entry(self, ticket: _Ticket, logged: dt.datetime, case: str, number: int | None):
        rng = self.rng
        plan, client = ticket.plan, ticket.client
        severity_of, level = ticket.priority, PRIORITIES.index(ticket.priority)
        draw = rng.random()
        if draw < 0.3 and severity_of != "Urgent":
            severity_of = PRIORITIES[level + 1]  # escalated beyond the helpdesk's view
        elif draw < 0.4 and severity_of != "Low":
            severity_of = PRIORITIES[level - 1]  # the agent thought it less pressing
        severity = "" if rng.random() < 0.06 else rng.choice(SEVERITY_WORDS[severity_of])
        if number is None:
            shown: object = rng.choice(["phone", "", "n/a", "called in"])
        else:
            form = rng.random()
            shown = (
                number
                if form < 0.55
                else f"#{number}"
                if form < 0.7
                else f"FD-{number}"
                if form < 0.8
                else f" {number} "
                if form < 0.85
                else str(number)
            )
        typed = self._typed_client(plan, ticket)
        if case == "wrong_ticket":  # named plainly, so the clash with the ticket's client shows
            typed = rng.choice([plan.fields["legal_name"], _brand(plan)])
        notes = rng.choice(NOTES) if rng.random() < 0.45 or case == "repeat" else ""
        subs = [s for s in (client.subscriptions.values() if client else []) if s.get("annual_value")]
        value = sum((Decimal(s["annual_value"]) for s in subs), Decimal(0)).quantize(Decimal(1))
        renewals = sorted(s["renewal_date"] for s in subs if s.get("renewal_date"))
        cells = [
            self._logged_cell(logged),
            shown,
            typed,
            ticket.contact.name,
            _clip(ticket.subject, rng.choice([40, 60, 200])),
            severity,
            rng.choice(ESCALATED_TO) if notes else "",
            notes,
            rng.choice(AGENTS),
            self.money(rng, value) if value and rng.random() < 0.5 else None,
            dt.date.fromisoformat(renewals[0]).strftime("%d/%m/%Y") if renewals and rng.random() < 0.4 else None,
            SHEET_STATUS.get(ticket.status, "Open") if rng.random() < 0.9 else "Escalated",
        ]
        sheet_priority = _priority_of(severity)
        truth = {
            "ticket": None if number is None else str(number),
            "client": client.id if client else None,
            "code": client.code if client else None,
            "case": case,
            "typed": typed,
            "severity": severity,
            "notes": bool(notes),
            "helpdesk_priority": ticket.priority.lower(),
            "sheet_priority": sheet_priority,
        }
        return logged, cells, truth

    def _typed_client(self, plan: AccountPlan | None, ticket: _Ticket) -> str:
        rng = self.rng
        if plan is None:
            return ticket.contact.company
        if self.estate.skip and plan.number == ACME_NUMBERS[0]:
            return rng.choice(["Acme", "ACME", "Acme Pty Ltd"])
        choice = rng.random()
        if choice < 0.4:
            return _brand(plan)
        if choice < 0.6:
            return plan.fields["legal_name"]
        if choice < 0.75 and ticket.contact.company:
            return ticket.contact.company
        if choice < 0.95:
            return self.variant(rng, plan.fields["legal_name"]).strip()
        if choice < 0.99:
            return _brand(plan).lower()
        return _typo(rng, _brand(plan))

    def _logged_cell(self, logged: dt.datetime) -> object:
        choice = self.rng.random()
        if choice < 0.7:
            return logged.replace(second=0, microsecond=0)
        if choice < 0.8:
            return dt.datetime.combine(logged.date(), dt.time())
        if choice < 0.9:
            return f"{logged.day}/{logged:%m/%Y}"
        if choice < 0.95:
            return f"{logged.day}/{logged.month}/{logged:%y} {logged:%H:%M}"
        return int(to_excel(dt.datetime.combine(logged.date(), dt.time())))  # a serial in a General cell

    def _write_triage(self, entries) -> None:
        wb = Workbook()
        ws = wb.active
        ws.title = TRIAGE_SHEET
        ws.append(["SUPPORT TRIAGE LOG - tickets we had to look up or escalate"])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(TRIAGE_HEADERS))
        ws.append(["Severity: P1 = down, P2 = degraded, P3 = annoying, P4 = question. Log it in the helpdesk FIRST."])
        ws.append(TRIAGE_HEADERS)
        ws.freeze_panes = "A4"
        for _logged, cells, truth in entries:
            row = ws.max_row + 1
            ws.append([*cells, f"=TODAY()-A{row}"])  # never recalculated: no cached value
            if self.rng.random() < 0.03:
                ws.row_dimensions[row].hidden = True  # filtered out by someone: still a row
            truth["row"] = row
            self.out.triage_rows.append(truth)
            if truth["client"] is not None:
                self.estate.truth[int(truth["client"][1:])].rows.append(["d2t", TRIAGE, TRIAGE_SHEET, row])
        ws.append([])
        ws.append([None, None, None, None, "NB anything P1 goes to the duty manager by phone as well - Sam"])
        self.out.triage_rows.append({"row": ws.max_row, "ticket": None, "client": None, "case": "remark"})
        ws.auto_filter.ref = f"A3:M{ws.max_row}"
        agents = wb.create_sheet("Agents")
        agents.append(["Agent", "Extension"])
        for index, agent in enumerate(AGENTS):
            agents.append([agent, 4100 + index])
        wb.save(self.estate.dir / TRIAGE)


def _clip(text: str, length: int) -> str:
    """The first words of `text` that fit in `length` characters (how an agent shortens it)."""
    return text if len(text) <= length else text[:length].rsplit(" ", 1)[0]


def _swapped_code(code: str) -> str:
    """CC045 -> CC054: the last two digits swapped (the same code when they are equal)."""
    return code[:-2] + code[-1] + code[-2]


def _neighbour(ticket: _Ticket, exported: list[_Ticket]) -> _Ticket | None:
    """Another client's exported ticket whose number differs by one digit: a mistyped number."""
    by_number = {t.number: t for t in exported}
    text = str(ticket.number)
    for position in range(len(text) - 1, 0, -1):
        for digit in "0123456789":
            other = by_number.get(int(text[:position] + digit + text[position + 1 :]))
            if other is not None and other.client is not None and other.client.id != ticket.client.id:
                return other
    return None


def _priority_of(severity: str) -> str | None:
    for priority, words in SEVERITY_WORDS.items():
        if severity in words:
            return priority.lower()
    return None


def write_helpdesk(estate: _Estate, *, seed: int) -> tuple[list[str], dict]:
    """Write D2's two files into the estate's directory; return their names and the truth."""
    writer = _Writer(estate, seed)
    writer.plan()
    writer.export()
    writer.triage()
    return [EXPORT, TRIAGE], writer.out.truth()
