"""D1, the client master spreadsheet: the store that defines who the clients are.

One row per client and product. It wins for names and renewal dates. A row that carries
a client code is authoritative for that client's names; a row typed again without the
code (a name variant) is matched to its client and its spelling kept as an alias. The
contract value is taken only for a new subscription: after that Xero (D4) wins for money,
and D4 flags for Finance a client-master value that drifts from what Xero bills a year.
A product or staff name the import does not know never costs the row: the client is
imported and the value is held for a steward to map once.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.core.validators import EmailValidator, URLValidator

from cloudcore_crm.lib.headers import HeaderMap
from customers.choices import Industry, LifecycleStatus, Office, Segment, SubscriptionStatus
from customers.matching import normalise_name
from customers.models import Account, Contact, Subscription
from customers.validators import abn_is_valid, clean_abn
from migration.choices import HeldKind, Store
from migration.importers.base import Importer, RowRejected
from migration.names import product_key
from migration.parsing import CellError, clean_text, parse_date, parse_int, parse_money, parse_state, passes
from migration.readers import SourceRow

CODE_RE = re.compile(r"^CC\d{1,7}$")

HEADERS = HeaderMap(
    synonyms={
        "code": ["Client ID", "Client Code", "Customer ID", "Client No", "Code"],
        "name": ["Client Name", "Client", "Company", "Customer", "Customer Name", "Name"],
        "trading_name": ["Trading Name", "Trading As", "T/A"],
        "abn": ["ABN", "ABN No", "Tax Number"],
        "industry": ["Industry", "Sector"],
        "office": ["Office", "Branch"],
        "status": ["Status", "Client Status", "Lifecycle"],
        "owner": ["Account Manager", "Sales Rep", "Owner", "Rep"],
        "coordinator": ["Coordinator", "Relations Coordinator", "CR Coordinator"],
        "product": ["Product", "Primary Product", "Service"],
        "seats": ["Seats", "Qty", "Quantity", "Users", "Licences"],
        "start": ["Start Date", "Start", "Contract Start"],
        "renewal": ["Renewal Date", "Renewal", "Renews", "Renewal Due"],
        "value": ["Annual Value", "Contract Value", "Annual value", "Value (AUD)", "Contract Value (AUD)"],
        "contact": ["Primary Contact", "Person", "Contact", "Contact Name"],
        "email": ["Email", "E-mail", "Contact Email"],
        "phone": ["Phone", "Phone Number", "Telephone"],
        "state": ["State"],
        "segment": ["Segment", "Size", "Tier"],
        "street": ["Street", "Address", "Street Address", "Address Line 1"],
        "suburb": ["Suburb", "City", "Town"],
        "postcode": ["Postcode", "Post Code", "Postal Code", "ZIP"],
        "website": ["Website", "Web", "URL", "Web Page"],
    },
    required=["name", "renewal", "value"],
)

_INDUSTRIES = {normalise_name(label): value for value, label in Industry.choices} | {
    normalise_name(value): value for value in Industry.values
}


def _industry(text: str) -> str:
    key = normalise_name(text)
    if not key:
        return ""
    for label_key, value in _INDUSTRIES.items():
        if key == label_key or key in label_key:
            return value
    return Industry.OTHER


_SEGMENTS = {
    "smb": Segment.SMALL,
    "small": Segment.SMALL,
    "small business": Segment.SMALL,
    "sme": Segment.SMALL,
    "mid": Segment.MID,
    "mid-market": Segment.MID,
    "mid market": Segment.MID,
    "enterprise": Segment.ENTERPRISE,
    "large": Segment.ENTERPRISE,
}


def _segment(text: str) -> str:
    return _SEGMENTS.get(text.lower(), "")


_OFFICES = {label.lower(): value for value, label in Office.choices}
_LIFECYCLE_STATUSES = frozenset(LifecycleStatus.values)  # the enum builds a new list per `.values`


def _office(text: str) -> str:
    return _OFFICES.get(text.lower(), "")


def _read(parse, values: dict[str, object], column: str, unread: dict[str, str]):
    """The cell through `parse`; None, with why in `unread`, when it cannot be read."""
    try:
        return parse(values.get(column))
    except CellError as error:
        unread[column] = str(error)
        return None


_WEBSITE = URLValidator(schemes=["http", "https"])
_EMAIL = EmailValidator()
_VALUE_LIMIT = Decimal(10) ** 10  # the contract value column holds 12 digits, 2 of them cents


def _named_contact(contacts: list[Contact], first: str, last: str) -> Contact | None:
    """The contact a name in the sheet means. A first name alone ("jane", "Kim") is the one
    contact of the client with that first name; without this every import created "Kim
    (unknown)" again."""
    if last:
        return next((c for c in contacts if (c.first_name.lower(), c.last_name.lower()) == (first, last)), None)
    named = [c for c in contacts if c.first_name.lower() == first]
    return named[0] if len(named) == 1 else None


