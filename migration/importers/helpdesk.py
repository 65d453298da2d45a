"""D2, the support ticket log: the helpdesk's ticket export, then the support team's Excel
triage sheet that partly overlaps it. Both land in the support bridge's ticket mirror
through its one write path (`support_bridge.services.plan_tickets` / `save_tickets`).

The export (Freshdesk's layout, read with the support bridge's own header map and row
form): each ticket's client is its `Client code` field (or a `cc045` tag), else the
helpdesk company name through the run's account index, else the requester's email when it
is a known contact of exactly one client. A code that names one client while the company
plainly names another is rejected, never guessed. Rows are collected, then written in bulk
at the end of the file: one lookup of the tickets already mirrored, one bulk insert and one
bulk update with history.

The triage sheet: each row names a ticket (typed "#40123", "FD-40123" or 40123) and a client
as typed. A row about a ticket the helpdesk has enriches it: the gaps the helpdesk left,
a severity of high or urgent raises a lower priority (an escalation the helpdesk never
recorded), and the escalation notes go on the client's timeline for the account owner.
The ticket number settles an ambiguous client name; a number whose ticket belongs to a
client other than the one typed is rejected. A row about a ticket the export does not have
(older than the export, or never in the helpdesk) becomes a triage-sheet ticket, which a
later helpdesk export or webhook takes over. A row without a ticket number (a phone call
nobody ticketed) is rejected with its reason. The contract value and renewal date support
looked up by hand are not read: D1 and D4 own them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field, fields
from decimal import Decimal
from operator import attrgetter
from typing import ClassVar

from django.core.exceptions import ValidationError
from django.db.models import F
from django.db.models.functions import Lower

from cloudcore_crm.lib.headers import HeaderMap
from customers.choices import ActivityKind
from customers.models import Account, Activity, Contact
from migration.choices import HeldKind, Store
from migration.importers.base import HeldForReview, Importer, RowRejected
from migration.names import label_key
from migration.parsing import CellError, clean_text, parse_date
from migration.readers import SourceRow
from support_bridge import importers as ticket_files
from support_bridge import payloads
from support_bridge import services as tickets
from support_bridge.choices import TicketPriority, TicketSource, TicketStatus
from support_bridge.forms import ticket_from_row
from support_bridge.lookups import OneOf
from support_bridge.payloads import PayloadError, TicketData

ESCALATION = "Support escalation on ticket #"
NO_SUMMARY = "(no summary on the triage sheet)"
ONLY_ON_SHEET = "tickets only on the sheet"

TRIAGE_HEADERS = HeaderMap(
    synonyms={
        "external_id": ("Ticket #", "Ticket", "Ticket ID", "Ticket no", "Ticket number", "Ref"),
        "company": ("Client", "Client (as typed)", "Client name", "Customer", "Company"),
        "customer_code": ticket_files.CODE_HEADERS,
        "opened_at": ("Date logged", "Logged", "Opened"),
        "subject": ("Issue", "Summary", "Subject"),
        "priority": ("Severity", "Priority", "Sev"),
        "status": ("Status",),
        "notes": ("Escalation notes", "Notes", "Comments"),
        "escalated_to": ("Escalated to",),
        "agent": ("Agent", "Logged by"),
        "contact": ("Contact",),
        "email": ("Contact email", "Email"),
        "product": ("Product", "Service"),
        "resolved_at": ("Resolved", "Date resolved"),
        "resolution_hours": ("Hours", "Resolution hours"),
        "satisfaction": ("CSAT", "Satisfaction", "CSAT (0-10)"),
    },
    required=("external_id", "company", "opened_at"),
)
TICKET_NUMBER = re.compile(r"(?:[a-z]{1,8}\s*[-:]?\s*)?#?\s*(\d{1,12})")
SEVERITY_NUMBER = re.compile(r"(?:p|sev|severity|priority)\s*-?\s*([1-4])\b")
SEVERITY_DIGITS = {
    "1": TicketPriority.URGENT,
    "2": TicketPriority.HIGH,
    "3": TicketPriority.MEDIUM,
    "4": TicketPriority.LOW,
}
SEVERITY_WORDS = {
    "critical": TicketPriority.URGENT,
    "urgent": TicketPriority.URGENT,
    "emergency": TicketPriority.URGENT,
    "high": TicketPriority.HIGH,
    "hi": TicketPriority.HIGH,
    "medium": TicketPriority.MEDIUM,
    "med": TicketPriority.MEDIUM,
    "normal": TicketPriority.MEDIUM,
    "low": TicketPriority.LOW,
}
PRIORITY_ORDER = tickets.PRIORITY_ORDER


class _Held:
    """A client name that fits more than one account (kept to hold each row that names it)."""

    def __init__(self, held: HeldForReview):
        self.held = held


class _TicketImporter(Importer):
    """What both D2 files share: client names looked up once per file, results counted
    per row once the bulk write at the end of the file has decided them."""

    def prepare(self, table) -> None:
        self.typed: dict[str, Account | _Held | None] = {}  # by the name as typed

    def _named(self, name: str) -> Account | _Held | None:
        # The run remembers each spelling's match (`account_named`); this saves the
        # normalising of a name typed the same way on many rows.
        if name not in self.typed:
            try:
                self.typed[name] = self.ctx.account_named(name)
            except HeldForReview as held:
                self.typed[name] = _Held(held.again())
        return self.typed[name]

    def _rating(self, label: str, row: SourceRow) -> int | None:
        """A survey label the settings do not know: a steward's mapping, else no rating
        (the ticket still counts) and the label held, reported once with its count."""
        key = label_key(label)
        if key in self.ctx.survey_labels:
            return self.ctx.survey_labels[key]
        why = f"survey label {label!r} is not recognised"
        self.warn_grouped(f"{why}; tickets imported without a rating until a steward maps it at /migration/held/")
        self.ctx.hold_value(HeldKind.SURVEY, label, key, why, self.file_name, row.number)
        return None

    def _save(self, plan: tickets.MirrorPlan) -> None:
        # Their clients are rescored once, after the whole run commits (both D2 files
        # touch mostly the same clients).
        tickets.save_tickets(
            plan=plan, actor=self.ctx.actor, reason=f"Import run #{self.ctx.run.pk}: {self.file_name}", rescore=False
        )
        self.ctx.rescore.update(plan.accounts)

    def _settle(self, action: str) -> None:
        """A row counted as "read" when collected gets its real action at the end."""
        self.report.counts["read"] -= 1
        self.report.counts[action] += 1

    def _reject(self, row: SourceRow, reason: str) -> None:
        self.report.rejected.append((row.number, row.values, reason))
        self._settle("rejected")

    def _accounts_by_pk(self, wanted: set[int]) -> dict[int, Account]:
        known = {account.pk: account for account in self.ctx.accounts_by_code.values()}
        missing = wanted - set(known)
        if missing:
            known |= Account.objects.in_bulk(missing)
        return known

    def _finish_counts(self) -> None:
        if not self.report.counts["read"]:
            del self.report.counts["read"]


# --- The helpdesk export -------------------------------------------------------------------


_TICKET_FIELDS = attrgetter(*(f.name for f in fields(TicketData)))  # its values, in `TicketData(*values)` order


@dataclass
class _ExportRow:
    row: SourceRow
    data: TicketData
    account: Account | None  # None: to be found by the requester's email


class HelpdeskExportImporter(_TicketImporter):
    store = Store.HELPDESK
    header_map = ticket_files.HEADER_MAPS[ticket_files.FRESHDESK]

    def prepare(self, table) -> None:
        super().prepare(table)
        self.rows: list[_ExportRow] = []
        self.first_row: dict[str, int] = {}

    parses_apart = True

    @classmethod
    def parse_row(cls, row, values, file_name) -> tuple:
        try:
            # The support bridge's row validation (its import form's), without a form per row.
            data = ticket_from_row(values, source=TicketSource.FRESHDESK, provenance=f"{file_name} row {row.number}")
        except ValidationError as error:
            raise RowRejected(" ".join(error.messages)) from None
        # As a tuple: a second process's rows unpickle four times faster than dataclasses.
        return _TICKET_FIELDS(data)

    def import_row(self, row: SourceRow, parsed: tuple) -> str:
        data = TicketData(*parsed)
        if data.survey_label:
            data.satisfaction = self._rating(data.survey_label, row)
        first = self.first_row.setdefault(data.external_id, row.number)
        if first != row.number:
            raise RowRejected(f"ticket {data.external_id} is also on row {first}")
        self.rows.append(_ExportRow(row, data, self._account(data)))
        return "read"

    def _account(self, data: TicketData) -> Account | None:
        coded = self.ctx.accounts_by_code.get(data.customer_code) if data.customer_code else None
        named = self._named(data.company_name) if data.company_name else None
        if coded is not None:
            if isinstance(named, Account) and named.pk != coded.pk:
                raise RowRejected(
                    f"client code {data.customer_code} is {coded.legal_name}, but the company "
                    f"“{data.company_name}” is {named.code} {named.legal_name}; correct one of them in the helpdesk"
                )
            return coded
        unknown_code = f" (and there is no client {data.customer_code})" if data.customer_code else ""
        if isinstance(named, _Held):
            raise named.held.again()
        if data.company_name and named is None:
            raise RowRejected(f"no client in the client master matches the company “{data.company_name}”{unknown_code}")
        return named  # None without a company: the requester's email decides at the end

    def finish(self) -> None:
        self._by_requester()
        plan = tickets.plan_tickets(resolved=[(r.data, r.account) for r in self.rows])
        self._fill_mapped_ratings(plan)
        for (action, ticket), item in zip(plan.changes, self.rows, strict=True):
            if action != "unchanged":
                ticket._change_reason = self.reason(item.row)
        self._save(plan)
        for (action, ticket), item in zip(plan.changes, self.rows, strict=True):
            self.provenance(ticket, item.row, _export_fields(item.data))
            self._settle(action)
        self._finish_counts()

    def _by_requester(self) -> None:
        """Rows with neither code nor company: the client whose contact sent the ticket."""
        waiting = [r for r in self.rows if r.account is None]
        if not waiting:
            return
        emails = {r.data.requester_email for r in waiting if r.data.requester_email}
        owners: dict[str, set[int]] = defaultdict(set)
        for email, account_id in (
            Contact.objects.active_records()
            .annotate(lower_email=Lower("email"))
            .filter(lower_email__in=emails)
            .values_list("lower_email", "account_id")
        ):
            owners[email].add(account_id)
        accounts = self._accounts_by_pk({pk for ids in owners.values() for pk in ids})
        kept = []
        for item in self.rows:
            if item.account is None:
                found = owners.get(item.data.requester_email, set())
                if len(found) != 1:
                    code = item.data.customer_code
                    self._reject(
                        item.row,
                        (f"there is no client {code}, no company" if code else "no client code or company")
                        + f", and the requester ({item.data.requester_email or 'none'}) is "
                        + ("a contact of several clients" if found else "no known client contact"),
                    )
                    continue
                item.account = accounts[next(iter(found))]
            kept.append(item)
        self.rows = kept

    def _fill_mapped_ratings(self, plan: tickets.MirrorPlan) -> None:
        """A ticket mirrored without a rating because its survey label was unknown gets the
        score a steward has since mapped the label to (the snapshot itself is no newer)."""
        for index, ((action, ticket), item) in enumerate(zip(plan.changes, self.rows, strict=True)):
            if (
                action == "unchanged"
                and item.data.survey_label
                and item.data.satisfaction is not None
                and ticket.satisfaction is None
            ):
                ticket.satisfaction = item.data.satisfaction
                plan.updated.append(ticket)
                plan.changed_fields[id(ticket)] = frozenset({"satisfaction"})
                plan.changes[index] = ("updated", ticket)


def _export_fields(data: TicketData) -> list[str]:
    fields = ["account", "subject", "status", "priority", "opened_at"]
    for name, value in (
        ("resolved_at", data.resolved_at),
        ("resolution_hours", data.resolution_hours),
        ("satisfaction", data.satisfaction),
        ("product", data.product_name),
        ("contact", data.requester_email),
    ):
        if value not in (None, ""):
            fields.append(name)
    return fields


# --- The triage sheet --------------------------------------------------------------------------


@dataclass
class _TriageRow:
    row: SourceRow
    values: dict[str, object]
    number: str
    client: str
    named: Account | _Held | None
    logged: dt.datetime | None
    priority: str | None
    status: str | None
    subject: str
    notes: str
    escalated_to: str
    agent: str
    satisfaction: int | None = None
    resolution_hours: Decimal | None = None
    resolved_at: dt.datetime | None = None
    email: str = ""
    product: str = ""
    account: Account | None = None


@dataclass
class _Ticket:
    """The rows of the sheet about one ticket, and where they go."""

    number: str
    account: Account
    rows: list[_TriageRow] = field(default_factory=list)
    existing: object = None  # the mirrored ticket before this file


class TriageSheetImporter(_TicketImporter):
    store = Store.TRIAGE
    header_map = TRIAGE_HEADERS
    text_fields: ClassVar[tuple[str, ...]] = ("subject", "notes", "escalated_to", "agent", "email", "product")

    def prepare(self, table) -> None:
        super().prepare(table)
        self.rows: list[_TriageRow] = []

    def import_row(self, row: SourceRow, values: dict[str, object]) -> str:
        client = clean_text(values.get("company"))
        number = ticket_number(values.get("external_id"))
        if not number and not client:
            self.report.warnings.append(f"row {row.number} is a remark (no ticket, no client); skipped")
            return "skipped"
        if not number:
            shown = clean_text(values.get("external_id"))
            raise RowRejected(
                "no ticket number"
                + (f" (“{shown}” is not one)" if shown else "")
                + ": a call or email never logged in the helpdesk; log it there and note the ticket number here"
            )
        priority, understood = severity(values.get("priority"))
        if not understood:
            self.report.warnings.append(
                f"row {row.number}: severity “{clean_text(values.get('priority'))}” not understood; ignored"
            )
        try:
            status = payloads.status_from(values.get("status")) if clean_text(values.get("status")) else None
            item = _TriageRow(
                row=row,
                values=values,
                number=number,
                client=client,
                named=self._named(client) if client else None,
                logged=logged_at(values.get("opened_at")),
                priority=priority,
                status=status,
                satisfaction=self._triage_rating(values.get("satisfaction"), row),
                resolution_hours=payloads.hours_from(values.get("resolution_hours")),
                resolved_at=logged_at(values.get("resolved_at")),
                **{name: clean_text(values.get(name)) for name in self.text_fields},
            )
        except PayloadError as error:
            raise RowRejected(str(error)) from None
        self.rows.append(item)
        return "read"

    def _triage_rating(self, value: object, row: SourceRow) -> int | None:
        try:
            return payloads.satisfaction_from(value)
        except payloads.UnknownSurveyLabel as unknown:
            return self._rating(unknown.label, row)

    def finish(self) -> None:
        existing = tickets.existing_tickets(r.number for r in self.rows)
        owners = self._accounts_by_pk({t.account_id for found in existing.values() for t in found})
        groups: dict[str, _Ticket] = {}
        settled_later: list[_TriageRow] = []
        for item in self.rows:
            mirrored = _mirrored(existing.get(item.number, []))
            if mirrored is None and isinstance(item.named, _Held):
                settled_later.append(item)  # the ticket's other rows on the sheet may settle it
                continue
            account = self._client_of(item, mirrored, owners)
            if account is None:
                continue
            group = groups.setdefault(item.number, _Ticket(item.number, account, existing=mirrored))
            if group.account.pk != account.pk:
                first = group.rows[0].row.number
                self._reject(item.row, f"ticket {item.number} is also on row {first}, for {group.account.code}")
                continue
            item.account = account
            group.rows.append(item)
        for item in settled_later:
            # A name that fits several clients, on a ticket only the sheet has: another row
            # of the same ticket that names its client settles it, as the helpdesk's copy
            # would (and does on the next import, once the ticket is in the mirror).
            group = groups.get(item.number)
            if group is None or group.account.code not in {c["code"] for c in item.named.held.candidates}:
                self._hold(item, item.named)
                continue
            item.account = group.account
            group.rows.append(item)
            group.rows.sort(key=lambda r: r.row.number)
        resolved, kept = [], []
        for group in groups.values():
            data = self._snapshot(group)
            if data is None:
                for item in group.rows:
                    self._reject(item.row, "no date logged: a ticket the helpdesk does not have needs one")
                continue
            resolved.append((data, group.account))
            kept.append(group)
        before = {id(g): g.existing.priority for g in kept if g.existing is not None}
        plan = tickets.plan_tickets(resolved=resolved, existing=existing)
        for (action, ticket), group in zip(plan.changes, kept, strict=True):
            if action != "unchanged":
                ticket._change_reason = self.reason(group.rows[0].row)
        self._save(plan)
        raised = not_in_export = repeated = 0
        for (action, ticket), group in zip(plan.changes, kept, strict=True):
            if id(group) in before and ticket.priority != before[id(group)]:
                raised += 1
            not_in_export += group.existing is None
            repeated += len(group.rows) > 1
            for item in group.rows:
                self.provenance(ticket, item.row, _triage_fields(item, created=group.existing is None))
                self._settle(action)
        self._log_escalations(kept)
        if raised:
            self.report.counts["priority raised"] += raised
        if not_in_export:
            self.report.counts[ONLY_ON_SHEET] += not_in_export
            self.report.warnings.append(
                f"{not_in_export} ticket(s) on the sheet are not among the helpdesk's (older than the export, "
                "refused or held from it, or never in the helpdesk): kept as triage-sheet tickets; the helpdesk's "
                "own copy takes them over when it arrives"
            )
        if repeated:
            self.report.warnings.append(
                f"{repeated} ticket(s) are on more than one row: every row's notes are kept, "
                "the highest severity counts"
            )
        self._finish_counts()

    def _client_of(self, item: _TriageRow, mirrored, owners: dict[int, Account]) -> Account | None:
        """The row's client, or None once the row is rejected or held."""
        named = item.named
        if mirrored is not None:
            owner = owners[mirrored.account_id]
            if isinstance(named, Account) and named.pk != owner.pk:
                self._reject(
                    item.row,
                    f"ticket {item.number} belongs to {owner.code} {owner.legal_name}, but the sheet says "
                    f"“{item.client}” ({named.code}); check the ticket number",
                )
                return None
            if isinstance(named, _Held) and owner.code not in {c["code"] for c in named.held.candidates}:
                self._hold(item, named)
                return None
            if named is None and item.client:
                self._reject(
                    item.row,
                    f"no client in the client master matches “{item.client}”, and ticket {item.number} belongs "
                    f"to {owner.code}; correct the client or the ticket number",
                )
                return None
            return owner  # the ticket number settles a name that fits several clients
        if isinstance(named, Account):
            return named
        if isinstance(named, _Held):
            self._hold(item, named)
            return None
        self._reject(
            item.row,
            f"no client in the client master matches “{item.client}”, and ticket {item.number} "
            "is not in the helpdesk export"
            if item.client
            else f"no client, and ticket {item.number} is not in the helpdesk export",
        )
        return None

    def _hold(self, item: _TriageRow, held: _Held) -> None:
        self.hold(item.row, held.held)
        self._settle("held for review")

    def _snapshot(self, group: _Ticket) -> TicketData | None:
        """One ticket snapshot from all its rows: the first summary, the latest status, the
        highest severity, the earliest date logged."""
        rows = sorted(group.rows, key=lambda r: (r.logged is None, r.logged or 0, r.row.number))
        opened = next((r.logged for r in rows if r.logged), None) or getattr(group.existing, "opened_at", None)
        if opened is None:
            return None
        severities = [r.priority for r in rows if r.priority]
        first = group.rows[0]

        def latest(name: str):
            return next((getattr(r, name) for r in reversed(rows) if getattr(r, name) not in (None, "")), None)

        return TicketData(
            source=TicketSource.TRIAGE_SHEET,
            external_id=group.number,
            subject=(next((r.subject for r in rows if r.subject), "") or NO_SUMMARY)[:300],
            status=latest("status") or TicketStatus.OPEN,
            priority=max(severities, key=PRIORITY_ORDER.index) if severities else TicketPriority.MEDIUM,
            opened_at=opened,
            resolved_at=latest("resolved_at"),
            resolution_hours=latest("resolution_hours"),
            satisfaction=latest("satisfaction"),
            requester_email=(latest("email") or "").lower(),
            product_name=latest("product") or "",
            provenance=f"{self.file_name} row {first.row.number}"[:300],
        )

    def _log_escalations(self, groups: list[_Ticket]) -> None:
        """Each row's escalation notes on its client's timeline, once (a re-import adds
        nothing): what the account owner never heard from support."""
        notes = [(g, item) for g in groups for item in g.rows if item.notes or item.escalated_to]
        if not notes:
            return
        logged = set(
            Activity.objects.filter(
                OneOf(F("account_id"), sorted({g.account.pk for g, _ in notes})),
                kind=ActivityKind.TICKET,
                summary__startswith=ESCALATION,
            ).values_list("account_id", "summary", "detail")
        )
        added = 0
        for group, item in notes:
            summary = f"{ESCALATION}{group.number}" + (f" to {item.escalated_to}" if item.escalated_to else "")
            detail = "\n".join(
                part
                for part in (
                    item.notes,
                    f"Issue: {item.subject}" if item.subject else "",
                    f"Logged on the support triage sheet by {item.agent or 'support'} (row {item.row.number}).",
                )
                if part
            )
            key = (group.account.pk, summary[:300], detail)
            if key in logged:
                continue
            logged.add(key)
            values = {"kind": ActivityKind.TICKET, "summary": summary[:300], "detail": detail}
            if item.logged is not None:
                values["occurred_at"] = item.logged
            activity = self.ctx.writer.create(
                Activity(account=group.account, actor=self.ctx.actor), values=values, reason=self.reason(item.row)
            )
            self.provenance(activity, item.row, ["summary", "detail"])
            added += 1
        if added:
            self.report.counts["escalation notes on the timeline"] += added


