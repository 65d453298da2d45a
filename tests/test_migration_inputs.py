"""Legacy import, one small run per test: dry runs, permissions, the shared samples and
every class of bad input."""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import shutil
import weakref
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from openpyxl import Workbook

from customers.demo import ensure_demo_users
from customers.errors import OwnershipError
from customers.models import Account, Opportunity, Subscription
from migration.choices import FileStatus, RunStatus, Store
from migration.importers.base import Importer, RunContext
from migration.legacy_estate import write_estate
from migration.models import ImportConflict, Provenance
from migration.parsing import CellError, parse_date, parse_money, parse_state
from migration.readers import FORMULA_WITHOUT_VALUE
from migration.services import run_import

SAMPLES = Path(__file__).parent / "samples"


def _steward():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="data_steward")


# --- Smaller runs, one per test ---------------------------------------------------------


@pytest.fixture
def steward(db):
    ensure_demo_users()
    return _steward()


def test_a_dry_run_previews_everything_and_writes_nothing(tmp_path, steward):
    write_estate(tmp_path, seed=7, clients=12)
    run = run_import(paths=list(tmp_path.iterdir()), actor=steward, dry_run=True)
    assert run.status == "previewed"
    assert run.report["stores"]["d1"]["created"] > 0
    assert Account.objects.count() == 0 and Subscription.objects.count() == 0
    assert Provenance.objects.count() == 0 and ImportConflict.objects.count() == 0
    assert run.files.count() >= 3  # the report survives the rollback


def test_only_the_requested_stores_are_imported(tmp_path, steward):
    write_estate(tmp_path, seed=7, clients=12)
    run = run_import(paths=list(tmp_path.iterdir()), actor=steward, only={"d1"})
    assert set(run.report["stores"]) == {"d1"}
    assert Opportunity.objects.count() == 0


def test_only_data_stewards_import(tmp_path, personas):
    write_estate(tmp_path, seed=7, clients=5)
    with pytest.raises(OwnershipError):
        run_import(paths=list(tmp_path.iterdir()), actor=personas["customer_relations"])
    assert Account.objects.count() == 0


def test_the_shared_legacy_sample_resolves_acme_variants_and_keeps_hidden_rows(tmp_path, steward):
    shutil.copy(SAMPLES / "legacy_customers.xlsx", tmp_path)
    run = run_import(paths=list(tmp_path.iterdir()), actor=steward)
    acme = Account.objects.filter(normalised_name="acme")
    assert acme.count() == 1, list(acme.values_list("legal_name", flat=True))
    assert acme.get().abn == "99612345678"
    assert acme.get().legal_name == "Acme Pty Ltd"
    # Seven rows: Acme's three spellings are one client, so five clients in all. Swan River
    # Dental's start of "Sept 2022" has no day: that cell is left out, never the client.
    assert sorted(Account.objects.values_list("legal_name", flat=True)) == [
        "Acme Pty Ltd",
        "Bluegum Logistics Pty. Limited",
        "Harbourside Legal Ltd",
        "OLD - Kookaburra Cafe (closed)",
        "Swan River Dental P/L",
    ]
    assert Account.objects.filter(legal_name__icontains="Kookaburra").exists()  # row hidden by the filter
    swan = Account.objects.get(legal_name="Swan River Dental P/L")
    # Its ABN 99 612 435 678 fails the checksum (transposed digits): left out, reported.
    assert (swan.abn, swan.phone, swan.state) == ("", "(08) 7010 4455", "WA")
    assert [(c.first_name, c.last_name) for c in swan.contacts.all()] == [("Renée", "O'Brien")]
    # The sheet has no product column: what it says of the contract is on the timeline,
    # the unreadable start as typed with why.
    (note,) = swan.activities.values_list("summary", flat=True)
    assert note == (
        "Client master lists a contract without a product: seats none, "
        "start 'Sept 2022' ('Sept 2022' has no day; enter a full date), renewal none, value none"
    )
    report = run.files.get()
    assert report.counts.get("rejected", 0) == 0 and report.rejected_csv == ""
    warnings = run.report["warnings"]
    assert any("ABN 99612435678 fails the checksum" in w for w in warnings), warnings
    assert (
        "legacy_customers.xlsx: row 8: start 'Sept 2022' has no day; enter a full date: "
        "left out, the rest of the row imported"
    ) in warnings

    again = run_import(paths=list(tmp_path.iterdir()), actor=steward)
    assert again.report["stores"]["d1"].get("created", 0) == 0
    assert swan.activities.count() == 1  # the note is not written twice


