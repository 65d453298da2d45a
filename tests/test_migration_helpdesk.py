"""D2, the support ticket log, through the legacy import: the helpdesk's ticket export and
the support team's triage sheet land in the ticket mirror on the right clients, checked
against the generated estate's truth file, and every kind of mess is refused, held or
explained rather than guessed."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import override_settings
from openpyxl import load_workbook

from customers.choices import ActivityKind
from customers.demo import ensure_demo_users
from customers.models import Activity
from migration.choices import FileStatus, Store
from migration.importers.helpdesk import ESCALATION, ONLY_ON_SHEET
from migration.legacy_estate import TRUTH, write_estate
from migration.legacy_helpdesk import EXPORT, EXPORT_HEADERS, TRIAGE
from migration.models import MatchReview, Provenance
from migration.services import recognise, run_import
from support_bridge.choices import TicketSource
from support_bridge.models import Ticket

# Every test here is a database test, so pytest-django runs them before the transactional
# tests that empty the tables (the module's estate needs the role groups migrations made).
pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).parent / "samples"
MD5 = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CLIENTS = 120
D2_STORES = {"d1", "d2", "d2t"}
PRIORITY_ORDER = ["low", "medium", "high", "urgent"]
EN_DASH = "\u2013"  # byte 0x96 in Windows-1252


def _steward():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="data_steward")


@pytest.fixture(scope="module")
def estate(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[dict]:
    """A 120-client estate: D1 and both D2 files imported twice, once for the module,
    inside a transaction rolled back at the end."""
    directory = tmp_path_factory.mktemp("estate")
    write_estate(directory, seed=2026, clients=CLIENTS)
    truth = json.loads((directory / TRUTH).read_text())
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=MD5), transaction.atomic():
        ensure_demo_users()
        paths = [p for p in directory.iterdir() if p.is_file()]
        first = run_import(paths=paths, actor=_steward(), only=D2_STORES)
        after_first = {
            "tickets": Ticket.objects.count(),
            "ticket history": Ticket.history.count(),
            "activities": Activity.objects.count(),
            "reviews": MatchReview.objects.count(),
            "provenance": Provenance.objects.count(),
        }
        second = run_import(paths=paths, actor=_steward(), only=D2_STORES)
        yield {"dir": directory, "truth": truth, "first": first, "second": second, "after_first": after_first}
        transaction.set_rollback(True)


def _ticket_rows(store: str) -> dict[int, Ticket]:
    """Row of a D2 file -> the ticket it ended on (per the provenance records)."""
    tickets = Ticket.objects.select_related("account").in_bulk()
    found = {}
    for record in Provenance.objects.filter(content_type=ContentType.objects.get_for_model(Ticket), store=store):
        for row in getattr(record, "rows", None) or [record.row]:
            found[row] = tickets[record.object_id]
    return found


def _rejected(run, store: str) -> dict[int, str]:
    report = run.files.get(store=store)
    return {int(r["row"]): r["reason"] for r in csv.DictReader(io.StringIO(report.rejected_csv))}


def _counts(run, store: str) -> dict[str, int]:
    return {k: v for k, v in run.files.get(store=store).counts.items() if v}


def _cases(rows: list[dict], case: str) -> list[dict]:
    found = [r for r in rows if r["case"] == case]
    assert found, f"the estate has no {case} rows to check"
    return found


# --- Recognition ----------------------------------------------------------------------------


def test_both_d2_files_are_recognised_by_their_headers_not_their_names(estate, tmp_path):
    shutil.copy(estate["dir"] / EXPORT, tmp_path / "export (3).csv")
    shutil.copy(estate["dir"] / TRIAGE, tmp_path / "Book1.xlsx")
    assert recognise(tmp_path / "export (3).csv").store == Store.HELPDESK
    # The sheet repeats the client master's contract value and renewal columns, yet it is
    # a triage sheet: its ticket numbers say so.
    assert recognise(tmp_path / "Book1.xlsx").store == Store.TRIAGE
    assert recognise(SAMPLES / "freshdesk_tickets_export.csv").store == Store.HELPDESK
    assert recognise(SAMPLES / "legacy_customers.xlsx").store == Store.CLIENT_MASTER


def test_the_generated_export_has_the_freshdesk_exports_columns_plus_the_client_code_field(estate):
    with open(SAMPLES / "freshdesk_tickets_export.csv", encoding="utf-8-sig", newline="") as sample:
        sample_headers = next(csv.reader(sample))
    raw = (estate["dir"] / EXPORT).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw  # UTF-8 with a BOM, CRLF, as the sample
    assert [*sample_headers, "Client code"] == EXPORT_HEADERS
    assert raw.decode("utf-8-sig").splitlines()[0] == ",".join(EXPORT_HEADERS)


def test_d2_is_generated_from_the_seed_and_leaves_the_other_stores_as_they_were(tmp_path):
    with_d2, again, without = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for directory, helpdesk in ((with_d2, True), (again, True), (without, False)):
        write_estate(directory, seed=11, clients=40, helpdesk=helpdesk)
    assert (with_d2 / EXPORT).read_bytes() == (again / EXPORT).read_bytes()
    assert _cells(with_d2 / TRIAGE) == _cells(again / TRIAGE)
    assert not (without / EXPORT).exists() and not (without / TRIAGE).exists()
    for name in ("xero_sales_invoices.csv", "outlook_renewals.csv"):
        assert (with_d2 / name).read_bytes() == (without / name).read_bytes(), name
    assert _cells(with_d2 / "client_master.xlsx") == _cells(without / "client_master.xlsx")
    truth, bare = (json.loads((d / TRUTH).read_text()) for d in (with_d2, without))
    assert truth["conflicts"] == bare["conflicts"]
    for client, plain in zip(truth["clients"], bare["clients"], strict=True):
        assert [r for r in client["rows"] if r[0] not in ("d2", "d2t")] == plain["rows"]


def _cells(path: Path) -> list[list]:
    book = load_workbook(path)
    return [[list(r) for r in sheet.iter_rows(values_only=True)] for sheet in book.worksheets]


# --- Truth -------------------------------------------------------------------------------------


def test_at_least_98_percent_of_ticket_rows_end_on_their_true_client(estate):
    helpdesk = estate["truth"]["helpdesk"]
    export, triage = _ticket_rows("d2"), _ticket_rows("d2t")
    true_rows = [("d2", r) for r in helpdesk["export_rows"] if r["code"]]
    true_rows += [("d2t", r) for r in helpdesk["triage_rows"] if r["case"] in ("enrich", "repeat", "not_in_export")]
    right = [r for store, r in true_rows if _on(export if store == "d2" else triage, r) == r["code"]]
    assert len(true_rows) > 4 * CLIENTS
    assert len(right) / len(true_rows) >= 0.98, len(right) / len(true_rows)


def _on(found: dict[int, Ticket], row: dict) -> str | None:
    ticket = found.get(row["row"])
    return ticket.account.code if ticket else None


def test_no_row_ends_on_a_client_it_is_not(estate):
    helpdesk = estate["truth"]["helpdesk"]
    for store, rows in (("d2", helpdesk["export_rows"]), ("d2t", helpdesk["triage_rows"])):
        found = _ticket_rows(store)
        assert found
        wrong = {r["row"]: (r["code"], _on(found, r)) for r in rows if r["row"] in found and _on(found, r) != r["code"]}
        assert not wrong, (store, wrong)


def test_each_helpdesk_ticket_is_one_mirror_row_with_provenance_and_a_reason_naming_the_run(estate):
    run = estate["first"]
    tickets = Ticket.objects.all()
    numbers = [t.external_id for t in tickets]
    assert len(numbers) == len(set(numbers))  # the sheet's copy of a helpdesk ticket is not a second ticket
    with_provenance = set(
        Provenance.objects.filter(content_type=ContentType.objects.get_for_model(Ticket)).values_list(
            "object_id", flat=True
        )
    )
    assert set(tickets.values_list("pk", flat=True)) <= with_provenance
    created = Ticket.history.filter(history_type="+")
    assert created.count() == tickets.count()
    reasons = set(created.values_list("history_change_reason", flat=True))
    assert all(f"Import run #{run.pk}" in reason and " row " in reason for reason in reasons)
    assert set(created.values_list("history_user", flat=True)) == {_steward().pk}


# --- The export's mess ---------------------------------------------------------------------------


def test_companies_that_are_no_client_and_codes_that_contradict_the_company_are_rejected(estate):
    rows = estate["truth"]["helpdesk"]["export_rows"]
    rejected = _rejected(estate["first"], Store.HELPDESK)
    for row in _cases(rows, "unknown_company"):
        assert "no client in the client master matches the company" in rejected[row["row"]], row
    for row in _cases(rows, "wrong_code"):
        assert "correct one of them in the helpdesk" in rejected[row["row"]], row
    assert estate["first"].files.get(store=Store.HELPDESK).status == FileStatus.IMPORTED


def test_a_misspelt_company_without_a_code_waits_for_a_person_with_its_candidates(estate):
    rows = _cases(estate["truth"]["helpdesk"]["export_rows"], "typo_company")
    for row in rows:
        review = MatchReview.objects.get(store=Store.HELPDESK, file=EXPORT, row=row["row"])
        assert review.incoming_name == row["company"]
        assert row["code"] in {c["code"] for c in review.candidates}
    assert estate["first"].report["reviews"] >= len(rows)


def test_a_ticket_carrying_its_code_as_a_tag_is_matched_by_it(estate):
    found = _ticket_rows("d2")
    rows = _cases(estate["truth"]["helpdesk"]["export_rows"], "code_tag")
    assert all(_on(found, r) == r["code"] for r in rows)


# --- The triage sheet ------------------------------------------------------------------------------


def test_the_sheet_enriches_export_tickets_raising_escalated_priorities_never_lowering_them(estate):
    helpdesk = estate["truth"]["helpdesk"]
    by_ticket = defaultdict(list)
    for row in helpdesk["triage_rows"]:
        if row["case"] in ("enrich", "repeat"):
            by_ticket[row["ticket"]].append(row)
    exported = {r["ticket"]: r for r in helpdesk["export_rows"]}
    tickets = {t.external_id: t for t in Ticket.objects.filter(external_id__in=by_ticket)}
    raised = kept = 0
    for number, rows in by_ticket.items():
        ticket = tickets[number]
        if ticket.source != TicketSource.FRESHDESK:
            continue  # its export row was refused or held: the sheet made the ticket
        helpdesk_priority = exported[number]["priority"]
        sheet = [r["sheet_priority"] for r in rows if r["sheet_priority"] in ("high", "urgent")]
        expected = max([helpdesk_priority, *sheet], key=PRIORITY_ORDER.index)
        assert ticket.priority == expected, (number, helpdesk_priority, sheet)
        raised += expected != helpdesk_priority
        lower = [
            r
            for r in rows
            if PRIORITY_ORDER.index(r["sheet_priority"] or "urgent") < PRIORITY_ORDER.index(helpdesk_priority)
        ]
        kept += bool(lower) and expected == helpdesk_priority
    assert raised and kept  # both directions were tried
    assert estate["first"].files.get(store=Store.TRIAGE).counts["priority raised"] == raised


def test_escalation_notes_go_on_the_clients_timeline_once(estate):
    rows = [r for r in estate["truth"]["helpdesk"]["triage_rows"] if r.get("notes") and r["case"] != "wrong_ticket"]
    found = _ticket_rows("d2t")
    noted = [r for r in rows if r["row"] in found]
    entries = Activity.objects.filter(kind=ActivityKind.TICKET, summary__startswith=ESCALATION)
    assert noted and entries.count() == len(noted)
    for row in noted:
        assert entries.filter(account__code=row["code"], summary__contains=f"#{row['ticket']}").exists(), row
    entry = entries.first()
    assert "triage sheet" in entry.detail and entry.history.get().history_user == _steward()


def test_tickets_the_export_does_not_have_are_kept_from_the_sheet_and_explained(estate):
    rows = _cases(estate["truth"]["helpdesk"]["triage_rows"], "not_in_export")
    found = _ticket_rows("d2t")
    held = set(MatchReview.objects.filter(store=Store.TRIAGE).values_list("row", flat=True))
    kept = [r for r in rows if r["row"] not in held]  # a misspelt client with no ticket to settle it waits
    assert len(kept) > 0.9 * len(rows)
    for row in kept:
        ticket = found[row["row"]]
        assert (ticket.source, ticket.external_id, ticket.account.code) == (
            TicketSource.TRIAGE_SHEET,
            row["ticket"],
            row["code"],
        )
    # Also counted: tickets in the export whose row there was refused or held.
    only_on_sheet = Ticket.objects.filter(source=TicketSource.TRIAGE_SHEET)
    assert {r["ticket"] for r in kept} <= set(only_on_sheet.values_list("external_id", flat=True))
    assert estate["first"].files.get(store=Store.TRIAGE).counts[ONLY_ON_SHEET] == only_on_sheet.count()
    assert any("not among the helpdesk's" in w for w in estate["first"].report["warnings"])


def test_calls_never_ticketed_and_mistyped_ticket_numbers_are_rejected_with_their_reason(estate):
    rows = estate["truth"]["helpdesk"]["triage_rows"]
    rejected = _rejected(estate["first"], Store.TRIAGE)
    for row in _cases(rows, "no_ticket"):
        assert rejected[row["row"]].startswith("no ticket number"), row
    for row in _cases(rows, "wrong_ticket"):
        assert "check the ticket number" in rejected[row["row"]], row
        assert row["code"] in rejected[row["row"]]
    remark = _cases(rows, "remark")[0]
    assert remark["row"] not in rejected and estate["first"].files.get(store=Store.TRIAGE).counts["skipped"] == 1


# --- Re-runs -------------------------------------------------------------------------------------------


def test_a_second_import_changes_nothing(estate):
    for store in ("d2", "d2t"):
        counts = estate["second"].report["stores"][store]
        assert counts.get("created", 0) == counts.get("updated", 0) == 0, (store, counts)
        assert counts["unchanged"] > 0
        assert "escalation notes on the timeline" not in counts and "priority raised" not in counts
    now = {
        "tickets": Ticket.objects.count(),
        "ticket history": Ticket.history.count(),
        "activities": Activity.objects.count(),
        "reviews": MatchReview.objects.count(),
        "provenance": Provenance.objects.count(),
    }
    assert now == estate["after_first"]
