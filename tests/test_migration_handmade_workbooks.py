"""The legacy import checked on workbooks the project did not generate.

`tests/estates/handmade_workbooks/` holds five clients' stores typed cell by cell
(`build.py` there, every value a literal): the client master as the real Excel workbook
(D1), three sales reps' own pipeline workbooks (D3), each laid out its own way, and the
support team's triage sheet (D2t) beside a small helpdesk export it enriches. Its
`truth.json` is worked out by hand from the requirements (seeds 000 and 001, FORMATS.md
section 5), not from what the importers accept.

What it covers that the generator and the importers could agree on by construction:
merged title and group rows, a client cell merged down over two deals, rows hidden by a
filter (a client, a deal, an escalation), a hidden sheet, a title and notes above the
header, money as numbers and text ("$9,000.00", "AUD 30k", "12.5k"), dates as Excel
dates, day-first text and bare serials, formulas nobody recalculated (a totals line is
skipped, an amount is refused), stages typed loosely ("Closed - Won", "qualified ",
"dead"), a rep named loosely, in a title cell or the file name, a client named by an
alias, a won deal and lost ones with the rep's reason, a lead for a company that is no
client yet (the rep's prospect), a stage the funnel does not have (held for a steward), a
client-master start with no day (the client kept, the contract on its timeline), triage
rows that raise a helpdesk priority and put escalation notes on the client's timeline, a
ticket only the sheet has, a call nobody ticketed and a mistyped ticket number.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import override_settings

from customers.choices import ActivityKind
from customers.demo import ensure_demo_users
from customers.models import Account, AccountAlias, Activity, Contact, Opportunity, StageChange, Subscription
from migration.choices import FileStatus
from migration.models import HeldValue, ImportConflict, MatchReview, Provenance
from migration.services import run_import
from support_bridge.models import Ticket

ESTATE = Path(__file__).parent / "estates" / "handmade_workbooks"
TRUTH = json.loads((ESTATE / "truth.json").read_text())
MD5 = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORES = {
    "client_master.xlsx": "d1",
    "Pipeline - Chloe Bennett.xlsx": "d3",
    "Sales pipeline 2026 (Daniel).xlsx": "d3",
    "Pipeline_Ravi Sharma.xlsx": "d3",
    "helpdesk_tickets.csv": "d2",
    "support_triage.xlsx": "d2t",
}


def _paths() -> list[Path]:
    return sorted(p for p in ESTATE.iterdir() if p.is_file() and p.suffix in (".xlsx", ".csv"))


def _counts() -> dict[str, int]:
    return {
        "accounts": Account.history.count(),
        "aliases": AccountAlias.history.count(),
        "contacts": Contact.history.count(),
        "subscriptions": Subscription.history.count(),
        "opportunities": Opportunity.history.count(),
        "stage changes": StageChange.objects.count(),
        "tickets": Ticket.history.count(),
        "activities": Activity.history.count(),
        "conflicts": ImportConflict.objects.count(),
        "reviews": MatchReview.objects.count(),
        "held": HeldValue.objects.count(),
        "provenance": Provenance.objects.count(),
    }


@pytest.fixture(scope="module")
def imported(django_db_setup, django_db_blocker) -> Iterator[dict]:
    """Import the estate twice, inside a transaction rolled back at the end."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=MD5), transaction.atomic():
        users, _ = ensure_demo_users()
        User = get_user_model()
        for username, full_name in TRUTH["staff"].items():
            first, last = full_name.split()
            User.objects.create_user(username, first_name=first, last_name=last)
        first = run_import(paths=_paths(), actor=users["data_steward"])
        result = {"first": first, "after_first": _counts()}
        result["second"] = run_import(paths=_paths(), actor=users["data_steward"])
        result["after_second"] = _counts()
        yield result
        transaction.set_rollback(True)


def _files(run) -> dict:
    return {f.name: f for f in run.files.all()}