def test_a_file_whose_earlier_run_was_deleted_replaces_the_provenance_that_run_left(tmp_path, steward):
    shutil.copy(SAMPLES / "legacy_customers.xlsx", tmp_path)
    first = run_import(paths=list(tmp_path.iterdir()), actor=steward)
    left = Provenance.objects.filter(file="legacy_customers.xlsx").count()
    assert left
    first.delete()  # its files go with it; its provenance rows stay, pointing at no run

    again = run_import(paths=list(tmp_path.iterdir()), actor=steward)

    # Not refused for clashing with the rows left behind: the records' rows are replaced,
    # now naming the run that wrote them.
    assert again.status == RunStatus.SUCCEEDED and again.files.get().status == FileStatus.IMPORTED
    assert Provenance.objects.filter(file="legacy_customers.xlsx", run=again).exists()


def test_the_xero_sample_counts_invoices_and_credit_notes_but_not_voided_or_draft(tmp_path, steward):
    shutil.copy(SAMPLES / "legacy_customers.xlsx", tmp_path)
    shutil.copy(SAMPLES / "xero_sales_invoices_export.csv", tmp_path)
    run = run_import(paths=list(tmp_path.iterdir()), actor=steward)
    xero = run.files.get(store=Store.XERO)
    assert xero.status == FileStatus.IMPORTED
    # Skipped: INV-0103's two Voided lines, INV-0104's two Draft lines and INV-0105's two
    # Awaiting Approval lines. Rejected: the onsite hours and CN-0007's credit, which name
    # no product. Read: Acme's three product lines.
    assert xero.counts == {"read": 3, "rejected": 2, "skipped": 6, "subscriptions created from invoices": 3}
    # The master lists no products, so each product Xero bills Acme becomes a subscription
    # (issue 18), worth what Xero bills a year, by hand from the sample: DataVault $825 a
    # month, the Managed Services retainer "July 2025" $450 a month, Security & Compliance
    # "SEC-COMP-1Y" $2,400 a year.
    acme = {s.product.name: s.annual_value for s in Subscription.objects.filter(account__legal_name__startswith="Acme")}
    assert acme == {
        "DataVault": Decimal("9900.00"),
        "Managed Services": Decimal("5400.00"),
        "Security & Compliance": Decimal("2400.00"),
    }
    assert "Service credit" in xero.rejected_csv and "Onsite support" in xero.rejected_csv


def test_the_outlook_sample_in_cp1252_is_read(tmp_path, steward):
    shutil.copy(SAMPLES / "legacy_customers.xlsx", tmp_path)
    shutil.copy(SAMPLES / "outlook_calendar_renewals.csv", tmp_path)
    run = run_import(paths=list(tmp_path.iterdir()), actor=steward)
    calendar = run.files.get(store=Store.CALENDAR)
    assert calendar.status == FileStatus.IMPORTED, calendar.message


# --- Bad input --------------------------------------------------------------------------


def _client_master(path: Path, rows: list[list], headers=None) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(
        headers or ["Client ID", "Client Name", "ABN", "Product", "Seats", "Start Date", "Renewal Date", "Annual Value"]
    )
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


GOOD_ROW = ["CC101", "Good Client Pty Ltd", "", "DataVault", 10, "1/07/2025", "1/07/2026", "$12,000"]