def _shown(value) -> str:
    if value is None:
        return "none"
    return f"{value:%d/%m/%Y}" if hasattr(value, "year") else str(value)


def _term_months(start, renewal) -> int:
    if not start or not renewal or renewal <= start:
        return 12
    months = round((renewal - start).days / 30.44)
    return max(12, min(60, months)) if months >= 6 else 12


class ClientMasterImporter(Importer):
    store = Store.CLIENT_MASTER
    header_map = HEADERS

    @staticmethod
    def is_blank(values: dict[str, object]) -> bool:
        # A totals or notes line: no client code and no client name.
        return not clean_text(values.get("name")) and not clean_text(values.get("code"))

    def import_row(self, row: SourceRow, values: dict[str, object]) -> str:
        name = clean_text(values.get("name"))
        if not name:
            if any(clean_text(v) for k, v in values.items() if k not in ("value", "renewal")):
                raise RowRejected("no client name")
            return "skipped"  # a blank or totals line
        code = clean_text(values.get("code")).upper()
        if code and not CODE_RE.match(code):
            self.report.warnings.append(f"row {row.number}: client code {code!r} is not like CC123; ignored")
            code = ""
        abn = clean_abn(clean_text(values.get("abn")))
        if abn and not abn_is_valid(abn):
            self.report.warnings.append(f"row {row.number}: ABN {abn} fails the checksum; not imported")
            abn = ""
        phone = clean_text(values.get("phone"))
        state = parse_state(values.get("state"))
        product_text = clean_text(values.get("product"))
        product = self.ctx.find_product(product_text) if product_text else None
        # A contract cell the import cannot read is left out, never the rest of the row:
        # the client, its contact and the contract's other cells are imported.
        unread: dict[str, str] = {}
        seats = _read(parse_int, values, "seats", unread)
        start = _read(parse_date, values, "start", unread)
        renewal = _read(parse_date, values, "renewal", unread)
        value = _read(parse_money, values, "value", unread)
        if value is not None and value < 0:
            unread["value"], value = f"{value} is negative", None
        if value is not None and value >= _VALUE_LIMIT:
            unread["value"], value = f"{value:.0f} is more than a contract can be", None
        if seats is not None and seats < 1:
            unread["seats"], seats = f"{seats} is not at least 1", None
        if start and renewal and renewal < start:
            unread["renewal"] = f"{renewal:%d/%m/%Y} is before the start {start:%d/%m/%Y}"
            renewal = None
        if unread:
            self._left_out(row, "; ".join(f"{column} {why}" for column, why in unread.items()))

        account = self.ctx.account_for(name=name, abn=abn, phone=phone, state=state, code=code)
        self._row = row
        fields = self._account_fields(values, name=name, abn=abn, phone=phone, state=state, authoritative=bool(code))
        reason = self.reason(row)
        writer = self.ctx.writer
        if account is None:
            fields.setdefault("legal_name", name)  # a variant row that is the first sight of a client
            account = self.ctx.new_account(code=code, values=fields, reason=reason)
            action = "created"
        else:
            action = self._update_account(account, fields, reason)
        if normalise_name(name) != account.normalised_name:
            source = f"{self.file_name} row {row.number}"
            if writer.add_alias(account=account, value=name, source=source, reason=reason):
                self.ctx.learn_name(account, name)
        self.provenance(account, row, fields)
        action = self._merge_contact(account, values, row, reason, action)
        if product is None and product_text:
            # The client and everything else the row says are imported; the product waits
            # for a steward to map the spelling once (the next import then creates it).
            why = f"no product called {product_text!r}"
            self.warn_grouped(f"{why}: the subscription waits for a steward to map it at /migration/held/")
            key = product_key(product_text)
            self.ctx.hold_value(HeldKind.PRODUCT, product_text, key, why, self.file_name, row.number)
            return action
        contract = {"seats": seats, "start": start, "renewal": renewal, "value": value}
        if product is None:
            if value is not None or renewal is not None or unread:
                self.report.warnings.append(f"row {row.number}: a contract without a product; recorded on the timeline")
                self._note_contract(account, "a contract without a product", contract, unread, values, reason)
            return action
        if ("start" in unread or not (start or renewal)) and self.ctx.live_subscription(account, product) is None:
            # A new subscription needs a start (or a renewal to start no later than): the
            # contract goes on the timeline as the sheet says it, and Xero's invoices or a
            # corrected sheet create it.
            self.report.warnings.append(f"row {row.number}: the {product.name} subscription waits for a start date")
            self._note_contract(account, product.name, contract, unread, values, reason)
            return action
        return self._merge_subscription(
            account, row, reason, action, product=product, seats=seats, start=start, renewal=renewal, value=value
        )

    def _left_out(self, row: SourceRow, why: str) -> None:
        self.report.warnings.append(f"row {row.number}: {why}: left out, the rest of the row imported")

    def _note_contract(self, account, what: str, contract: dict, unread: dict, values: dict, reason: str) -> None:
        """The client's timeline says what the sheet says of a contract the import could not
        make a subscription of: each cell as read, or as typed with why it was not read."""
        cells = ", ".join(
            f"{column} {clean_text(values.get(column))!r} ({unread[column]})"
            if column in unread
            else f"{column} {_shown(value)}"
            for column, value in contract.items()
        )
        self.note_once(account, f"Client master lists {what}: {cells}", reason=reason)

    def _account_fields(self, values, *, name, abn, phone, state, authoritative: bool) -> dict:
        fields: dict[str, object] = {}
        if authoritative:
            fields["legal_name"] = name
            fields["trading_name"] = clean_text(values.get("trading_name"))
        if abn:
            fields["abn"] = abn
        if industry := _industry(clean_text(values.get("industry"))):
            fields["industry"] = industry
        if segment := _segment(clean_text(values.get("segment"))):
            fields["segment"] = segment
        if office := _office(clean_text(values.get("office"))):
            fields["office"] = office
        if phone:
            fields["phone"] = phone[:20]
        if authoritative:
            for column, limit in (("street", 200), ("suburb", 100)):
                if text := clean_text(values.get(column)):
                    fields[column] = text[:limit]
            postcode = clean_text(values.get("postcode"))
            if postcode.isdigit() and len(postcode) <= 4:
                fields["postcode"] = postcode.zfill(4)  # Excel drops the leading zero of 0800
            website = clean_text(values.get("website"))
            if website:
                website = website if "://" in website else f"https://{website}"
                if passes(_WEBSITE, website):
                    fields["website"] = website
                else:
                    self._left_out(self._row, f"website {clean_text(values.get('website'))[:80]!r} is no web address")
        if state:
            fields["state"] = state
        for column, field in (("owner", "owner"), ("coordinator", "relations_coordinator")):
            person = clean_text(values.get(column))
            if person:
                user = self.staff_member(person, self._row, column)
                if user is not None:
                    fields[field] = user
        status = clean_text(values.get("status")).lower()
        fields["lifecycle_status"] = status if status in _LIFECYCLE_STATUSES else LifecycleStatus.ACTIVE
        return fields

    def _update_account(self, account: Account, fields: dict, reason: str) -> str:
        changes = {}
        for name, value in fields.items():
            current = getattr(account, name)
            if name == "lifecycle_status" and (current != LifecycleStatus.ACTIVE or value == current):
                continue  # a lifecycle set in the CRM is newer than the sheet's
            if name in ("legal_name", "trading_name") and value == current:
                continue
            if name == "abn" and current and current != value:
                self.conflict(
                    account=account,
                    field="abn",
                    kept_store=Store.CLIENT_MASTER,
                    kept=current,
                    other_store=Store.CLIENT_MASTER,
                    other=value,
                    detail="Two client-master rows disagree",
                )
                continue
            if name in ("phone", "state", "industry", "office", "segment") and current and current != "small":
                continue  # keep what is there; a variant row is not better evidence
            if getattr(current, "pk", current) != getattr(value, "pk", value):
                changes[name] = value
        if not changes or not self.update(account, changes, reason=reason):
            return "unchanged"
        return "updated"

    def _merge_contact(self, account: Account, values, row: SourceRow, reason: str, action: str) -> str:
        full_name = clean_text(values.get("contact"))
        email = clean_text(values.get("email")).lower()
        if email and not passes(_EMAIL, email):
            self._left_out(row, f"email {email[:80]!r} is no email address")
            email = ""
        if not full_name and not email:
            return action
        first, _, last = full_name.partition(" ")
        existing = self.ctx.contacts_of(account)
        contact = next((c for c in existing if c.email.lower() == email), None) if email else None
        if contact is None and full_name:
            contact = _named_contact(existing, first.lower(), last.lower())
        if contact is None:
            contact = self.new_contact(account, first=first, last=last, email=email, reason=reason)
            self.provenance(contact, row, ["first_name", "last_name", "email"])
            return "created" if action == "unchanged" else action
        self.provenance(contact, row, ["first_name", "last_name", "email"])
        return action

    def _merge_subscription(self, account, row, reason, action, *, product, seats, start, renewal, value) -> str:
        subscription = self.ctx.live_subscription(account, product)
        if subscription is None:
            if start is None:
                start = renewal  # a renewal with no start: the term starts no later than it ends
            if self.ctx.ended_since(account, product, start):
                self.report.counts["ended in the CRM since"] += 1
                return action
            fields = {
                "product": product,
                "seats": seats or 1,
                "start_date": start,
                "renewal_date": renewal,
                "term_months": _term_months(start, renewal),
                "status": SubscriptionStatus.ACTIVE,
            }
            if value is not None:
                fields["annual_value"] = value
            subscription = self.ctx.writer.create(Subscription(account=account), values=fields, reason=reason)
            self.ctx.subscriptions_of(account).append(subscription)
            self.ctx.master_values[id(subscription)] = (value, row)
            self.provenance(subscription, row, fields)
            return "created" if action != "created" else action
        changes = {}
        if renewal is not None and renewal != subscription.renewal_date and renewal >= subscription.start_date:
            changes["renewal_date"] = renewal  # D1 wins for renewal dates
        if seats and seats != subscription.seats:
            changes["seats"] = seats
        # Xero wins for money: the master's value is what Xero's annualised figure is
        # compared with (a drift beyond the tolerance is flagged for Finance there).
        self.ctx.master_values[id(subscription)] = (value, row)
        self.provenance(subscription, row, changes or ["product"])
        if not changes or not self.update(subscription, changes, reason=reason):
            return action
        return "updated" if action == "unchanged" else action
