"""A rep's workbook that names a company no client has, or a stage the funnel does not
have: the lead is kept as the rep's prospect, and the deal waits for a steward to map
the stage word once (never a guessed stage)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from openpyxl import Workbook

from customers.choices import LifecycleStatus, OpportunityKind, OpportunityStage
from customers.demo import ensure_demo_users
from customers.models import Account, Opportunity
from migration.choices import HeldKind, HeldStatus
from migration.models import HeldValue, Provenance, StageWord
from migration.services import run_import

pytestmark = pytest.mark.django_db

HEADERS = ["Client", "Opportunity", "Stage", "Value", "Close Date", "Product"]


def _workbook(path: Path, rows: list[list], rep: str = "Chloe Bennett") -> Path:
    wb = Workbook()
    wb.active.append([f"Rep: {rep}"])
    wb.active.append(HEADERS)
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


@pytest.fixture
def steward(db):
    ensure_demo_users()  # Chloe Bennett is the sales rep, Mark Thompson the sales manager
    return get_user_model().objects.get(username="data_steward")


@pytest.fixture
def steward_client(client, steward):
    client.force_login(steward)
    return client


def test_a_lead_for_a_company_that_is_no_client_is_the_reps_prospect(tmp_path, steward):
    chloe = _workbook(
        tmp_path / "Pipeline - Chloe.xlsx",
        [
            ["Karri Constructions", "CloudSync pilot", "Lead", "5k", "1/03/2027", "CloudSync"],
            ["Karri Constructions", "DataVault later", "Prospect", "2,000", None, None],
        ],
    )

    run = run_import(paths=[chloe], actor=steward)

    (karri,) = Account.objects.filter(legal_name="Karri Constructions")
    assert (karri.lifecycle_status, karri.owner.username) == (LifecycleStatus.PROSPECT, "sales_rep")
    deals = {(d.name, d.stage, d.kind, d.amount, d.owner.username) for d in karri.opportunities.all()}
    assert deals == {
        ("CloudSync pilot", OpportunityStage.SUSPECT, OpportunityKind.NEW_BUSINESS, Decimal("5000.00"), "sales_rep"),
        ("DataVault later", OpportunityStage.PROSPECT, OpportunityKind.NEW_BUSINESS, Decimal("2000.00"), "sales_rep"),
    }
    created = karri.history.get()
    assert created.history_user == steward
    assert created.history_change_reason.endswith("Pipeline - Chloe.xlsx sheet Sheet row 3")
    assert Provenance.objects.get(object_id=karri.pk, content_type__model="account").rows == [3]
    assert run.files.get().counts == {"created": 2, "rejected": 0}
    assert run.report["warnings"] == [
        "Pipeline - Chloe.xlsx: leads for companies that are no client yet: each recorded as the rep's prospect (1 row)"
    ]

    again = run_import(paths=[chloe], actor=steward)
    assert Account.objects.filter(legal_name="Karri Constructions").count() == 1
    assert again.report["stores"]["d3"] == {"unchanged": 2}


def test_two_reps_leads_for_one_new_company_are_one_prospect(tmp_path, steward):
    chloe = _workbook(tmp_path / "a.xlsx", [["Karri Constructions Pty Ltd", "Pilot", "Lead", "5000", None, None]])
    other = _workbook(
        tmp_path / "b.xlsx",
        [["Karri Constructions", "Hosting", "Qualified", "8000", None, None]],
        rep="Mark Thompson",
    )
    run_import(paths=[chloe, other], actor=steward)
    (karri,) = Account.objects.filter(normalised_name__startswith="karri")
    assert karri.owner.username == "sales_rep"  # the first rep to name it
    owners = {(d.name, d.owner.username) for d in karri.opportunities.all()}
    assert owners == {("Pilot", "sales_rep"), ("Hosting", "sales_manager")}


def test_an_unknown_stage_is_held_and_the_deal_waits_for_the_stewards_word(tmp_path, steward, steward_client):
    Account.objects.create(number=301, code="CC301", legal_name="Marri Freight Pty Ltd")
    rows = [
        ["Marri Freight", "Hosting renewal 2027", "Negotiation", "10000", "1/07/2027", None],
        ["Marri Freight", "Backup", " negotiation ", "3000", None, None],
    ]
    path = _workbook(tmp_path / "Pipeline - Chloe.xlsx", rows)

    first = run_import(paths=[path], actor=steward)

    assert not Opportunity.objects.exists()  # no stage is guessed
    (held,) = HeldValue.objects.all()
    assert (held.kind, held.value, held.rows, held.status) == (HeldKind.STAGE, "Negotiation", 2, HeldStatus.OPEN)
    assert held.where == [["Pipeline - Chloe.xlsx", 3], ["Pipeline - Chloe.xlsx", 4]]
    rejected = list(csv.DictReader(io.StringIO(first.files.get().rejected_csv)))
    assert [(r["row"], r["reason"]) for r in rejected] == [
        ("3", "no pipeline stage called 'Negotiation': the deal waits for a steward to map it at /migration/held/"),
        ("4", "no pipeline stage called 'negotiation': the deal waits for a steward to map it at /migration/held/"),
    ]

    page = steward_client.get(reverse("migration:held_list")).content.decode()
    assert "Pipeline stage" in page and '<select name="stage"' in page
    response = steward_client.post(reverse("migration:held_map", args=[held.pk]), {"stage": "proposal"})
    assert response.status_code == 302
    word = StageWord.objects.get()
    assert (word.value, word.key, word.stage, word.created_by) == ("Negotiation", "negotiation", "proposal", steward)
    held.refresh_from_db()
    assert (held.status, held.mapped_to, held.mapped_by) == (HeldStatus.MAPPED, "Proposal", steward)

    second = run_import(paths=[path], actor=steward)

    assert {(d.name, d.stage) for d in Opportunity.objects.all()} == {
        ("Hosting renewal 2027", OpportunityStage.PROPOSAL),
        ("Backup", OpportunityStage.PROPOSAL),
    }
    assert second.files.get().counts == {"created": 2, "rejected": 0}


def test_a_stage_word_without_a_stage_chosen_maps_nothing(tmp_path, steward, steward_client):
    held = HeldValue.objects.create(kind=HeldKind.STAGE, value="Haggling", key="haggling", rows=1)
    for data in ({}, {"stage": "haggling"}):
        steward_client.post(reverse("migration:held_map", args=[held.pk]), data)
        held.refresh_from_db()
        assert held.status == HeldStatus.OPEN
    assert not StageWord.objects.exists()


def test_a_blank_stage_is_a_rejected_row_not_a_held_word(tmp_path, steward):
    Account.objects.create(number=302, code="CC302", legal_name="Tingle Analytics Pty Ltd")
    path = _workbook(tmp_path / "Pipeline - Chloe.xlsx", [["Tingle Analytics", "Upgrade", None, "100", None, None]])
    run = run_import(paths=[path], actor=steward)
    (row,) = csv.DictReader(io.StringIO(run.files.get().rejected_csv))
    assert row["reason"] == "a deal needs a stage"
    assert not HeldValue.objects.exists()