def test_a_row_with_its_own_client_code_is_not_held_for_a_look_alike_under_another_code(tmp_path, steward):
    rows = [
        ["CC201", "A & P Gupta Pty Ltd", "", "DataVault", 5, "1/07/2025", "1/07/2026", "$5,000"],
        ["CC202", "R & A Gupta Pty Ltd", "", "DataVault", 3, "1/07/2025", "1/07/2026", "$3,000"],
        ["", "R & A Gupta P/L", "", "Analytics Pro", 2, "1/07/2025", "1/07/2026", "$2,000"],
    ]
    _client_master(tmp_path / "d1.xlsx", rows)

    first = run_import(paths=list(tmp_path.iterdir()), actor=steward)
    second = run_import(paths=list(tmp_path.iterdir()), actor=steward)

    assert first.report["reviews"] == 0
    assert set(Account.objects.values_list("code", "legal_name")) == {
        ("CC201", "A & P Gupta Pty Ltd"),
        ("CC202", "R & A Gupta Pty Ltd"),
    }
    assert Subscription.objects.filter(account__code="CC202").count() == 2  # the variant row is CC202's
    assert set(second.report["stores"]["d1"]) == {"unchanged"}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("report.xlsx", b"%PDF-1.7 not a workbook", "not a spreadsheet"),
        ("old.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old .xls"),
        ("broken.xlsx", b"PK\x03\x04" + b"\x14\x00truncated", "damaged or truncated"),
    ],
)
def test_wrong_or_broken_files_are_refused_with_a_clear_message(tmp_path, steward, name, content, message):
    (tmp_path / name).write_bytes(content)
    run = run_import(paths=[tmp_path / name], actor=steward)
    refused = run.files.get()
    assert refused.status == FileStatus.REFUSED
    assert message in refused.message
    assert Account.objects.count() == 0


def test_a_zip_bomb_is_refused_before_parsing(tmp_path, steward):
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (60 * 1024 * 1024))
    run = run_import(paths=[bomb], actor=steward)
    assert run.files.get().status == FileStatus.REFUSED
    assert "zip bomb" in run.files.get().message


def test_a_truncated_real_workbook_is_refused(tmp_path, steward):
    good = _client_master(tmp_path / "full.xlsx", [GOOD_ROW])
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    good.unlink()
    run = run_import(paths=[cut], actor=steward)
    assert run.files.get().status == FileStatus.REFUSED


def test_missing_required_columns_are_named(tmp_path, steward):
    path = _client_master(
        tmp_path / "d1.xlsx", [["CC1", "X", "1/7/2026"]], headers=["Client ID", "Client Name", "Renewal Date"]
    )
    run = run_import(paths=[path], actor=steward)
    refused = run.files.get()
    assert refused.status == FileStatus.REFUSED
    assert "not recognised" in refused.message and "67%" in refused.message


def test_a_formula_without_a_saved_value_rejects_its_row_not_the_file(tmp_path, steward):
    path = _client_master(
        tmp_path / "d1.xlsx",
        [GOOD_ROW, ["CC102", "Formula Client", "", "DataVault", 5, "1/07/2025", "1/07/2026", "=12*1000"]],
    )
    run = run_import(paths=[path], actor=steward)
    imported = run.files.get()
    assert imported.counts["rejected"] == 1
    assert "formula with no saved value" in imported.rejected_csv
    assert list(Account.objects.values_list("code", flat=True)) == ["CC101"]


def test_a_formula_with_a_saved_value_imports_its_value(tmp_path, steward):
    written = _client_master(
        tmp_path / "written.xlsx",
        [GOOD_ROW, ["CC102", "Formula Client", "", "DataVault", 5, "1/07/2025", "1/07/2026", "=12*1000"]],
    )
    # openpyxl saves formulas without values; Excel saves the value it calculated too.
    path = tmp_path / "saved-by-excel.xlsx"
    with zipfile.ZipFile(written) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b"<f>12*1000</f><v />" in data or b"<f>12*1000</f><v></v>" in data
                data = data.replace(b"<f>12*1000</f><v />", b"<f>12*1000</f><v>12000</v>")
                data = data.replace(b"<f>12*1000</f><v></v>", b"<f>12*1000</f><v>12000</v>")
            target.writestr(item, data)
    run = run_import(paths=[path], actor=steward)
    assert run.files.get().counts.get("rejected", 0) == 0
    assert Subscription.objects.get(account__code="CC102").annual_value == Decimal("12000")


