"""The Xero import's details, on a small export written by hand: what it reports, what it
tells Finance (the evidence of a drift or of a value it cannot tell), what it writes for a
subscription only Xero knows, and the contact names it learns. Found untested by the
mutation run (tools/mutation_run.py xero).

| client (Xero contact) | product | lines | per year | master | outcome |
|---|---|---|---:|---:|---|
| Acme ("ACME") | DataVault | 3 x 2,000 monthly | 24,000 | 24,000 | unchanged |
| Acme ("Acme Pty Ltd") | Managed Services | 3 x 500 monthly | 6,000 | 4,000 | updated; drift |
| Zeta ("Apex Cloud") | CloudSync | one 900 line, no period | - | 3,000 | cannot tell |
| Zeta ("Apex Cloud") | Security & Compliance | Jul-Sep, Oct-Dec 2026, 1,500 each | 6,000 | - | created |
| Bluegum ("Zoom Freight") | Security & Compliance | FY2026-27, 10,000 | 10,000 | 10,000 | unchanged |
| Bluegum ("Zoom Freight") | DataVault | one 700 line, no period | - | - | created at 0; cannot tell |
| Bluegum ("Zoom Freight") | (onsite hours, PO-4471) | no product | - | - | line rejected; held |
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from openpyxl import Workbook

from customers.billing_cadence import InvoiceLine, annualise
from customers.demo import ensure_demo_users
from customers.models import AccountAlias, Subscription
from migration.choices import ConflictKind, EvidenceStatus, HeldKind, Store
from migration.importers.xero import _evidence, _evidence_line
from migration.models import EvidencedSubscription, HeldValue, ImportConflict, Provenance
from migration.services import decide_evidenced_subscription, resolve_conflict, run_import

pytestmark = pytest.mark.django_db

D = Decimal
HEADERS = ["Client ID", "Client Name", "Trading Name", "Product", "Seats", "Start Date", "Renewal Date", "Annual Value"]
MASTER = [
    ["CC001", "Acme Pty Ltd", "", "DataVault", 25, "1/07/2025", "1/07/2027", "$24,000"],
    ["CC001", "Acme Pty Ltd", "", "Managed Services", 1, "1/07/2025", "1/07/2027", "$4,000"],
    ["CC002", "Zeta Holdings Pty Ltd", "Apex Cloud", "CloudSync", 8, "1/09/2025", "1/09/2027", "$3,000"],
    [
        "CC003",
        "Bluegum Logistics Pty Ltd",
        "Zoom Freight",
        "Security & Compliance",
        1,
        "1/07/2026",
        "1/07/2027",
        "$10,000",
    ],
]
XERO = "\n".join(
    [
        "ContactName,InvoiceNumber,Reference,InvoiceDate,InventoryItemCode,Description,Quantity,UnitAmount,LineAmount,Type,Status",
        "ACME,INV-1001,,01/07/2026,DV-STD,DataVault backup - July 2026,1,2000.00,2000.00,Sales invoice,Paid",  # row 2
        "ACME,INV-1002,,01/08/2026,DV-STD,DataVault backup - August 2026,1,2000.00,2000.00,Sales invoice,Paid",
        "ACME,INV-1003,,01/09/2026,DV-STD,DataVault backup - September 2026,1,2000.00,2000.00,Sales invoice,Paid",
        "Acme Pty Ltd,INV-1004,,01/07/2026,,Managed Services retainer,1,500.00,500.00,Sales invoice,Paid",  # row 5
        "Acme Pty Ltd,INV-1005,,01/08/2026,,Managed Services retainer,1,500.00,500.00,Sales invoice,Paid",
        "Acme Pty Ltd,INV-1006,,01/09/2026,,Managed Services retainer,1,500.00,500.00,Sales invoice,Paid",  # row 7
        "Apex Cloud,INV-1007,,01/08/2026,,CloudSync licence,1,900.00,900.00,Sales invoice,Paid",
        # row 9
        "Apex Cloud,INV-1008,,03/07/2026,,Security & Compliance Jul-Sep 2026,1,1500.00,1500.00,Sales invoice,Paid",
        "Apex Cloud,INV-1009,,03/10/2026,,Security & Compliance Oct-Dec 2026,1,1500.00,1500.00,Sales invoice,Paid",
        "Zoom Freight,INV-1010,,01/07/2026,,Security & Compliance FY2026-27,1,10000.00,10000.00,Sales invoice,Paid",
        "Zoom Freight,INV-1011,,01/08/2026,DV-STD,DataVault licence,1,700.00,700.00,Sales invoice,Paid",  # row 12
        'Zoom Freight,INV-1012,PO-4471,01/08/2026,,"Onsite support, Perth CBD (hours)",1,300.00,300.00,'
        "Sales invoice,Paid",
        "",
    ]
)


@pytest.fixture
def run(tmp_path):
    ensure_demo_users()
    workbook = Workbook()
    workbook.active.append(HEADERS)
    for row in MASTER:
        workbook.active.append(row)
    workbook.save(tmp_path / "client_master.xlsx")
    (tmp_path / "xero_export.csv").write_text(XERO)
    steward = get_user_model().objects.get(username="data_steward")
    return run_import(paths=sorted(tmp_path.iterdir()), actor=steward)


def _subscription(code: str, product: str) -> Subscription:
    return Subscription.objects.get(account__code=code, product__name=product)


def test_the_report_counts_what_happened_to_each_value(run):
    counts = run.report["stores"][Store.XERO]
    assert {key: counts.get(key, 0) for key in [
        "values unchanged", "values updated", "drifts for Finance", "values Xero cannot tell",
        "subscriptions created from invoices", "values kept by Finance", "dismissed earlier",
    ]} == {
        "values unchanged": 2, "values updated": 1, "drifts for Finance": 1, "values Xero cannot tell": 2,
        "subscriptions created from invoices": 2, "values kept by Finance": 0, "dismissed earlier": 0,
    }  # fmt: skip


def test_an_updated_value_says_which_row_last_billed_it(run):
    subscription = _subscription("CC001", "Managed Services")
    assert subscription.annual_value == D("6000.00")
    reason = subscription.history.latest().history_change_reason
    assert "xero_export.csv row 7: what Xero bills a year (monthly: 3 invoices averaging $500.00, x12)" in reason


def test_a_drift_tells_finance_both_values_the_cadence_and_the_invoices(run):
    drift = ImportConflict.objects.get(kind=ConflictKind.DRIFT)
    assert (drift.kept_value, drift.other_value) == ("6000.00", "4000.00")
    assert drift.evidence == {
        "cadence": "monthly",
        "how": "monthly: 3 invoices averaging $500.00, x12",
        "xero": "6000.00",
        "master": "4000.00",
        "record_holds": "Xero",
        "invoices": ["INV-1004", "INV-1005", "INV-1006"],
        "more_invoices": 0,
        "lines": [
            ["INV-1004", "2026-07-01", "500.00", "Managed Services retainer"],
            ["INV-1005", "2026-08-01", "500.00", "Managed Services retainer"],
            ["INV-1006", "2026-09-01", "500.00", "Managed Services retainer"],
        ],
    }


def test_a_value_xero_cannot_tell_keeps_the_masters_and_says_why(run):
    subscription = _subscription("CC002", "CloudSync")
    assert subscription.annual_value == D("3000.00")
    untold = ImportConflict.objects.get(kind=ConflictKind.UNTOLD, subscription=subscription)
    assert (untold.subscription, untold.kept_store, untold.kept_value) == (subscription, Store.CLIENT_MASTER, "3000.00")
    assert untold.other_value == "cannot tell"
    assert untold.detail == (
        "Cannot tell: one invoice and no stated period: cannot tell how often it is billed; the record keeps 3000.00"
    )
    assert (untold.evidence["record_holds"], untold.evidence["master"], untold.evidence["xero"]) == (
        "client master",
        "3000.00",
        "",
    )


def test_a_subscription_only_xero_knows_starts_on_its_first_stated_day_with_every_row_behind_it(run):
    subscription = _subscription("CC002", "Security & Compliance")
    assert (subscription.seats, subscription.term_months, subscription.start_date, subscription.annual_value) == (
        1,
        12,
        dt.date(2026, 7, 1),  # "Jul-Sep 2026", invoiced on the 3rd
        D("6000.00"),
    )
    assert "xero_export.csv row 9: invoiced by Xero, not in the client master" in (
        subscription.history.earliest().history_change_reason
    )
    provenance = Provenance.objects.get(object_id=subscription.pk, store=Store.XERO)
    assert (provenance.row, provenance.rows) == (9, [9, 10])
    evidence = EvidencedSubscription.objects.get(subscription=subscription)
    assert evidence.detail == "Xero INV-1008, INV-1009: quarterly, $6,000.00 a year"


def test_contact_names_that_differ_from_the_legal_name_become_aliases_and_equal_ones_do_not(run):
    learned = set(AccountAlias.objects.filter(source="Xero ContactName").values_list("account__code", "value"))
    # "apex cloud" sorts before "zeta holdings", "zoom freight" after "bluegum logistics";
    # "ACME" and "Acme Pty Ltd" are Acme's own name.
    assert learned == {("CC002", "Apex Cloud"), ("CC003", "Zoom Freight")}


# --- The evidence Finance reads, from the pure helpers ---------------------------------


def _lines(count: int, per_day: int = 1, description: str = "Backup - monthly") -> list[InvoiceLine]:
    lines = []
    for month in range(count):
        day = dt.date(2025, 10, 1) + dt.timedelta(days=round(month * 30.44))
        for n in range(per_day):
            number = f"INV-{month:02}{n}"
            lines.append(InvoiceLine(number=number, date=day, amount=D("100.00"), description=description))
    return lines


def test_a_drifts_evidence_keeps_twenty_four_invoices_and_counts_the_rest():
    estimate = annualise(_lines(12, per_day=3))  # 36 invoice numbers in the year
    evidence = _evidence(estimate, xero=D("3600.00"), master=D("1200.00"), holds="Xero")
    assert len(evidence["invoices"]) == 24 and evidence["invoices"][-1] == "INV-072"
    assert evidence["more_invoices"] == 12
    assert len(evidence["lines"]) == 24


def test_a_long_description_is_cut_at_eighty_characters_in_the_evidence():
    estimate = annualise(_lines(2, description="x" * 81 + " monthly"))
    assert [len(line[3]) for line in _evidence(estimate, xero=None, master=None, holds="no value")["lines"]] == [80, 80]


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (3, "Xero INV-000, INV-010, INV-020: monthly, $1,200.00 a year"),
        (4, "Xero INV-000, INV-010, INV-020 and 1 more: monthly, $1,200.00 a year"),
        (6, "Xero INV-000, INV-010, INV-020 and 3 more: monthly, $1,200.00 a year"),
    ],
)
def test_the_evidence_line_names_three_invoices_and_counts_the_rest(count, shown):
    assert _evidence_line(annualise(_lines(count))) == shown


def test_the_evidence_line_says_when_the_cadence_and_value_cannot_be_told():
    one = [InvoiceLine(number="INV-1", date=dt.date(2026, 8, 1), amount=D("900.00"), description="Licence")]
    assert _evidence_line(annualise(one)) == "Xero INV-1: cadence unclear, value cannot be told"


def test_a_subscription_only_xero_knows_whose_value_it_cannot_tell_is_kept_at_zero_for_finance(run):
    subscription = _subscription("CC003", "DataVault")
    assert subscription.annual_value == D("0.00")
    untold = ImportConflict.objects.get(kind=ConflictKind.UNTOLD, subscription=subscription)
    assert (untold.kept_store, untold.kept_value, untold.evidence["record_holds"]) == (
        Store.CLIENT_MASTER,
        "0.00",
        "no value",
    )


def test_a_line_without_a_product_is_held_under_its_description(run):
    held = HeldValue.objects.get(kind=HeldKind.PRODUCT)
    assert (held.value, held.rows) == ("Onsite support, Perth CBD (hours)", 1)


def test_a_later_export_without_the_master_is_compared_with_what_the_record_holds(run, tmp_path):
    later = tmp_path / "later"
    later.mkdir()
    rows = [XERO.splitlines()[0]] + [
        f"Acme Pty Ltd,INV-20{m},,01/{m:02}/2026,,Managed Services retainer,1,700.00,700.00,Sales invoice,Paid"
        for m in (10, 11, 12)
    ]
    (later / "xero_later.csv").write_text("\n".join(rows) + "\n")
    again = run_import(paths=[later / "xero_later.csv"], actor=run.started_by)
    subscription = _subscription("CC001", "Managed Services")
    assert subscription.annual_value == D("8400.00")
    drift = ImportConflict.objects.filter(kind=ConflictKind.DRIFT, subscription=subscription).latest("pk")
    assert (drift.run, drift.other_value, drift.evidence["master"]) == (again, "6000.00", "6000.00")


def test_a_dismissed_subscription_is_not_created_again_and_the_report_says_so(run, tmp_path):
    evidence = EvidencedSubscription.objects.get(subscription=_subscription("CC002", "Security & Compliance"))
    decide_evidenced_subscription(
        evidence=evidence,
        decision=EvidenceStatus.DISMISSED,
        actor=get_user_model().objects.get(username="customer_relations"),
        reason="An old quote, never sold",
    )
    again = run_import(paths=[tmp_path / "xero_export.csv"], actor=run.started_by)
    assert again.report["stores"][Store.XERO]["dismissed earlier"] == 1
    assert not Subscription.objects.live().filter(account__code="CC002", product__name="Security & Compliance").exists()


def test_a_value_finance_settled_for_the_master_is_kept_by_the_next_import(run, tmp_path):
    drift = ImportConflict.objects.get(kind=ConflictKind.DRIFT)
    resolve_conflict(
        conflict=drift,
        apply_other=True,
        actor=get_user_model().objects.get(username="finance"),
        reason="The master's price is the contract; Xero is being corrected",
    )
    assert _subscription("CC001", "Managed Services").annual_value == D("4000.00")
    again = run_import(paths=sorted(p for p in tmp_path.iterdir() if p.is_file()), actor=run.started_by)
    assert again.report["stores"][Store.XERO]["values kept by Finance"] == 1
    assert _subscription("CC001", "Managed Services").annual_value == D("4000.00")


def test_every_xero_row_behind_a_value_is_its_provenance(run):
    subscription = _subscription("CC001", "Managed Services")
    provenance = Provenance.objects.get(object_id=subscription.pk, store=Store.XERO)
    assert (provenance.row, provenance.rows, provenance.fields) == (5, [5, 6, 7], ["annual_value"])
