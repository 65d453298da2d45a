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

from cloudcore_crm.lib.headers import HeaderMap
from customers.choices import ActivityKind, Industry, LifecycleStatus, Office, Segment, SubscriptionStatus
from customers.matching import normalise_name
from customers.models import Account, Activity, Contact, Subscription
from customers.validators import abn_is_valid, clean_abn
from migration.choices import HeldKind, Store
from migration.importers.base import Importer, RowRejected
from migration.names import product_key
from migration.parsing import clean_text, parse_date, parse_int, parse_money, parse_state
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
        # Parse everything before writing anything, so a bad cell rejects the whole row.
        product_text = clean_text(values.get("product"))
        product = self.ctx.find_product(product_text) if product_text else None
        seats = parse_int(values.get("seats"))
        start = parse_date(values.get("start"))
        renewal = parse_date(values.get("renewal"))
        value = parse_money(values.get("value"))
        if value is not None and value < 0:
            raise RowRejected(f"negative contract value {value}")
        if seats is not None and seats < 1:
            raise RowRejected(f"seats must be at least 1, not {seats}")
        if start and renewal and renewal < start:
            raise RowRejected(f"renewal {renewal:%d/%m/%Y} is before the start {start:%d/%m/%Y}")

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
        if product is None:
            if value is not None or renewal is not None:
                self.report.warnings.append(f"row {row.number}: a contract without a product; recorded on the timeline")
                summary = (
                    "Client master lists a contract without a product "
                    f"(renewal {renewal or 'none'}, value {value or 'none'})"
                )
                writer.create(
                    Activity(account=account, actor=self.ctx.actor),
                    values={"kind": ActivityKind.NOTE, "summary": summary},
                    reason=reason,
                )
            return action
        return self._merge_subscription(
            account, row, reason, action, product=product, seats=seats, start=start, renewal=renewal, value=value
        )

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
                fields["website"] = website if "://" in website else f"https://{website}"
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
        if not changes or not self.ctx.writer.update(account, changes, reason=reason):
            return "unchanged"
        return "updated"

    def _merge_contact(self, account: Account, values, row: SourceRow, reason: str, action: str) -> str:
        full_name = clean_text(values.get("contact"))
        email = clean_text(values.get("email")).lower()
        if not full_name and not email:
            return action
        first, _, last = full_name.partition(" ")
        existing = self.ctx.contacts_of(account)
        contact = (next((c for c in existing if c.email.lower() == email), None) if email else None) or (
            next(
                (c for c in existing if c.first_name.lower() == first.lower() and c.last_name.lower() == last.lower()),
                None,
            )
            if full_name
            else None
        )
        if contact is None:
            contact = self.ctx.writer.create(
                Contact(account=account),
                values={
                    "first_name": (first or email.split("@")[0])[:100],
                    "last_name": last[:100] or "(unknown)",
                    "email": email,
                    "is_primary": not existing,
                },
                reason=reason,
            )
            existing.append(contact)
            self.provenance(contact, row, ["first_name", "last_name", "email"])
            return "created" if action == "unchanged" else action
        self.provenance(contact, row, ["first_name", "last_name", "email"])
        return action

    def _merge_subscription(self, account, row, reason, action, *, product, seats, start, renewal, value) -> str:
        subscription = self.ctx.live_subscription(account, product)
        if subscription is None:
            if start is None:
                start = renewal  # a renewal with no start: the term starts no later than it ends
            if start is None:
                raise RowRejected("a subscription needs a start or a renewal date")
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
        if not changes or not self.ctx.writer.update(subscription, changes, reason=reason):
            return action
        return "updated" if action == "unchanged" else action