@pytest.mark.parametrize(
    ("cell", "why"),
    [
        ("Sept 2022", "'Sept 2022' has no day; enter a full date"),
        ("31/02/2026", "'31/02/2026' is not a real date"),
        ("soon", "'soon' is not a date (use DD/MM/YYYY)"),
        ("1/06/2025", "01/06/2025 is before the start 01/07/2025"),
    ],
)
def test_an_unreadable_renewal_is_left_out_and_the_rest_of_the_row_imported(tmp_path, steward, cell, why):
    path = _client_master(
        tmp_path / "d1.xlsx", [GOOD_ROW, ["CC103", "Dated Pty Ltd", "", "DataVault", 5, "1/7/2025", cell, "1000"]]
    )
    run = run_import(paths=[path], actor=steward)
    assert run.files.get().counts == {"created": 2, "rejected": 0}
    (subscription,) = Subscription.objects.filter(account__code="CC103")
    assert (subscription.seats, subscription.start_date, subscription.renewal_date, subscription.annual_value) == (
        5,
        dt.date(2025, 7, 1),
        None,
        Decimal("1000.00"),
    )
    assert run.report["warnings"] == [f"d1.xlsx: row 3: renewal {why}: left out, the rest of the row imported"]


def test_unreadable_seats_and_value_are_left_out_each_with_its_reason(tmp_path, steward):
    path = _client_master(
        tmp_path / "d1.xlsx",
        [
            ["CC104", "Seats Pty Ltd", "", "DataVault", "ten", "1/7/2025", "1/7/2026", "$-500"],
            ["CC105", "Zero Pty Ltd", "", "DataVault", 0, "1/7/2025", "1/7/2026", "lots"],
        ],
    )
    run = run_import(paths=[path], actor=steward)
    assert run.files.get().counts.get("rejected", 0) == 0
    values = {
        s.account.code: (s.seats, s.annual_value)
        for s in Subscription.objects.select_related("account").filter(account__code__in=["CC104", "CC105"])
    }
    # Seats left out is the model's one seat; a value left out is none yet (Xero fills it).
    assert values == {"CC104": (1, Decimal("0.00")), "CC105": (1, Decimal("0.00"))}
    assert run.report["warnings"] == [
        "d1.xlsx: row 2: seats 'ten' is not a whole number; value -500.00 is negative: "
        "left out, the rest of the row imported",
        "d1.xlsx: row 3: value 'lots' is not an amount; seats 0 is not at least 1: "
        "left out, the rest of the row imported",
    ]


def test_an_unreadable_start_keeps_the_client_and_puts_the_contract_on_its_timeline(tmp_path, steward):
    rows = [["CC106", "Sept Pty Ltd", "", "DataVault", 4, "Sept 2022", "1/02/2027", "AUD 5k"]]
    path = _client_master(tmp_path / "d1.xlsx", rows)

    run = run_import(paths=[path], actor=steward)
    again = run_import(paths=[path], actor=steward)

    account = Account.objects.get(code="CC106")
    assert account.legal_name == "Sept Pty Ltd" and not account.subscriptions.exists()
    (note,) = account.activities.all()
    assert note.summary == (
        "Client master lists DataVault: seats 4, start 'Sept 2022' ('Sept 2022' has no day; enter a full date), "
        "renewal 01/02/2027, value 5000.00"
    )
    assert note.history.get().history_change_reason.endswith("d1.xlsx sheet Sheet row 2")
    assert "d1.xlsx: row 2: the DataVault subscription waits for a start date" in run.report["warnings"]
    assert run.files.get().counts.get("rejected", 0) == 0
    assert again.report["stores"]["d1"] == {"unchanged": 1}


def test_a_contract_with_neither_start_nor_renewal_is_noted_not_rejected(tmp_path, steward):
    path = _client_master(tmp_path / "d1.xlsx", [["CC107", "Undated Pty Ltd", "", "DataVault", 2, "", "", "900"]])
    run = run_import(paths=[path], actor=steward)
    account = Account.objects.get(code="CC107")
    assert not account.subscriptions.exists()
    assert account.activities.get().summary == (
        "Client master lists DataVault: seats 2, start none, renewal none, value 900.00"
    )
    assert run.files.get().counts == {"created": 1, "rejected": 0}


def test_a_cp1252_csv_is_decoded(tmp_path, steward):
    _client_master(
        tmp_path / "d1.xlsx", [["CC104", "Café Société Pty Ltd", "", "DataVault", 5, "1/7/2025", "1/7/2026", "1000"]]
    )
    calendar = tmp_path / "calendar.csv"
    text = (
        '"Subject","Start Date","All day event"\r\n"Renewal: Café Société Pty Ltd - DataVault","2/07/2026","True"\r\n'
    )
    calendar.write_bytes(text.encode("cp1252"))
    run = run_import(paths=list(tmp_path.iterdir()), actor=steward)
    d7 = run.files.get(store=Store.CALENDAR)
    assert d7.status == FileStatus.IMPORTED, d7.message
    assert ImportConflict.objects.filter(field="renewal_date", other_value="2026-07-02").exists()


