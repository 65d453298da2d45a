"""Where Xero's data comes from, behind one interface.

A *source* has a `name`, a `kind` (invoices or contacts), `headers` (for the rejected-rows
file), `records()` yielding `InvoiceLineRecord`/`ContactRecord`/`Rejected`, and
`count_rows()`. `parsing.XeroFile` is the CSV path CloudCore uses today (Finance's
exports); `XeroApi` pulls the same records over OAuth 2.0 from Xero's Accounting API
(`Invoices`, `CreditNotes`, `Contacts`, 100 a page), through Xero's own SDK
(`xero-python`) or any `fetch(endpoint, page, modified_since) -> JSON dict`. Either goes to
`services.run_import(sources=...)`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from billing_sync.choices import ImportKind
from billing_sync.parsing import (
    INVOICE_FIELDS,
    ContactRecord,
    InvoiceLineRecord,
    Rejected,
    RowError,
    clean,
    invoice_line,
)

Fetch = Callable[[str, int, dt.datetime | None], dict]
PAGE_SIZE = 100  # Xero's page
_MS_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")
API_LINE_HEADERS = ["InvoiceNumber", "ContactName", "Line", "Reason source"]
API_CONTACT_HEADERS = ["ContactID", "Name"]


def api_date(document: dict, key: str) -> str:
    """`DateString` ("2020-06-17T00:00:00") when present, else the MS JSON `Date`
    ("/Date(1592352000000+0000)/"), as ISO text for `parsing.parse_date`."""
    text = document.get(f"{key}String") or ""
    if text:
        return text[:10]
    found = _MS_DATE.match(str(document.get(key) or ""))
    if found:
        return dt.datetime.fromtimestamp(int(found[1]) / 1000, tz=dt.UTC).date().isoformat()
    return ""


def _text(value) -> str:
    return "" if value is None else str(value)


@dataclass
class _ApiSource:
    api: XeroApi
    endpoints: tuple[str, ...]
    kind: str
    name: str
    headers: tuple[str, ...]

    def count_rows(self) -> int:
        return 0  # unknown until pulled; the page shows rows read

    def _documents(self) -> Iterator[tuple[str, dict]]:
        for endpoint in self.endpoints:
            page = 1
            while True:
                body = self.api.fetch(endpoint, page, self.api.modified_since)
                documents = body.get(endpoint) or []
                yield from ((endpoint, d) for d in documents)
                if len(documents) < PAGE_SIZE:
                    break
                page += 1


class ApiInvoices(_ApiSource):
    def records(self) -> Iterator[InvoiceLineRecord | Rejected]:
        row = 0
        for _endpoint, document in self._documents():
            number = _text(document.get("InvoiceNumber") or document.get("CreditNoteNumber"))
            contact = document.get("Contact") or {}
            invoice = {
                "contact_name": contact.get("Name"),
                "contact_id": contact.get("ContactID"),
                "number": number,
                "reference": document.get("Reference"),
                "date": api_date(document, "Date"),
                "due_date": api_date(document, "DueDate"),
                "total": document.get("Total"),
                "currency": document.get("CurrencyCode"),
                "type": document.get("Type"),
                "status": document.get("Status"),
                "invoice_id": document.get("InvoiceID") or document.get("CreditNoteID"),
                "email": "",
            }
            for index, item in enumerate(document.get("LineItems") or [], start=1):
                row += 1
                values = {
                    **invoice,
                    "item_code": item.get("ItemCode"),
                    "description": item.get("Description"),
                    "quantity": item.get("Quantity"),
                    "unit_amount": item.get("UnitAmount"),
                    "line_amount": item.get("LineAmount"),
                }
                try:
                    record = invoice_line(row, tuple(_text(values.get(name)) for name in INVOICE_FIELDS))
                except RowError as error:
                    yield Rejected(row, [number, clean(contact.get("Name")), str(index)], str(error))
                    continue
                if record is not None:
                    yield record


class ApiContacts(_ApiSource):
    def records(self) -> Iterator[ContactRecord | Rejected]:
        for row, (_endpoint, document) in enumerate(self._documents(), start=1):
            name = clean(document.get("Name"))
            if not name:
                yield Rejected(row, [_text(document.get("ContactID")), ""], "no Name")
                continue
            yield ContactRecord(
                row=row,
                name=name,
                account_number=clean(document.get("AccountNumber")),
                email=clean(document.get("EmailAddress")),
                tax_number="".join(ch for ch in _text(document.get("TaxNumber")) if ch.isdigit()),
                contact_id=clean(document.get("ContactID")),
            )


@dataclass
class XeroApi:
    """The Accounting API as sources for `services.run_import`."""

    fetch: Fetch
    modified_since: dt.datetime | None = None

    def sources(self) -> list[_ApiSource]:
        return [
            ApiContacts(self, ("Contacts",), ImportKind.CONTACTS, "Xero API: contacts", tuple(API_CONTACT_HEADERS)),
            ApiInvoices(
                self, ("Invoices", "CreditNotes"), ImportKind.INVOICES, "Xero API: invoices", tuple(API_LINE_HEADERS)
            ),
        ]


def sdk_fetch(api_client, tenant_id: str) -> Fetch:
    """`fetch` through Xero's SDK (`xero-python`): `api_client` is an authorised
    `xero_python.api_client.ApiClient` (OAuth 2.0, scope accounting.transactions.read
    accounting.contacts.read). The raw JSON is read (`_preload_content=False`), so the
    records come from the documented API shape whatever the SDK's model classes do."""
    from xero_python.accounting import AccountingApi

    api = AccountingApi(api_client)
    methods = {"Invoices": api.get_invoices, "CreditNotes": api.get_credit_notes, "Contacts": api.get_contacts}

    def fetch(endpoint: str, page: int, modified_since: dt.datetime | None) -> dict:
        options: dict = {"page": page, "_preload_content": False}
        if modified_since is not None:
            options["if_modified_since"] = modified_since
        if endpoint == "Invoices":
            options["where"] = 'Type=="ACCREC"'
        elif endpoint == "CreditNotes":
            options["where"] = 'Type=="ACCRECCREDIT"'
        response = methods[endpoint](tenant_id, **options)
        return json.loads(response.data, parse_float=Decimal)

    return fetch


def sdk_client(*, client_id: str, client_secret: str, token: dict):
    """An `ApiClient` holding an OAuth 2.0 token (refreshed by the SDK when it expires)."""
    from xero_python.api_client import ApiClient
    from xero_python.api_client.configuration import Configuration
    from xero_python.api_client.oauth2 import OAuth2Token

    state = {"token": token}
    client = ApiClient(
        Configuration(oauth2_token=OAuth2Token(client_id=client_id, client_secret=client_secret)),
        pool_threads=1,
        oauth2_token_getter=lambda: state["token"],
        oauth2_token_saver=lambda new: state.update(token=new),
    )
    client.set_oauth2_token(token)
    return client
