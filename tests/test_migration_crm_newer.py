"""An import run again, after people have worked in the CRM: a field a person changed
since an import last wrote the record keeps the person's value (the CRM is newer than
the legacy store); what nobody touched still follows the store."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from customers import services
from customers.demo import ensure_demo_users
from customers.models import Account, Opportunity, Subscription
from migration.services import run_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    users, _ = ensure_demo_users()
    return users


def _pipeline(path: Path, rows: list[list]) -> Path:
    wb = Workbook()
    wb.active.append(["Rep: Chloe Bennett"])
    wb.active.append(["Client", "Opportunity", "Stage", "Value", "Close Date", "Product"])
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


def _master(path: Path, renewal: str) -> Path:
    wb = Workbook()
    wb.active.append(["Client ID", "Client Name", "Product", "Seats", "Start Date", "Renewal Date", "Annual Value"])
    wb.active.append(["CC101", "Marri Freight Pty Ltd", "DataVault", 5, "1/07/2025", renewal, "$12,000"])
    wb.save(path)
    return path


def test_a_deal_the_rep_moved_on_the_board_keeps_its_stage_when_the_workbook_comes_again(tmp_path, people):
    steward, rep = people["data_steward"], people["sales_rep"]
    _master(tmp_path / "d1.xlsx", "1/07/2026")
    workbook = tmp_path / "Pipeline - Chloe.xlsx"
    first = _pipeline(workbook, [["Marri Freight", "Hosting", "Qualified", "5000", None, None]])
    run_import(paths=[tmp_path / "d1.xlsx", first], actor=steward)
    deal = Opportunity.objects.get()
    services.move_opportunity(
        opportunity=deal, to_stage="proposal", expected_stage="qualified", actor=rep, reason="Sent the quote"
    )
    # The old workbook comes again, its value since corrected by the rep in the sheet.
    again = _pipeline(workbook, [["Marri Freight", "Hosting", "Qualified", "6000", None, None]])

    run = run_import(paths=[again], actor=steward)

    deal.refresh_from_db()
    assert (deal.stage, deal.amount) == ("proposal", Decimal("6000.00"))  # the rep's move kept; the value followed
    assert run.report["warnings"] == [
        "Pipeline - Chloe.xlsx: opportunity stage changed in the CRM since an import last wrote it: "
        "the CRM's value kept (1 row)"
    ]
    assert deal.history.first().history_change_reason.startswith(f"Import run #{run.pk}")


def test_a_renewal_date_customer_relations_corrected_is_not_taken_back_by_the_client_master(tmp_path, people):
    steward = people["data_steward"]
    path = _master(tmp_path / "d1.xlsx", "1/07/2026")
    run_import(paths=[path], actor=steward)
    subscription = Subscription.objects.get()
    services.update_subscription(
        subscription=subscription,
        changes={"renewal_date": dt.date(2026, 9, 1)},
        expected_version=subscription.version,
        actor=people["customer_relations"],
        reason="Renewal moved to September by the client's letter",
    )

    run = run_import(paths=[path], actor=steward)

    subscription.refresh_from_db()
    assert subscription.renewal_date == dt.date(2026, 9, 1)
    assert run.files.get().counts.get("updated", 0) == 0
    assert any("renewal date changed in the CRM since an import last wrote it" in w for w in run.report["warnings"])


def test_a_record_no_import_wrote_still_follows_the_stores_precedence(tmp_path, people):
    """A client typed into the CRM before the import: the client master's renewal date wins
    for the subscription the import creates, and its names for the account."""
    steward = people["data_steward"]
    Account.objects.create(number=101, code="CC101", legal_name="Marri Freight")
    run_import(paths=[_master(tmp_path / "d1.xlsx", "1/07/2026")], actor=steward)
    assert Account.objects.get().legal_name == "Marri Freight Pty Ltd"
    assert Subscription.objects.get().renewal_date == dt.date(2026, 7, 1)


def test_a_value_finance_set_in_the_crm_is_not_taken_back_by_xeros_old_invoices(tmp_path, people):
    steward = people["data_steward"]
    _master(tmp_path / "d1.xlsx", "1/07/2026")
    header = (
        "ContactName,InvoiceNumber,Reference,InvoiceDate,DueDate,InventoryItemCode,Description,Quantity,"
        "UnitAmount,LineAmount,TaxType,TaxAmount,Type,Status"
    )
    lines = [
        f"Marri Freight Pty Ltd,INV-{n},,{day},{day},DV-STD,DataVault subscription - {month},1.0000,"
        "1000.00,1000.00,GST on Income,100.00,Sales invoice,Paid"
        for n, (day, month) in enumerate(
            [("01/07/2025", "July 2025"), ("01/08/2025", "August 2025"), ("01/09/2025", "September 2025")], start=1
        )
    ]
    (tmp_path / "xero.csv").write_text("\n".join([header, *lines]) + "\n")
    run_import(paths=sorted(tmp_path.iterdir()), actor=steward)
    subscription = Subscription.objects.get()
    assert subscription.annual_value == Decimal("12000.00")  # $1,000 a month
    services.update_subscription(
        subscription=subscription,
        changes={"annual_value": Decimal("10800.00")},
        expected_version=subscription.version,
        actor=people["finance"],
        reason="10% loyalty discount from October, per the signed variation",
    )

    run = run_import(paths=sorted(tmp_path.iterdir()), actor=steward)

    subscription.refresh_from_db()
    assert subscription.annual_value == Decimal("10800.00")
    assert run.files.get(name="xero.csv").counts.get("values updated", 0) == 0