def test_a_million_row_file_is_refused_whole_with_bounded_memory(tmp_path, steward):
    _client_master(tmp_path / "d1.xlsx", [GOOD_ROW])
    huge = tmp_path / "huge_calendar.csv"
    with open(huge, "w", newline="") as handle:
        handle.write("Subject,Start Date,All day event\n")
        line = "Team meeting,1/07/2026,False\n"
        for _ in range(100):
            handle.write(line * 10_000)
    run = run_import(paths=list(tmp_path.iterdir()), actor=steward)
    refused = run.files.get(name="huge_calendar.csv")
    assert refused.status == FileStatus.REFUSED and "more than 200,000 rows" in refused.message
    assert Account.objects.count() == 1  # the good file still imported


def test_a_file_that_fails_part_way_leaves_no_rows(tmp_path, steward, monkeypatch):
    from migration.importers.client_master import ClientMasterImporter

    rows = [
        [f"CC2{i:02d}", f"Client {i} Pty Ltd", "", "DataVault", 5, "1/7/2025", "1/7/2026", "1000"] for i in range(8)
    ]
    path = _client_master(tmp_path / "d1.xlsx", rows)
    original = ClientMasterImporter.import_row
    calls = {"n": 0}

    def flaky(self, row, values):
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("disk on fire")
        return original(self, row, values)

    monkeypatch.setattr(ClientMasterImporter, "import_row", flaky)
    run = run_import(paths=[path], actor=steward)
    assert run.files.get().status == FileStatus.FAILED
    assert "disk on fire" in run.files.get().message
    assert Account.objects.count() == 0 and Provenance.objects.count() == 0


def test_an_ambiguous_name_is_held_for_review_never_guessed(tmp_path, steward):
    path = _client_master(
        tmp_path / "d1.xlsx",
        [
            ["CC301", "Harbour Dental Perth Pty Ltd", "", "DataVault", 5, "1/7/2025", "1/7/2026", "1000"],
            ["CC302", "Harbour Dental Perth North Pty Ltd", "", "DataVault", 5, "1/7/2025", "1/7/2026", "1000"],
            ["", "Harbour Dental Perth Nth", "", "CloudSync", 5, "1/7/2025", "1/7/2026", "1000"],
        ],
    )
    run = run_import(paths=[path], actor=steward)
    assert run.report["reviews"] == 1
    assert Account.objects.count() == 2
    assert not Subscription.objects.filter(product__code="cloudsync").exists()


# --- Parsers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12000, Decimal("12000.00")),
        ("$12,000.00", Decimal("12000.00")),
        ("AUD 12k", Decimal("12000.00")),
        ("8,500", Decimal("8500.00")),
        ("(1,200.00)", Decimal("-1200.00")),
        ("TBC", None),
    ],
)
def test_money_in_its_many_spellings(value, expected):
    assert parse_money(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.datetime(2025, 7, 1), dt.date(2025, 7, 1)),
        (45839, dt.date(2025, 7, 1)),
        ("01/07/2019", dt.date(2019, 7, 1)),
        ("1/7/25", dt.date(2025, 7, 1)),
        ("15 Mar 2026", dt.date(2026, 3, 15)),
        ("2021-03-15", dt.date(2021, 3, 15)),
        ("TBC", None),
    ],
)
def test_dates_in_their_many_spellings_read_day_first(value, expected):
    assert parse_date(value) == expected


def test_a_month_without_a_day_is_refused():
    with pytest.raises(CellError, match="no day"):
        parse_date("Sept 2022")


def test_a_remembered_date_or_amount_is_refused_on_every_sighting_and_read_alike_on_every_other():
    # parse_date and parse_money remember each text's answer; a refusal is never remembered.
    for _ in range(2):
        with pytest.raises(CellError, match="not a real date"):
            parse_date("31/02/2026")
        with pytest.raises(CellError, match="not an amount"):
            parse_money("twelve grand")
        assert parse_date(" 1/7/25 ") == dt.date(2025, 7, 1)
        assert parse_money("AUD 12k") == Decimal("12000.00")
    assert parse_date("1/7/25") == parse_date("01/07/2025")