@pytest.mark.django_db
def test_every_file_is_recognised_by_its_headers_and_imported(imported):
    files = _files(imported["first"])
    assert {name: f.store for name, f in files.items()} == STORES
    assert {name: f.status for name, f in files.items()} == dict.fromkeys(STORES, FileStatus.IMPORTED)


@pytest.mark.django_db
def test_every_true_account_exists_and_no_other(imported):
    found = {
        a.code: {
            "legal_name": a.legal_name,
            "abn": a.abn,
            "owner": a.owner.username if a.owner else None,
            "state": a.state,
            "lifecycle_status": a.lifecycle_status,
        }
        for a in Account.objects.select_related("owner")
    }
    expected = {
        t["code"]: {
            "legal_name": t["legal_name"],
            "abn": t["abn"],
            "owner": t["owner"],
            "state": t["state"],
            "lifecycle_status": t.get("lifecycle_status", "active"),
        }
        for t in TRUTH["accounts"]
    }
    assert found == expected


@pytest.mark.django_db
def test_a_contract_the_import_cannot_make_a_subscription_of_is_on_the_clients_timeline(imported):
    found = set(Activity.objects.filter(kind=ActivityKind.NOTE).values_list("account__code", "summary"))
    assert found == {(n["code"], n["summary"]) for n in TRUTH["contract_notes"]}


@pytest.mark.django_db
def test_a_name_variant_row_is_the_same_client_and_its_name_an_alias(imported):
    aliases = {}
    for code, value in AccountAlias.objects.values_list("account__code", "value"):
        aliases.setdefault(code, []).append(value)
    assert aliases == {t["code"]: t["aliases"] for t in TRUTH["accounts"] if t["aliases"]}


@pytest.mark.django_db
def test_every_contact_is_imported_once(imported):
    found = {
        (c.account.code, f"{c.first_name} {c.last_name}", c.email) for c in Contact.objects.select_related("account")
    }
    assert found == {(t["code"], t["name"], t["email"]) for t in TRUTH["contacts"]}
    assert Contact.objects.filter(is_primary=True).count() == len(TRUTH["contacts"])


@pytest.mark.django_db
@pytest.mark.parametrize("truth", TRUTH["provenance"], ids=lambda p: f"{p['code']}-{p['record']}")
def test_facts_say_the_sheet_and_rows_they_came_from(imported, truth):
    if truth["record"] == "account":
        record = Account.objects.get(code=truth["code"])
    else:
        record = Opportunity.objects.get(account__code=truth["code"], name=truth["name"])
    found = Provenance.objects.filter(
        content_type=ContentType.objects.get_for_model(record), object_id=record.pk, store=truth["store"]
    ).values_list("file", "sheet", "rows")
    assert list(found) == [(truth["file"], truth["sheet"], truth["rows"])], truth["why"]


@pytest.mark.django_db
def test_every_true_subscription_exists_and_no_other(imported):
    found = {
        (s.account.code, s.product.code): {
            "seats": s.seats,
            "annual_value": str(s.annual_value),
            "start_date": s.start_date.isoformat(),
            "renewal_date": s.renewal_date.isoformat() if s.renewal_date else None,
        }
        for s in Subscription.objects.live().select_related("account", "product")
    }
    expected = {
        (t["code"], t["product"]): {k: t[k] for k in ("seats", "annual_value", "start_date", "renewal_date")}
        for t in TRUTH["subscriptions"]
    }
    assert found == expected


@pytest.mark.django_db
@pytest.mark.parametrize("truth", TRUTH["opportunities"], ids=lambda o: f"{o['owner']}-{o['name']}")
def test_every_deal_carries_its_facts(imported, truth):
    deal = Opportunity.objects.select_related("account", "owner", "product").get(
        account__code=truth["code"], owner__username=truth["owner"], name=truth["name"]
    )
    found = {
        "kind": deal.kind,
        "stage": deal.stage,
        "amount": deal.amount,
        "close": deal.expected_close,
        "product": deal.product.code if deal.product else None,
        "lost_reason": deal.lost_reason,
        "lost_note": deal.lost_note,
    }
    assert found == {
        "kind": truth["kind"],
        "stage": truth["stage"],
        "amount": Decimal(truth["amount"]),
        "close": dt.date.fromisoformat(truth["close"]) if truth["close"] else None,
        "product": truth["product"],
        "lost_reason": truth["lost_reason"],
        "lost_note": truth["lost_note"],
    }, truth["why"]


