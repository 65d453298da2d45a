"""D5, the contacts staff keep in their Outlook mailboxes (seed 000: customer names and
contacts live in D1, D2, D3, D5 and D6; the September 2025 incident needed every mailbox
to list who to notify).

Outlook exports contacts in two shapes: the classic desktop export (92 columns, "E-mail
Address", cp1252) and the Outlook.com / new Outlook export; both name the columns read
here the same way. Each contact's company is matched to its client; the person is the
client's contact with that email address, else with that name, and the export fills what
the record does not have yet (email, job title, phone). What the record already holds
is kept, and a different value in Outlook is reported on its row, never written over.
A new person becomes a contact of the client. The contact's notes (commitments made by
email, "prefers invoices to accounts@") go on the client's timeline once. A company
that is no client is rejected with its row: a mailbox also holds suppliers and friends.
"""

from __future__ import annotations

from django.core.validators import EmailValidator

from cloudcore_crm.lib.headers import HeaderMap
from customers.models import Contact, phone_validator
from migration.choices import Store
from migration.importers.base import Importer, RowRejected
from migration.parsing import clean_text, passes
from migration.readers import SourceRow

HEADERS = HeaderMap(
    synonyms={
        "first": ["First Name"],
        "last": ["Last Name"],
        "company": ["Company"],
        "email": ["E-mail Address"],
        "job_title": ["Job Title"],  # not "title": Outlook's "Title" is "Mr." or "Dr"
        "business_phone": ["Business Phone"],
        "mobile_phone": ["Mobile Phone"],
        "notes": ["Notes"],
    },
    required=["first", "last", "company", "email"],
)
_EMAIL = EmailValidator()


class OutlookContactsImporter(Importer):
    store = Store.CONTACTS
    header_map = HEADERS

    def import_row(self, row: SourceRow, values: dict[str, object]) -> str:
        company = clean_text(values.get("company"))
        first, last = clean_text(values.get("first")), clean_text(values.get("last"))
        email = clean_text(values.get("email")).lower()
        if not company:
            raise RowRejected("no company: whose contact this is cannot be told")
        if not (first or last or email):
            raise RowRejected("no name and no email address")
        if email and not passes(_EMAIL, email):
            self.report.warnings.append(f"row {row.number}: email {email[:80]!r} is no email address; left out")
            email = ""
        phones = map(clean_text, (values.get("business_phone"), values.get("mobile_phone")))
        phone = next((number for number in phones if _phone_ok(number)), "")
        found = {"email": email, "title": clean_text(values.get("job_title"))[:120], "phone": phone}
        account = self.client_named(company)
        reason = self.reason(row)
        contact = self._contact(account, email, first, last)
        if contact is None:
            details = {name: value for name, value in found.items() if value and name != "email"}
            contact = self.new_contact(account, first=first, last=last, email=email, reason=reason, **details)
            action = "created"
        else:
            action = self._fill(contact, found, row, reason)
        self.provenance(contact, row, [name for name, value in found.items() if value])
        self._note(account, contact, clean_text(values.get("notes")), reason)
        return action

    def _contact(self, account, email: str, first: str, last: str) -> Contact | None:
        contacts = self.ctx.contacts_of(account)
        if email:
            by_email = next((c for c in contacts if c.email.lower() == email), None)
            if by_email is not None:
                return by_email
        name = (first.lower(), last.lower())
        named = [c for c in contacts if (c.first_name.lower(), c.last_name.lower()) == name]
        # A namesake with another email address is another person.
        return next((c for c in named if not c.email or not email), None)

    def _fill(self, contact: Contact, found: dict[str, str], row: SourceRow, reason: str) -> str:
        gaps = {}
        for name, value in found.items():
            held = getattr(contact, name)
            if not value or value == held or (name == "email" and value == held.lower()):
                continue
            if held:
                label = Contact._meta.get_field(name).verbose_name
                self.report.warnings.append(
                    f"row {row.number}: {contact.first_name} {contact.last_name}'s {label} is {held!r} in the "
                    f"CRM and {value!r} in Outlook; the CRM's kept"
                )
                continue
            gaps[name] = value
        if not gaps or not self.update(contact, gaps, reason=reason):
            return "unchanged"
        return "updated"

    def _note(self, account, contact: Contact, notes: str, reason: str) -> None:
        if notes:
            summary = f"Outlook contact notes for {contact.first_name} {contact.last_name}"
            self.note_once(account, summary, detail=" ".join(notes.split()), contact=contact, reason=reason)


def _phone_ok(text: str) -> bool:
    return bool(text) and len(text) <= 20 and passes(phone_validator, text)