@pytest.mark.parametrize(("value", "expected"), [("W.A.", "WA"), ("wa", "WA"), ("Western Australia", "WA"), ("?", "")])
def test_states_in_their_many_spellings(value, expected):
    assert parse_state(value) == expected


def test_the_groups_exist_for_import_roles(db):
    assert Group.objects.filter(name="data_steward").exists()


def _chloes_pipeline(folder: Path, second_row: list) -> None:
    """Chloe's pipeline workbook: one deal for Good Client, then `second_row`."""
    wb = Workbook()
    ws = wb.active
    ws.append(["Rep: Chloe Bennett"])
    ws.append(["Client", "Opportunity", "Stage", "Value"])
    ws.append(["Good Client Pty Ltd", "DataVault upsell", "Proposal", "5000"])
    ws.append(second_row)
    wb.save(folder / "Pipeline - Chloe Bennett.xlsx")


def test_a_deal_typed_twice_in_one_workbook_imports_once_and_stays_unchanged(tmp_path, steward):
    _client_master(tmp_path / "d1.xlsx", [GOOD_ROW])
    _chloes_pipeline(tmp_path, ["Good Client", "DataVault upsell", "Qualified", "4000"])
    first = run_import(paths=list(tmp_path.iterdir()), actor=steward)
    second = run_import(paths=list(tmp_path.iterdir()), actor=steward)
    assert first.report["stores"]["d3"] == {"created": 1, "skipped": 1}
    assert second.report["stores"]["d3"] == {"unchanged": 1, "skipped": 1}
    assert Opportunity.objects.get().stage == "proposal"


def test_stages_typed_loosely_a_lost_deals_reason_and_a_totals_line(tmp_path, steward):
    _client_master(tmp_path / "d1.xlsx", [GOOD_ROW])
    wb = Workbook()
    ws = wb.active
    ws.append(["Rep: Chloe Bennett"])
    ws.append(["Client", "Opportunity", "Stage", "Value", "Why lost"])
    ws.append(["Good Client", "DataVault upsell", "Closed - Won", "5000"])
    ws.append(["Good Client", "Analytics Pro pilot", " proposal-sent ", "2000"])
    ws.append(["Good Client", "CloudSync seats", "Dead", "900", "Timing: no budget until FY28"])
    ws.append(["Good Client", "Hosting", "Closed Lost", "700", "They liked the other mob"])
    ws.append(["Good Client", "Security review", "Lost", "300"])
    ws.append(["Good Client", "Backup pilot", "lost", "200", "n/a"])
    ws.append(["Good Client", "Email archive", "LOST", "100", "Went with Costco's IT crew"])
    ws.append([None, "TOTAL", None, "=SUM(D3:D9)"])  # never recalculated
    wb.save(tmp_path / "Pipeline - Chloe Bennett.xlsx")

    first = run_import(paths=list(tmp_path.iterdir()), actor=steward)
    second = run_import(paths=list(tmp_path.iterdir()), actor=steward)

    deals = {o.name: (o.stage, o.lost_reason, o.lost_note) for o in Opportunity.objects.all()}
    assert deals == {
        "DataVault upsell": ("won", "", ""),
        "Analytics Pro pilot": ("proposal", "", ""),
        "CloudSync seats": ("lost", "timing", "Timing: no budget until FY28"),  # the earliest reason word
        "Hosting": ("lost", "other", "They liked the other mob"),
        "Security review": ("lost", "", ""),  # no words: no reason invented
        "Backup pilot": ("lost", "", ""),
        "Email archive": ("lost", "competitor", "Went with Costco's IT crew"),  # whole words only
    }
    assert first.report["stores"]["d3"] == {"created": 7, "skipped": 1}
    assert second.report["stores"]["d3"] == {"unchanged": 7, "skipped": 1}