@pytest.mark.django_db
def test_every_true_deal_exists_and_no_other(imported):
    found = set(Opportunity.objects.values_list("account__code", "owner__username", "name"))
    assert found == {(o["code"], o["owner"], o["name"]) for o in TRUTH["opportunities"]}
    # Each deal found in a workbook starts its stage history at the stage it was found in.
    assert StageChange.objects.filter(from_stage="").count() == len(TRUTH["opportunities"])


@pytest.mark.django_db
def test_every_ticket_is_mirrored_to_its_client_and_the_sheet_raises_priorities(imported):
    found = {
        t.external_id: {"code": t.account.code, "source": t.source, "priority": t.priority}
        for t in Ticket.objects.select_related("account")
    }
    assert found == {
        t["number"]: {"code": t["code"], "source": t["source"], "priority": t["priority"]} for t in TRUTH["tickets"]
    }


@pytest.mark.django_db
def test_a_ticket_only_the_sheet_has_is_kept_as_a_triage_sheet_ticket(imported):
    (truth,) = [t for t in TRUTH["tickets"] if t["source"] == "triage_sheet"]
    ticket = Ticket.objects.get(external_id=truth["number"])
    assert ticket.status == truth["status"]
    assert ticket.opened_at == dt.datetime.fromisoformat(truth["opened"])
    assert ticket.subject == "Printer mapping lost after update"
    files = _files(imported["first"])
    assert files["support_triage.xlsx"].counts.get("tickets only on the sheet") == 1


@pytest.mark.django_db
def test_escalation_notes_go_on_the_clients_timeline_once(imported):
    found = {
        (a.account.code, a.summary): a.detail
        for a in Activity.objects.filter(kind=ActivityKind.TICKET).select_related("account")
    }
    assert set(found) == {(e["code"], e["summary"]) for e in TRUTH["escalations"]}
    for escalation in TRUTH["escalations"]:
        assert escalation["notes"] in found[(escalation["code"], escalation["summary"])], escalation["why"]


@pytest.mark.django_db
def test_unknown_values_are_held_once_with_their_row_counts(imported):
    held = {(h.kind, h.value): h.rows for h in HeldValue.objects.all()}
    assert held == {(h["kind"], h["value"]): h["rows"] for h in TRUTH["held"]}
    warnings = imported["first"].report["warnings"]
    assert any("ABN 12345678901 fails the checksum" in w for w in warnings)


@pytest.mark.django_db
def test_bad_rows_are_rejected_with_their_row_and_reason_and_nothing_else_is(imported):
    files = _files(imported["first"])
    for name, expected in TRUTH["rejected"].items():
        # A workbook whose rows were rejected on more than one sheet says which sheet.
        rows = list(csv.DictReader(io.StringIO(files[name].rejected_csv)))
        found = {f"{row['sheet']}!{row['row']}" if "sheet" in row else row["row"]: row["reason"] for row in rows}
        assert set(found) == set(expected), name
        for number, words in expected.items():
            assert words in found[number], (name, number, found[number])


@pytest.mark.django_db
def test_nothing_is_held_for_review_or_in_conflict(imported):
    assert MatchReview.objects.count() == 0
    assert ImportConflict.objects.count() == 0


@pytest.mark.django_db
def test_a_second_import_changes_nothing(imported):
    assert imported["after_second"] == imported["after_first"]
    for store, counts in imported["second"].report["stores"].items():
        assert counts.get("created", 0) == 0, store
        assert counts.get("updated", 0) == 0, store
