"""The Xero API adapter: the same records as the CSV exports, from recorded Accounting API
responses (FORMATS.md section 1's shape), through Xero's own SDK (`xero-python`)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from decimal import Decimal
from pathlib import Path

import pytest

from billing_sync import services, sources
from billing_sync.models import XeroContact, XeroInvoiceLine
from tests.factories import AccountFactory

RECORDED = Path(__file__).parent / "samples" / "xero_api"
SAMPLES = Path(__file__).parent / "samples"
TODAY = dt.date(2026, 3, 15)
FILES = {"Invoices": "invoices_page1.json", "CreditNotes": "credit_notes_page1.json", "Contacts": "contacts_page1.json"}


class _Recorded:
    """What urllib3 hands the SDK: a body in `data`, a status, headers."""

    def __init__(self, body: bytes):
        self.data, self.status = body, 200

    def getheaders(self):
        return {"Content-Type": "application/json"}


@pytest.fixture
def sdk(monkeypatch):
    """An authorised SDK client whose HTTP requests are answered from the recordings."""
    token = {
        "access_token": "recorded",
        "refresh_token": "recorded",
        "token_type": "Bearer",
        "expires_in": 1800,
        "expires_at": time.time() + 1800,
        "scope": ["accounting.transactions.read", "accounting.contacts.read"],
    }
    client = sources.sdk_client(client_id="id", client_secret="secret", token=token)
    asked: list[tuple[str, dict]] = []

    def request(method, url, query_params=None, headers=None, **kwargs):
        endpoint = url.rstrip("/").rsplit("/", 1)[-1]
        params = dict(query_params or [])
        asked.append((endpoint, params))
        if str(params.get("page")) != "1":
            return _Recorded(json.dumps({endpoint: []}).encode())
        return _Recorded((RECORDED / FILES[endpoint]).read_bytes())

    monkeypatch.setattr(client, "request", request)
    client.asked = asked
    return client


def _business(numbers) -> list[tuple]:
    return list(
        XeroInvoiceLine.objects.filter(invoice_number__in=numbers)
        .order_by("invoice_number", "line_no")
        .values_list(
            "invoice_number", "line_no", "invoice_type", "status", "invoice_date", "item_code", "description",
            "quantity", "unit_amount", "line_amount", "invoice_total", "contact__name", "account_id", "product_id",
        )
    )  # fmt: skip


@pytest.mark.django_db
def test_the_api_pull_gives_the_same_lines_as_the_csv_export(sdk, tmp_path, personas):
    AccountFactory(legal_name="Acme Pty Ltd", abn="99612345678")
    AccountFactory(legal_name="Pilbara Mining Services Pty Ltd", xero_contact_id="PILB01")
    numbers = ["INV-0101", "INV-0103", "CN-0007"]
    csv_path = shutil.copy(SAMPLES / "xero_sales_invoices_export.csv", tmp_path / "SalesInvoices.csv")
    services.run_import(paths=[Path(csv_path)], actor=personas["finance"], today=TODAY)
    from_csv = _business(numbers)
    XeroInvoiceLine.objects.all().delete()
    XeroContact.objects.all().delete()

    api = sources.XeroApi(sources.sdk_fetch(sdk, "tenant-1"))
    run = services.run_import(sources=api.sources(), actor=personas["finance"], today=TODAY)

    assert {f.name: f.status for f in run.files.all()} == {
        "Xero API: contacts": "imported",
        "Xero API: invoices": "imported",
    }
    assert _business(numbers) == from_csv
    assert len(from_csv) == 6
    assert XeroInvoiceLine.objects.get(invoice_number="INV-0103", line_no=1).invoice_date == dt.date(2025, 8, 11)
    credit = XeroInvoiceLine.objects.get(invoice_number="CN-0007")
    assert (credit.invoice_type, credit.line_amount) == ("credit_note", Decimal("500.00"))
    assert XeroContact.objects.get(name="Acme Pty Ltd").xero_id == "6d42f03b-181f-43e3-93fb-2025c012de92"
    # Sales only, page by page, through the SDK's own endpoints.
    assert ("Invoices", {"page": 1, "where": 'Type=="ACCREC"'}) in sdk.asked
    assert ("CreditNotes", {"page": 1, "where": 'Type=="ACCRECCREDIT"'}) in sdk.asked


@pytest.mark.django_db
def test_pulling_the_same_data_twice_changes_nothing(sdk, personas):
    api = sources.XeroApi(sources.sdk_fetch(sdk, "tenant-1"))
    services.run_import(sources=api.sources(), actor=personas["finance"], today=TODAY)
    before = _business(["INV-0101", "INV-0103", "CN-0007"])
    run = services.run_import(sources=api.sources(), actor=personas["finance"], today=TODAY)
    assert run.files.get(name="Xero API: invoices").counts == {"lines unchanged": 6, "invoices": 3}
    assert _business(["INV-0101", "INV-0103", "CN-0007"]) == before


def test_a_full_page_asks_for_the_next():
    asked = []

    def fetch(endpoint, page, since):
        asked.append((endpoint, page))
        count = 100 if page == 1 else 1
        return {endpoint: [{"ContactID": f"c{page}-{i}", "Name": f"Client {page}-{i}"} for i in range(count)]}

    contacts = sources.XeroApi(fetch).sources()[0]
    assert len(list(contacts.records())) == 101
    assert asked == [("Contacts", 1), ("Contacts", 2)]


def test_the_ms_json_date_is_read_when_there_is_no_date_string():
    assert sources.api_date({"Date": "/Date(1592352000000+0000)/"}, "Date") == "2020-06-17"
    assert sources.api_date({"DateString": "2020-06-17T00:00:00", "Date": "x"}, "Date") == "2020-06-17"