def test_a_name_the_client_master_teaches_matches_in_the_same_runs_later_files(tmp_path, steward):
    """A variant row matched by its ABN records its name as an alias; the pipelines of the
    same run match that name, as the next run would (a second run changed things)."""
    rows = [
        ["CC101", "Good Client Pty Ltd", "51 824 753 556", "DataVault", 1, "1/07/2025", "1/07/2026", "$12,000"],
        ["", "Goodies Dental Surgery", "51824753556", "DataVault", 1, "1/07/2025", "1/07/2026", "$12,000"],
    ]
    _client_master(tmp_path / "d1.xlsx", rows)
    _chloes_pipeline(tmp_path, ["Goodies Dental Surgery", "Analytics Pro pilot", "Qualified", "4000"])

    first = run_import(paths=list(tmp_path.iterdir()), actor=steward)
    second = run_import(paths=list(tmp_path.iterdir()), actor=steward)

    assert first.report["stores"]["d3"] == {"created": 2}
    assert set(Opportunity.objects.values_list("account__code", flat=True)) == {"CC101"}
    assert second.report["stores"]["d3"] == {"unchanged": 2}


def test_rejected_rows_keep_their_columns_and_say_their_sheet_when_several_sheets_have_them(tmp_path, steward):
    _client_master(tmp_path / "d1.xlsx", [GOOD_ROW])
    wb = Workbook()
    ws = wb.active
    ws.title = "Open"
    ws.append(["Rep: Chloe Bennett"])
    ws.append(["Client", "Opportunity", "Stage", "Value", "Close Date", "Product"])
    ws.append(["Good Client", "DataVault", "Proposal", "-5000"])  # its last two cells empty
    closed = wb.create_sheet("Closed")
    closed.append(["Client", "Opportunity", "Value", "Stage", "Why lost"])  # another order
    closed.append(["Good Client", "Hosting", "700", "Haggling", "n/a"])
    wb.save(tmp_path / "Pipeline - Chloe Bennett.xlsx")
    single = Workbook()
    single.active.append(["Client", "Opportunity", "Stage", "Value", "Close Date", "Product"])
    single.active.append(["Good Client", "DataVault", "Proposal", "-5000"])
    single.save(tmp_path / "Pipeline - Priya Sharma.xlsx")

    run = run_import(paths=list(tmp_path.iterdir()), actor=steward)

    files = {f.name: f for f in run.files.all()}
    two = files["Pipeline - Chloe Bennett.xlsx"]
    assert two.counts["rejected"] == 2
    rows = list(csv.DictReader(io.StringIO(two.rejected_csv)))
    assert [(r["row"], r["sheet"], r["Client"], r["Value"], r["Stage"]) for r in rows] == [
        ("3", "Open", "Good Client", "'-5000", "Proposal"),  # escaped: a spreadsheet reads "-" as a formula
        ("2", "Closed", "Good Client", "700", "Haggling"),
    ]
    assert rows[0]["reason"] == "a negative deal value"
    assert rows[1]["reason"] == (
        "no pipeline stage called 'Haggling': the deal waits for a steward to map it at /migration/held/"
    )
    (one,) = csv.DictReader(io.StringIO(files["Pipeline - Priya Sharma.xlsx"].rejected_csv))
    assert (one["Close Date"], one["Product"]) == ("", "")
    assert one["reason"] == "a negative deal value"


def test_later_rows_of_a_name_held_for_review_say_so_rather_than_unknown(tmp_path, steward):
    from tests.factories import AccountFactory

    AccountFactory(legal_name="Harbour Dental Pty Ltd")
    AccountFactory(legal_name="Harbour Dental Group Pty Ltd")
    header, line = (SAMPLES / "xero_sales_invoices_export.csv").read_text(encoding="utf-8-sig").splitlines()[:2]
    rows = [line.replace("Acme Pty Ltd", "Harbour Dentl", 1) for _ in range(2)]
    (tmp_path / "xero.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")

    run = run_import(paths=[tmp_path / "xero.csv"], actor=steward)

    xero = run.files.get(store=Store.XERO)
    assert xero.counts["held for review"] == 1
    assert "'Harbour Dentl' fits more than one client; its first row is held for review" in xero.rejected_csv


