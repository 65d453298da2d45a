"""Xero reconciliation: imports, contact mapping, the discrepancy queue and its resolutions.

Oracles are written by hand from Xero's real export layouts (tests/samples and
tests/factories_billing.py), never computed by the code under test.
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from billing_sync import services
from billing_sync.choices import Cause, DiscrepancyStatus, FileStatus, MatchMethod, MatchStatus, Resolution
from billing_sync.models import Discrepancy, XeroContact, XeroInvoiceLine
from customers.choices import SubscriptionStatus
from customers.errors import OwnershipError
from customers.models import Subscription
from tests.factories import AccountFactory, SubscriptionFactory, product
from tests.factories_billing import line, write_invoices

SAMPLES = Path(__file__).parent / "samples"
TODAY = dt.date(2026, 3, 15)
pytestmark = pytest.mark.django_db


def _import(paths, actor, *, dry_run=False, today=TODAY):
    return services.run_import(paths=[Path(p) for p in paths], actor=actor, dry_run=dry_run, today=today)


def _lines() -> list[tuple]:
    return list(
        XeroInvoiceLine.objects.order_by("invoice_number", "line_no").values_list(
            "invoice_number", "line_no", "status", "line_amount", "contact__name", "account_id", "last_import_id"
        )
    )


@pytest.fixture
def samples(tmp_path):
    for name in ("xero_contacts_export.csv", "xero_sales_invoices_export.csv"):
        shutil.copy(SAMPLES / name, tmp_path / name)
    return [tmp_path / "xero_contacts_export.csv", tmp_path / "xero_sales_invoices_export.csv"]


@pytest.fixture
def sample_world(db):
    """Accounts for the sample exports' contacts (FORMATS.md's Acme, Bluegum, Swan River...)."""
    return {
        "acme": AccountFactory(legal_name="Acme Pty Ltd", abn="99612345678"),
        "bluegum": AccountFactory(legal_name="Bluegum Logistics Pty Ltd"),
        "swan_a": AccountFactory(legal_name="Swan River Dentals Pty Ltd"),
        "swan_b": AccountFactory(legal_name="Swan Rivr Dental"),
        "pilbara": AccountFactory(legal_name="Pilbara Mining Services Pty Ltd", xero_contact_id="PILB01"),
    }


# --- Imports ----------------------------------------------------------------------------


def test_the_sample_exports_import_every_line_grouped_by_invoice(samples, sample_world, personas):
    run = _import(samples, personas["finance"])
    statuses = {f.name: f.status for f in run.files.all()}
    assert statuses == {
        "xero_contacts_export.csv": FileStatus.IMPORTED,
        "xero_sales_invoices_export.csv": FileStatus.IMPORTED,
    }
    numbers = dict.fromkeys(n for n, *_ in _lines())
    assert list(numbers) == ["CN-0007", "INV-0101", "INV-0102", "INV-0103", "INV-0104", "INV-0105"]
    assert XeroInvoiceLine.objects.count() == 11
    assert XeroInvoiceLine.objects.filter(invoice_number="INV-0101").count() == 3
    credit = XeroInvoiceLine.objects.get(invoice_number="CN-0007")
    assert (credit.invoice_type, credit.line_amount, credit.status) == ("credit_note", Decimal("500.00"), "PAID")
    assert XeroInvoiceLine.objects.get(invoice_number="INV-0102").status == "AUTHORISED"  # "Awaiting Payment"
    assert XeroInvoiceLine.objects.get(invoice_number="INV-0102").invoice_date == dt.date(2025, 8, 4)  # DD/MM


def test_the_same_export_imported_twice_changes_nothing(samples, sample_world, personas):
    first = _import(samples, personas["finance"])
    lines, cases = _lines(), list(Discrepancy.objects.values_list("key", "status", "amount"))
    contacts = list(XeroContact.objects.values_list("name", "status", "account_id", "method"))
    second = _import(samples, personas["finance"])
    invoices = second.files.get(name="xero_sales_invoices_export.csv")
    assert invoices.counts == {"lines unchanged": 11, "invoices": 6}
    assert _lines() == lines  # not even the last import id moved
    assert all(row[-1] == first.pk for row in lines)
    assert list(Discrepancy.objects.values_list("key", "status", "amount")) == cases
    assert list(XeroContact.objects.values_list("name", "status", "account_id", "method")) == contacts


def test_an_overlapping_export_of_the_next_month_adds_only_the_new_lines(tmp_path, personas):
    account = AccountFactory(legal_name="Quokka Labs Pty Ltd", xero_contact_id="Quokka Labs Pty Ltd")
    january = write_invoices(
        tmp_path / "jan.csv",
        [
            line("Quokka Labs Pty Ltd", "INV-1", "05/01/2026", "1000.00", "DataVault - January 2026"),
            line("Quokka Labs Pty Ltd", "INV-2", "20/01/2026", "250.00", "Site visit", Status="Awaiting Payment"),
        ],
    )
    _import([january], personas["finance"])
    february = write_invoices(
        tmp_path / "feb.csv",
        [
            line("Quokka Labs Pty Ltd", "INV-2", "20/01/2026", "250.00", "Site visit", Status="Awaiting Payment"),
            line("Quokka Labs Pty Ltd", "INV-3", "05/02/2026", "1000.00", "DataVault - February 2026"),
            line("Quokka Labs Pty Ltd", "INV-3", "05/02/2026", "90.00", "Extra seats - February 2026"),
        ],
    )
    run = _import([february], personas["finance"])
    assert run.files.get().counts == {"lines unchanged": 1, "lines added": 2, "invoices": 2}
    assert [(n, no) for n, no, *_ in _lines()] == [("INV-1", 1), ("INV-2", 1), ("INV-3", 1), ("INV-3", 2)]
    assert set(XeroInvoiceLine.objects.values_list("account_id", flat=True)) == {account.pk}


def test_a_paid_voided_or_credited_invoice_updates_its_row(tmp_path, personas):
    AccountFactory(legal_name="Quokka Labs Pty Ltd", xero_contact_id="Quokka Labs Pty Ltd")
    rows = [
        line("Quokka Labs Pty Ltd", "INV-7", "05/01/2026", "1000.00", "DataVault", Status="Awaiting Payment"),
        line("Quokka Labs Pty Ltd", "INV-8", "06/01/2026", "400.00", "Cabling", Status="Awaiting Payment"),
    ]
    _import([write_invoices(tmp_path / "a.csv", rows)], personas["finance"])
    rows[0]["Status"], rows[1]["Status"] = "Paid", "Voided"
    run = _import([write_invoices(tmp_path / "b.csv", rows)], personas["finance"])
    assert run.files.get().counts == {"lines updated": 2, "invoices": 2}
    assert dict(XeroInvoiceLine.objects.values_list("invoice_number", "status")) == {
        "INV-7": "PAID",
        "INV-8": "VOIDED",
    }
    assert XeroInvoiceLine.objects.count() == 2


def test_a_bad_row_keeps_the_whole_file_out_and_its_rejected_rows_cannot_run_formulas(tmp_path, personas):
    AccountFactory(legal_name="Quokka Labs Pty Ltd")
    path = write_invoices(
        tmp_path / "bad.csv",
        [
            line("Quokka Labs Pty Ltd", "INV-1", "05/01/2026", "1000.00", "DataVault"),
            line("Quokka Labs Pty Ltd", "INV-2", "31/02/2026", "50.00", '=HYPERLINK("http://x.example","click")'),
            line("Quokka Labs Pty Ltd", "INV-3", "05/02/2026", "abc", "@SUM(A1)"),
        ],
    )
    run = _import([path], personas["finance"])
    imported = run.files.get()
    assert imported.status == FileStatus.REJECTED
    assert XeroInvoiceLine.objects.count() == 0
    assert XeroContact.objects.count() == 0  # the contact the file brought went with it
    assert "'=HYPERLINK" in imported.rejected_csv
    assert "'@SUM(A1)" in imported.rejected_csv
    assert "row 3: '31/02/2026' is not a date (DD/MM/YYYY)" in imported.rejected_csv
    assert "row 4: 'abc' is not an amount" in imported.rejected_csv
    assert imported.rejected_csv.splitlines()[0].endswith(",Reason")


def test_a_dry_run_saves_nothing_but_says_what_would_happen(samples, sample_world, personas):
    run = _import(samples, personas["finance"], dry_run=True)
    assert run.status == "previewed"
    assert run.files.get(name="xero_sales_invoices_export.csv").counts["lines added"] == 11
    assert XeroInvoiceLine.objects.count() == 0
    assert XeroContact.objects.count() == 0
    assert Discrepancy.objects.count() == 0


def test_a_file_that_is_not_a_xero_export_is_refused(tmp_path, personas):
    path = tmp_path / "notes.csv"
    path.write_text("Name,Amount\nAcme,12\n")
    run = _import([path], personas["finance"])
    assert run.files.get().status == FileStatus.REFUSED


def test_only_finance_and_data_stewards_import(samples, personas):
    for role in ("sales_rep", "support_agent", "customer_relations", "executive"):
        with pytest.raises(OwnershipError):
            _import(samples, personas[role])
    assert XeroInvoiceLine.objects.count() == 0


# --- Contact mapping --------------------------------------------------------------------


def test_contacts_match_by_contact_id_then_abn_then_name_and_loose_ones_wait(samples, sample_world, personas):
    _import(samples, personas["finance"])
    found = {c.name: (c.status, c.method, c.account_id) for c in XeroContact.objects.all()}
    world = sample_world
    assert found["Pilbara Mining Services Pty Ltd"] == (
        MatchStatus.MATCHED,
        MatchMethod.CONTACT_ID,
        world["pilbara"].pk,
    )
    assert found["Acme Pty Ltd"] == (MatchStatus.MATCHED, MatchMethod.ABN, world["acme"].pk)
    assert found["ACME"] == (MatchStatus.MATCHED, MatchMethod.ABN, world["acme"].pk)
    assert found["Bluegum Logistics Pty. Limited"] == (MatchStatus.MATCHED, MatchMethod.NAME, world["bluegum"].pk)
    # Two practices look like "Swan River Dental P/L" loosely (its TaxNumber is not a valid ABN).
    assert found["Swan River Dental P/L"] == (MatchStatus.HELD, "", None)
    # Nobody is Harbourside Legal: listed, never dropped, its invoice lines kept.
    assert found["Harbourside Legal Ltd"] == (MatchStatus.UNMATCHED, "", None)
    assert XeroInvoiceLine.objects.filter(contact__name="Harbourside Legal Ltd").count() == 2
    queue = [c.name for c in XeroContact.objects.queue()]
    assert queue[0] == "Swan River Dental P/L"
    assert "Harbourside Legal Ltd" in queue


def test_finances_answer_becomes_the_accounts_xero_id_so_the_next_import_resolves_it(samples, sample_world, personas):
    _import(samples, personas["finance"])
    held = XeroContact.objects.get(name="Swan River Dental P/L")
    swan = sample_world["swan_b"]
    services.map_contact(contact=held, account=swan, actor=personas["finance"], reason="Same practice, Q-0388")
    swan.refresh_from_db()
    assert swan.xero_contact_id == "SWAN01"  # the contact's AccountNumber
    record = swan.history.latest()
    assert (record.history_user, record.history_change_reason) == (personas["finance"], "Same practice, Q-0388")
    assert set(XeroInvoiceLine.objects.filter(invoice_number="INV-0104").values_list("account_id", flat=True)) == {
        swan.pk
    }
    # A fresh start: the contact forgotten, the next import finds it by the id alone.
    XeroInvoiceLine.objects.all().delete()
    XeroContact.objects.all().delete()
    _import(samples, personas["finance"])
    again = XeroContact.objects.get(name="Swan River Dental P/L")
    assert (again.status, again.method, again.account_id) == (MatchStatus.MATCHED, MatchMethod.CONTACT_ID, swan.pk)


def test_other_roles_cannot_map_a_contact(samples, sample_world, personas):
    _import(samples, personas["finance"])
    held = XeroContact.objects.get(name="Swan River Dental P/L")
    with pytest.raises(OwnershipError):
        services.map_contact(contact=held, account=sample_world["swan_a"], actor=personas["sales_manager"])
    held.refresh_from_db()
    assert held.status == MatchStatus.HELD
    assert sample_world["swan_a"].__class__.objects.get(pk=sample_world["swan_a"].pk).xero_contact_id == ""


# --- Discrepancies ----------------------------------------------------------------------


@pytest.fixture
def drift_world(tmp_path, personas):
    """One client of each cause (dates before TODAY, 15 March 2026):

    - DataVault: contract $12,000 a year, Xero bills $1,500 a month ($18,000 a year);
    - CloudSync: billed quarterly, $600 a quarter, no CRM subscription;
    - Analytics Pro: live since 1 Jan 2025 at $9,000, never billed;
    - Cloud Hosting: cancelled, ended 30 Nov 2025, billed again on 1 Feb 2026 ($3,000);
    - Managed Services: contract $6,000, billed $500 a month: in step, no case.
    """
    account = AccountFactory(legal_name="Numbat Analytics Pty Ltd", xero_contact_id="Numbat Analytics Pty Ltd")
    subs = {
        "value": SubscriptionFactory(account=account, product=product("datavault"), annual_value=Decimal("12000")),
        "not_billed": SubscriptionFactory(
            account=account,
            product=product("analytics-pro"),
            annual_value=Decimal("9000"),
            start_date=dt.date(2025, 1, 1),
            renewal_date=dt.date(2026, 1, 1),
        ),
        "ended": SubscriptionFactory(
            account=account,
            product=product("cloud-hosting"),
            annual_value=Decimal("3000"),
            start_date=dt.date(2024, 12, 1),
            renewal_date=dt.date(2025, 11, 30),
            status=SubscriptionStatus.CANCELLED,
        ),
        "steady": SubscriptionFactory(
            account=account, product=product("managed-services"), annual_value=Decimal("6000")
        ),
    }
    rows = []
    for month in (12, 1, 2):
        year = 2025 if month == 12 else 2026
        rows.append(
            line(
                "Numbat Analytics Pty Ltd",
                f"INV-DV{month}",
                f"01/{month:02d}/{year}",
                "1500.00",
                "DataVault monthly",
                InventoryItemCode="DV-STD",
            )
        )
        rows.append(
            line(
                "Numbat Analytics Pty Ltd",
                f"INV-MS{month}",
                f"02/{month:02d}/{year}",
                "500.00",
                "Managed Services monthly",
                InventoryItemCode="MS-RET",
            )
        )
    for day in ("10/09/2025", "10/12/2025", "10/03/2026"):
        rows.append(
            line(
                "Numbat Analytics Pty Ltd",
                f"INV-CS{day[3:5]}",
                day,
                "600.00",
                "CloudSync quarterly",
                InventoryItemCode="CS-SEATS",
            )
        )
    rows.append(
        line(
            "Numbat Analytics Pty Ltd",
            "INV-CH1",
            "01/02/2026",
            "3000.00",
            "Cloud Hosting annual",
            InventoryItemCode="CH-VM",
        )
    )
    path = write_invoices(tmp_path / "drift.csv", rows)
    return {"account": account, "subs": subs, "path": path, "rows": rows, "tmp": tmp_path}


def _cases():
    return {d.cause: d for d in Discrepancy.objects.all()}


def test_each_cause_opens_exactly_one_case(drift_world, personas):
    _import([drift_world["path"]], personas["finance"])
    subs = drift_world["subs"]
    cases = _cases()
    assert Discrepancy.objects.count() == 4
    value = cases[Cause.VALUE]
    assert (value.subscription_id, value.crm_value, value.xero_value, value.amount) == (
        subs["value"].pk,
        Decimal("12000.00"),
        Decimal("18000.00"),
        Decimal("6000.00"),
    )
    assert {i["number"] for i in value.invoices} == {"INV-DV12", "INV-DV1", "INV-DV2"}
    assert value.owner == personas["finance"]
    not_in_crm = cases[Cause.NOT_IN_CRM]
    assert (not_in_crm.product.code, not_in_crm.xero_value) == ("cloudsync", Decimal("2400.00"))
    not_billed = cases[Cause.NOT_BILLED]
    assert (not_billed.subscription_id, not_billed.amount) == (subs["not_billed"].pk, Decimal("9000.00"))
    after_end = cases[Cause.BILLED_AFTER_END]
    assert (after_end.subscription_id, after_end.amount) == (subs["ended"].pk, Decimal("3000.00"))
    assert [i["number"] for i in after_end.invoices] == ["INV-CH1"]
    # Again, and again by the nightly job: still one case per cause.
    _import([drift_world["path"]], personas["finance"])
    services.reconcile(today=TODAY)
    assert Discrepancy.objects.count() == 4
    assert set(Discrepancy.objects.values_list("status", flat=True)) == {DiscrepancyStatus.OPEN}


def test_the_account_owner_is_told_on_the_timeline(drift_world, personas):
    _import([drift_world["path"]], personas["finance"])
    summaries = list(drift_world["account"].activities.values_list("summary", flat=True))
    assert len([s for s in summaries if s.startswith("Billing discrepancy opened")]) == 4


def test_accepting_xeros_value_changes_the_contract_value_with_history_naming_the_case(drift_world, personas):
    _import([drift_world["path"]], personas["finance"])
    case = _cases()[Cause.VALUE]
    services.resolve_discrepancy(
        discrepancy=case, resolution=Resolution.ACCEPT_XERO, actor=personas["finance"], reason="Seats added in Dec"
    )
    subscription = Subscription.objects.get(pk=drift_world["subs"]["value"].pk)
    assert subscription.annual_value == Decimal("18000.00")
    record = subscription.history.latest()
    assert record.history_user == personas["finance"]
    assert record.history_change_reason == f"Billing discrepancy #{case.pk}: accepted Xero's value (Seats added in Dec)"
    assert record.prev_record.annual_value == Decimal("12000.00")
    case.refresh_from_db()
    assert (case.status, case.resolution, case.resolved_by) == (
        DiscrepancyStatus.RESOLVED,
        Resolution.ACCEPT_XERO,
        personas["finance"],
    )
    # The next reconciliation finds nothing more to say about DataVault.
    services.reconcile(today=TODAY)
    case.refresh_from_db()
    assert (case.status, case.resolution) == (DiscrepancyStatus.RESOLVED, Resolution.ACCEPT_XERO)


def test_a_resolved_case_stays_closed_until_the_figures_change(drift_world, personas):
    _import([drift_world["path"]], personas["finance"])
    case = _cases()[Cause.VALUE]
    services.resolve_discrepancy(
        discrepancy=case, resolution=Resolution.EXPLAINED, actor=personas["finance"], reason="Promo pricing agreed"
    )
    # March's invoice bills the same $1,500: the same figures, the case stays closed.
    rows = drift_world["rows"] + [
        line(
            "Numbat Analytics Pty Ltd",
            "INV-DV3",
            "01/03/2026",
            "1500.00",
            "DataVault monthly",
            InventoryItemCode="DV-STD",
        )
    ]
    _import([write_invoices(drift_world["tmp"] / "march.csv", rows)], personas["finance"])
    case.refresh_from_db()
    assert case.status == DiscrepancyStatus.RESOLVED
    # April's is $1,800: the figures changed, so the case reopens (the same case, not a new one).
    rows.append(
        line(
            "Numbat Analytics Pty Ltd",
            "INV-DV4",
            "01/04/2026",
            "1800.00",
            "DataVault monthly",
            InventoryItemCode="DV-STD",
        )
    )
    _import([write_invoices(drift_world["tmp"] / "april.csv", rows)], personas["finance"], today=dt.date(2026, 4, 10))
    case.refresh_from_db()
    assert case.status == DiscrepancyStatus.OPEN
    assert Discrepancy.objects.filter(cause=Cause.VALUE).count() == 1
    assert "reopened" in case.history.latest().history_change_reason


def test_keeping_the_crm_value_records_a_correction_for_finance(drift_world, personas):
    _import([drift_world["path"]], personas["finance"])
    case = _cases()[Cause.VALUE]
    services.resolve_discrepancy(
        discrepancy=case, resolution=Resolution.KEEP_CRM, actor=personas["finance"], reason="Xero has the wrong seats"
    )
    case.refresh_from_db()
    assert case.xero_correction_pending
    assert Subscription.objects.get(pk=drift_world["subs"]["value"].pk).annual_value == Decimal("12000.00")
    assert drift_world["account"].activities.filter(summary__startswith="Finance to correct Xero").exists()


def test_a_case_settles_itself_when_the_figures_agree(drift_world, personas):
    _import([drift_world["path"]], personas["finance"])
    subscription = Subscription.objects.get(pk=drift_world["subs"]["value"].pk)
    from customers import services as customer_services

    customer_services.update_subscription(
        subscription=subscription,
        changes={"annual_value": Decimal("18000")},
        expected_version=subscription.version,
        actor=personas["finance"],
        reason="Corrected on the 360 page",
    )
    services.reconcile(today=TODAY)
    case = _cases()[Cause.VALUE]
    assert (case.status, case.resolution) == (DiscrepancyStatus.RESOLVED, Resolution.SETTLED)


def test_only_finance_resolves_and_a_refusal_changes_nothing(drift_world, personas):
    _import([drift_world["path"]], personas["finance"])
    case = _cases()[Cause.VALUE]
    for role in ("sales_rep", "sales_manager", "customer_relations", "support_agent", "executive"):
        with pytest.raises(OwnershipError):
            services.resolve_discrepancy(
                discrepancy=case, resolution=Resolution.ACCEPT_XERO, actor=personas[role], reason="try"
            )
    case.refresh_from_db()
    assert case.status == DiscrepancyStatus.OPEN
    assert Subscription.objects.get(pk=drift_world["subs"]["value"].pk).annual_value == Decimal("12000.00")


def test_only_a_value_case_can_take_xeros_value(drift_world, personas):
    _import([drift_world["path"]], personas["finance"])
    case = _cases()[Cause.NOT_IN_CRM]
    with pytest.raises(services.ResolutionError):
        services.resolve_discrepancy(
            discrepancy=case, resolution=Resolution.ACCEPT_XERO, actor=personas["finance"], reason="x"
        )


def test_the_churn_risk_factor_counts_an_open_discrepancy(drift_world, personas):
    from support_bridge import risk

    account = drift_world["account"]
    assert risk.gather(account_ids=[account.pk])[account.pk].billing_discrepancy is False
    _import([drift_world["path"]], personas["finance"])
    assert risk.gather(account_ids=[account.pk])[account.pk].billing_discrepancy is True
    Discrepancy.objects.update(status=DiscrepancyStatus.RESOLVED)
    assert risk.gather(account_ids=[account.pk])[account.pk].billing_discrepancy is False