def _mirrored(found: list) -> object | None:
    """The ticket a sheet row is about: the helpdesk's copy, else one the sheet made before."""
    helpdesk = [t for t in found if t.source in tickets.HELPDESK_SOURCES]
    sheet = [t for t in found if t.source == TicketSource.TRIAGE_SHEET]
    return (helpdesk or sheet or [None])[0]


def _triage_fields(item: _TriageRow, *, created: bool) -> list[str]:
    if created:
        return ["account", "subject", "status", "priority", "opened_at"]
    fields = ["priority"] if item.priority else []
    for name in ("satisfaction", "resolution_hours", "resolved_at"):
        if getattr(item, name) is not None:
            fields.append(name)
    return fields or ["account"]


def ticket_number(value: object) -> str:
    """'#40123', 'FD-40123', ' 40123 ', 40123.0 -> '40123'; 'phone', 'n/a', '' -> ''."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float | Decimal):
        return str(int(value)) if value == int(value) and value > 0 else ""
    match = TICKET_NUMBER.fullmatch(clean_text(value).lower())
    return match.group(1).lstrip("0") if match else ""


def severity(value: object) -> tuple[str | None, bool]:
    """'P1', 'Sev 2', 'P2 - High', 'URGENT', 'hi', 'Med' -> a priority; blank -> None.
    The second value is False for text that is no severity (ignored, with a warning)."""
    text = clean_text(value).lower()
    if not text:
        return None, True
    match = SEVERITY_NUMBER.match(text)
    if match:
        return SEVERITY_DIGITS[match.group(1)], True
    word = re.split(r"[\s\-/(]+", text)[0]
    if word in SEVERITY_WORDS:
        return SEVERITY_WORDS[word], True
    try:
        return payloads.priority_from(text), True
    except PayloadError:
        return None, False


def logged_at(value: object) -> dt.datetime | None:
    """When a row was logged: an Excel date or datetime, a serial, or day-first text with
    or without a time ('3/07/2025', '3/7/25 14:05'), in the helpdesk's time zone."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return payloads.moment_from(parse_date(value))
    try:
        return payloads.moment_from(value, label="the date logged")
    except PayloadError:
        pass
    text = clean_text(value)
    for pattern in ("%d/%m/%y %H:%M", "%d/%m/%y %H:%M:%S"):
        try:
            return payloads.moment_from(dt.datetime.strptime(text, pattern))
        except ValueError:
            continue
    try:
        return payloads.moment_from(parse_date(text))
    except CellError as error:
        raise RowRejected(f"date logged: {error}") from None