def test_a_run_frees_its_caches_without_the_cycle_collector(tmp_path, steward, monkeypatch):
    """A name held for review is remembered without its traceback, whose frames would tie
    the importer and the run's caches into a reference cycle (memory kept until a full
    collection: 200 MB after a 10,000-client import)."""
    d1 = _client_master(
        tmp_path / "d1.xlsx",
        [
            ["CC301", "Harbour Dental Perth Pty Ltd", "", "DataVault", 5, "1/7/2025", "1/7/2026", "1000"],
            ["CC302", "Harbour Dental Perth North Pty Ltd", "", "DataVault", 5, "1/7/2025", "1/7/2026", "1000"],
        ],
    )
    calendar = tmp_path / "calendar.csv"
    calendar.write_text(
        "Subject,Start Date,All day event\n"
        "Renewal: Harbour Dental Perth Nth - DataVault,2/07/2026,True\n"
        "Renewal: Harbour Dental Perth Nth - DataVault,3/07/2026,True\n"
    )
    contexts = []
    build = RunContext.build.__func__

    def keep_a_weak_reference(cls, run, actor):
        context = build(cls, run, actor)
        contexts.append(weakref.ref(context))
        return context

    monkeypatch.setattr(RunContext, "build", classmethod(keep_a_weak_reference))
    gc.collect()
    gc.disable()
    try:
        run = run_import(paths=[d1, calendar], actor=steward)
        alive = [ref for ref in contexts if ref() is not None]
    finally:
        gc.enable()

    assert run.report["reviews"] == 1  # the calendar's name was held: the case that made the cycle
    assert contexts and alive == []


@pytest.mark.parametrize(
    ("values", "blank"),
    [
        ({"name": "  ", "deal": None, "stage": "\t", "value": ""}, True),
        ({"name": None, "deal": FORMULA_WITHOUT_VALUE}, True),
        ({"name": None, "value": 0}, False),  # a zero is a value
        ({"name": " x ", "value": None}, False),
        ({"when": dt.datetime(2026, 7, 1)}, False),
    ],
)
def test_a_row_is_blank_when_every_column_read_is_empty_or_whitespace(values, blank):
    assert Importer.is_blank(values) is blank


def test_a_row_holding_only_a_zero_is_rejected_not_skipped(tmp_path, steward):
    _client_master(tmp_path / "d1.xlsx", [GOOD_ROW])
    _chloes_pipeline(tmp_path, [None, None, None, 0])
    run = run_import(paths=list(tmp_path.iterdir()), actor=steward)
    assert run.report["stores"]["d3"] == {"created": 1, "rejected": 1}


def test_a_value_the_contract_column_cannot_hold_is_left_out(tmp_path, steward):
    path = _client_master(
        tmp_path / "d1.xlsx", [["CC108", "Big Pty Ltd", "", "DataVault", 1, "1/7/2025", "1/7/2026", "20000000000"]]
    )
    run = run_import(paths=[path], actor=steward)
    assert Subscription.objects.get(account__code="CC108").annual_value == Decimal("0.00")
    assert run.report["warnings"] == [
        "d1.xlsx: row 2: value 20000000000 is more than a contract can be: left out, the rest of the row imported"
    ]


def test_a_single_name_contact_is_the_same_contact_on_every_import(tmp_path, steward):
    headers = ["Client ID", "Client Name", "Product", "Start Date", "Renewal Date", "Annual Value", "Contact", "Email"]
    rows = [
        ["CC109", "Kim Cafe", "DataVault", "1/7/2025", "1/7/2026", "100", "Kim", ""],
        ["", "KIM CAFE", "DataVault", "1/7/2025", "1/7/2026", "100", "kim", ""],
    ]
    path = _client_master(tmp_path / "d1.xlsx", rows, headers=headers)
    run_import(paths=[path], actor=steward)
    again = run_import(paths=[path], actor=steward)
    account = Account.objects.get(code="CC109")
    assert list(account.contacts.values_list("first_name", "last_name")) == [("Kim", "(unknown)")]
    assert again.report["stores"]["d1"] == {"unchanged": 2}


def test_a_xero_contacts_export_is_pointed_to_the_billing_import(tmp_path, steward):
    shutil.copy(SAMPLES / "xero_contacts_export.csv", tmp_path)
    run = run_import(paths=list(tmp_path.iterdir()), actor=steward)
    file = run.files.get()
    assert (file.status, file.message) == (
        FileStatus.REFUSED,
        "xero_contacts_export.csv: a Xero contacts export, which Finance imports with Xero's invoices at /billing/ "
        "(each Xero contact is mapped to its client there).",
    )
    assert Account.objects.count() == 0
