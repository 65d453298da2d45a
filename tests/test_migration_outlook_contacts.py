"""D5, the contacts staff keep in Outlook: the shared sample (the classic desktop export,
cp1252, every field quoted) beside the shared client master, and a hand-written file in
the Outlook.com shape. Every expectation below is read off the files by hand."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from customers.demo import ensure_demo_users
from customers.models import Account, Activity, Contact
from migration.choices import Store
from migration.models import Provenance
from migration.services import run_import

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture
def steward(db):
    ensure_demo_users()
    return get_user_model().objects.get(username="data_steward")


def _contacts() -> set[tuple]:
    return {
        (c.account.legal_name, c.first_name, c.last_name, c.email, c.title, c.phone, c.is_primary)
        for c in Contact.objects.select_related("account")
    }


def test_the_shared_outlook_export_fills_the_records_contacts_and_adds_the_new_one(tmp_path, steward):
    for name in ("legacy_customers.xlsx", "outlook_contacts.csv"):
        shutil.copy(SAMPLES / name, tmp_path)

    run = run_import(paths=sorted(tmp_path.iterdir()), actor=steward)

    d5 = run.files.get(name="outlook_contacts.csv")
    assert (d5.store, d5.counts) == (Store.CONTACTS, {"created": 1, "updated": 4, "rejected": 0})
    assert _contacts() == {
        # The master names Jane; Outlook adds her address (capitals and a trailing space
        # dropped), her job title and her business phone.
        ("Acme Pty Ltd", "Jane", "Citizen", "jane.citizen@acme.example", "Finance Manager", "(08) 5550 1234", True),
        # Raj is only in Outlook, at "Acme Pty. Ltd.": a new contact of Acme's, not primary.
        ("Acme Pty Ltd", "Raj", "Patel", "raj.patel@acme.example", "IT Lead", "+61 8 5550 1235", False),
        # "Mr." and "Dr" are Outlook's Title column (an honorific), not a job title.
        ("Bluegum Logistics Pty. Limited", "Tom", "Nguyen", "tom.nguyen@bluegum.example", "", "08 5550 8821", True),
        ("Swan River Dental P/L", "Renée", "O'Brien", "reception@swanriverdental.example", "", "(08) 7010 4455", True),
        # "Harbourside Legal Limited" is the master's "Harbourside Legal Ltd".
        (
            "Harbourside Legal Ltd",
            "Priya",
            "Sharma",
            "priya.sharma@harbourside.example",
            "Practice Manager",
            "02 5550 9876",
            True,
        ),
        ("OLD - Kookaburra Cafe (closed)", "Kim", "(unknown)", "", "", "", True),  # not in Outlook
    }
    jane = Contact.objects.get(first_name="Jane")
    filled = jane.history.first()
    assert filled.history_user == steward
    assert filled.history_change_reason.endswith("outlook_contacts.csv row 2")
    assert Provenance.objects.get(object_id=jane.pk, content_type__model="contact", store="d5").rows == [2]
    # Rows are numbered as a spreadsheet shows them: Jane's notes and Priya's address hold
    # line breaks, and Priya is still the fifth contact, row 6.
    priya = Contact.objects.get(first_name="Priya")
    assert Provenance.objects.get(object_id=priya.pk, content_type__model="contact", store="d5").rows == [6]
    # Her card's notes (two lines in Outlook) are on Acme's timeline, with her.
    (note,) = Activity.objects.filter(summary__startswith="Outlook")
    assert (note.account.legal_name, note.contact, note.summary, note.detail) == (
        "Acme Pty Ltd",
        jane,
        "Outlook contact notes for Jane Citizen",
        "Met at AWS Summit Sydney. Prefers invoices to accounts@acme.example",
    )

    again = run_import(paths=sorted(tmp_path.iterdir()), actor=steward)
    assert again.files.get(name="outlook_contacts.csv").counts == {"unchanged": 5, "rejected": 0}
    assert Activity.objects.filter(summary__startswith="Outlook").count() == 1


WEB_HEADERS = [
    "First Name", "Middle Name", "Last Name", "Title", "Suffix", "Nickname", "Given Yomi", "Surname Yomi",
    "E-mail Address", "E-mail 2 Address", "E-mail 3 Address", "Home Phone", "Home Phone 2", "Business Phone",
    "Business Phone 2", "Mobile Phone", "Car Phone", "Other Phone", "Primary Phone", "Pager", "Business Fax",
    "Home Fax", "Other Fax", "Company Main Phone", "Callback", "Radio Phone", "Telex", "TTY/TDD Phone", "IMAddress",
    "Job Title", "Department", "Company", "Office Location", "Manager's Name", "Assistant's Name",
    "Assistant's Phone", "Company Yomi", "Business Street", "Business City", "Business State",
    "Business Postal Code", "Business Country/Region", "Home Street", "Home City", "Home State",
    "Home Postal Code", "Home Country/Region", "Other Street", "Other City", "Other State", "Other Postal Code",
    "Other Country/Region", "Personal Web Page", "Spouse", "Schools", "Hobby", "Location", "Web Page", "Birthday",
    "Anniversary", "Notes",
]  # fmt: skip


def _web_row(**cells: str) -> list[str]:
    return [cells.get(header, "") for header in WEB_HEADERS]


def test_the_outlook_com_shape_keeps_the_records_values_and_rejects_what_is_no_client(tmp_path, steward):
    account = Account.objects.create(number=501, code="CC501", legal_name="Tuart Hill Physio Pty Ltd")
    Contact.objects.create(
        account=account, first_name="Ada", last_name="Ng", email="ada@tuart.example", phone="08 9444 0000"
    )
    rows = [
        # Ada's phone differs: the CRM's is kept and the row says so; her title fills a gap.
        {"First Name": "Ada", "Last Name": "Ng", "E-mail Address": "ADA@tuart.example",
         "Business Phone": "08 9444 1111", "Job Title": "Owner", "Company": "Tuart Hill Physio"},
        # Another Ada Ng with another address is another person; no business phone, so her mobile.
        {"First Name": "Ada", "Last Name": "Ng", "E-mail Address": "ada.ng@gmail.example",
         "Mobile Phone": "0491 570 110", "Company": "Tuart Hill Physio", "Birthday": "0/0/00"},
        # A supplier in the same mailbox.
        {"First Name": "Bob", "Last Name": "Stone", "E-mail Address": "bob@officeworks.example",
         "Company": "Officeworks"},
        # A friend with no company.
        {"First Name": "Cat", "Last Name": "Lim", "E-mail Address": "cat@home.example"},
    ]  # fmt: skip
    path = tmp_path / "contacts.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(WEB_HEADERS)
        writer.writerows(_web_row(**row) for row in rows)

    run = run_import(paths=[path], actor=steward)

    file = run.files.get()
    assert (file.store, file.counts) == (Store.CONTACTS, {"updated": 1, "created": 1, "rejected": 2})
    assert {(c.first_name, c.email, c.title, c.phone, c.is_primary) for c in account.contacts.all()} == {
        ("Ada", "ada@tuart.example", "Owner", "08 9444 0000", False),
        ("Ada", "ada.ng@gmail.example", "", "0491 570 110", False),
    }
    assert run.report["warnings"] == [
        "contacts.csv: row 2: Ada Ng's phone is '08 9444 0000' in the CRM and '08 9444 1111' in Outlook; the CRM's kept"
    ]
    rejected = {r["row"]: r["reason"] for r in csv.DictReader(io.StringIO(file.rejected_csv))}
    assert rejected == {
        "4": "no client in the client master matches 'Officeworks'",
        "5": "no company: whose contact this is cannot be told",
    }
