"""From an activated onboarding order to its Xero invoice: the order ID on the invoice's
Reference names the client and subscription, maps a new client's Xero contact, and tells
Finance which hand-offs have been invoiced; one not invoiced in time is a case.

The export is written by hand in Xero's Sales Invoices layout
(tests/samples/xero_invoices_order_reference.csv, the order ID in the Reference column);
the world of orders is written by hand too (`_handoff`), as onboarding leaves it.
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing_sync import orders, services
from billing_sync.choices import Cause, DiscrepancyStatus, HandoffStatus, MatchMethod, MatchStatus, Resolution
from billing_sync.models import Discrepancy, XeroContact, XeroInvoiceLine
from customers.choices import SubscriptionStatus
from customers.models import Account, Subscription
from onboarding.choices import OrderStatus
from onboarding.models import BillingHandoff, Order
from tests.factories import AccountFactory
from tests.factories_billing import activated_order, line, write_invoices

SAMPLES = Path(__file__).parent / "samples"
FIXTURE = "xero_invoices_order_reference.csv"
START = dt.date(2026, 11, 1)
AFTER_IMPORT = dt.date(2026, 12, 5)  # the fixture's invoices are dated 1-3 December 2026
pytestmark = pytest.mark.django_db


@pytest.fixture
def harbour(personas):
    """A new client whose Xero contact ("Harbourview Physio") is not its legal name."""
    account = AccountFactory(legal_name="Harbour View Physiotherapy Pty Ltd")
    activated_order(account, personas["sales_rep"])
    return account


@pytest.fixture
def acme(db):
    return AccountFactory(legal_name="Acme Pty Ltd")


@pytest.fixture
def export(tmp_path):
    return shutil.copy(SAMPLES / FIXTURE, tmp_path / FIXTURE)


def _import(path, actor, *, today=AFTER_IMPORT, dry_run=False):
    return services.run_import(paths=[Path(path)], actor=actor, today=today, dry_run=dry_run)


def _line(number: str, line_no: int = 1) -> XeroInvoiceLine:
    return XeroInvoiceLine.objects.get(invoice_number=number, line_no=line_no)


# --- Reading the order ID ------------------------------------------------------------------


def test_the_order_id_is_read_from_the_reference_then_the_description():
    assert orders.order_id_in("ORD-2026-00042", "") == "ORD-2026-00042"
    assert orders.order_id_in("PO 4471 / ord-2026-00042", "") == "ORD-2026-00042"
    assert orders.order_id_in("Setup visit", "Onsite for ORD-2026-00007") == "ORD-2026-00007"
    assert orders.order_id_in("ORD-2026-00042-1", "") == "ORD-2026-00042"  # a task reference names its order
    assert orders.order_id_in("XORD-2026-00042", "ORD-2026-000421", "PO 45521") == ""


# --- Matching by order ID --------------------------------------------------------------------


def test_an_invoice_carrying_the_order_id_bills_the_orders_subscriptions(export, harbour, acme, personas):
    _import(export, personas["finance"])
    first, second = _line("INV-0201", 1), _line("INV-0201", 2)
    assert (first.account_id, first.product.code, first.order_ref) == (harbour.pk, "datavault", "ORD-2026-00042")
    assert (second.account_id, second.product.code, second.order_ref) == (harbour.pk, "cloudsync", "ORD-2026-00042")


def test_the_order_id_maps_a_new_clients_contact_with_history(export, harbour, acme, personas):
    run = _import(export, personas["finance"])
    contact = XeroContact.objects.get(name="Harbourview Physio")
    assert (contact.status, contact.account_id, contact.method) == (
        MatchStatus.MATCHED,
        harbour.pk,
        MatchMethod.ORDER_ID,
    )
    assert contact.mapped_by == personas["finance"]
    newest = contact.history.latest("history_date")
    assert "INV-0201" in newest.history_change_reason and "ORD-2026-00042" in newest.history_change_reason
    harbour.refresh_from_db()
    assert harbour.xero_contact_id == "Harbourview Physio"  # the next import resolves it by itself
    account_change = harbour.history.latest("history_date")
    assert account_change.history_user == personas["finance"]
    assert "ORD-2026-00042" in account_change.history_change_reason
    # The contact's other invoice (no order ID) follows the mapping.
    assert _line("INV-0203").account_id == harbour.pk
    assert run.report["order_ids"]["mapped"] == [
        {"contact": "Harbourview Physio", "account": harbour.code, "order": "ORD-2026-00042", "invoice": "INV-0201"}
    ]


def test_without_the_order_id_the_new_clients_contact_waits_for_finance(tmp_path, harbour, personas):
    path = write_invoices(
        tmp_path / "no-ref.csv",
        [line("Harbourview Physio", "INV-0201", "01/12/2026", "1500.00", "DataVault - December", Reference="Dec")],
    )
    _import(path, personas["finance"])
    contact = XeroContact.objects.get(name="Harbourview Physio")
    assert contact.status != MatchStatus.MATCHED and contact.account_id is None
    assert _line("INV-0201").account_id is None


def test_the_order_id_wins_over_the_contacts_client_and_names_the_product(tmp_path, acme, personas):
    """Acme's contact is Acme's, but the invoice is for another client's order: the line is
    that client's, and, naming no product, bills the order's only product."""
    other = AccountFactory(legal_name="Swan River Dentals Pty Ltd")
    activated_order(other, personas["sales_rep"], ref="ORD-2026-00043", plan=[("datavault", 10, "12000.00")])
    path = write_invoices(
        tmp_path / "misfiled.csv",
        [line("Acme Pty Ltd", "INV-0300", "01/12/2026", "1000.00", "Monthly service fee", Reference="ORD-2026-00043")],
    )
    run = _import(path, personas["finance"])
    billed = _line("INV-0300")
    assert (billed.account_id, billed.product.code, billed.order_ref) == (other.pk, "datavault", "ORD-2026-00043")
    contact = XeroContact.objects.get(name="Acme Pty Ltd")
    assert (contact.account_id, contact.method) == (acme.pk, MatchMethod.NAME)  # already mapped: left alone
    counts = run.files.get().counts
    assert counts["lines whose order ID names another client than the contact"] == 1


def test_an_unknown_order_id_changes_nothing_and_is_reported(export, harbour, acme, personas):
    before = Subscription.objects.order_by("pk").values_list("pk", "account_id", "order_ref", "annual_value")
    before = list(before)
    run = _import(export, personas["finance"])
    unknown = _line("INV-0202")
    assert (unknown.account_id, unknown.product.code, unknown.order_ref) == (acme.pk, "datavault", "")
    assert XeroContact.objects.get(name="Acme Pty Ltd").method == MatchMethod.NAME
    assert run.report["order_ids"]["unknown"] == ["ORD-2026-09999"]
    assert run.files.get().counts["unknown order IDs (nothing changed)"] == 1
    after = Subscription.objects.order_by("pk").values_list("pk", "account_id", "order_ref", "annual_value")
    assert list(after) == before


def test_reimporting_the_export_changes_nothing(export, harbour, acme, personas):
    _import(export, personas["finance"])
    lines = list(XeroInvoiceLine.objects.order_by("pk").values_list("pk", "account_id", "product_id", "order_ref"))
    histories = (
        XeroContact.history.count(),
        Account.history.count(),
        Discrepancy.history.count(),
    )
    again = _import(export, personas["finance"])
    counts = again.files.get().counts
    assert counts["lines unchanged"] == 4 and "lines updated" not in counts and "lines added" not in counts
    assert "contacts mapped by order ID" not in counts
    assert again.report["order_ids"]["mapped"] == []
    assert list(XeroInvoiceLine.objects.order_by("pk").values_list("pk", "account_id", "product_id", "order_ref")) == (
        lines
    )
    assert (XeroContact.history.count(), Account.history.count(), Discrepancy.history.count()) == histories


def test_a_dry_run_reports_the_mapping_and_keeps_nothing(export, harbour, acme, personas):
    run = _import(export, personas["finance"], dry_run=True)
    assert run.report["order_ids"]["mapped"][0]["account"] == harbour.code
    assert not XeroContact.objects.exists()
    harbour.refresh_from_db()
    assert harbour.xero_contact_id == ""


def test_finances_mapping_leaves_lines_carrying_an_order_id_with_the_order(tmp_path, harbour, acme, personas):
    """A contact Finance maps later moves its lines, but not one that names another client's order."""
    path = write_invoices(
        tmp_path / "mixed.csv",
        [
            line("Bayside Yoga Studio", "INV-0400", "01/12/2026", "1500.00", "DataVault", Reference="ORD-2026-00042"),
            line("Bayside Yoga Studio", "INV-0401", "02/12/2026", "99.00", "Yoga mats"),
        ],
    )
    _import(path, personas["finance"])
    contact = XeroContact.objects.get(name="Bayside Yoga Studio")
    assert contact.account_id == harbour.pk  # mapped by the order ID
    services.map_contact(contact=contact, account=acme, actor=personas["finance"], reason="Finance knows better")
    assert _line("INV-0400").account_id == harbour.pk
    assert _line("INV-0401").account_id == acme.pk


# --- Hand-off status and its case ------------------------------------------------------------


def _state(handoff, today):
    return orders.state(orders.handoffs().get(pk=handoff.pk), today=today)


def test_a_handoff_is_awaiting_then_overdue_then_invoiced(export, harbour, acme, personas):
    handoff = BillingHandoff.objects.get()
    awaiting = _state(handoff, dt.date(2026, 11, 15))
    assert (awaiting.status, awaiting.days) == (HandoffStatus.AWAITING, 14)  # 14 days: still within the grace
    overdue = _state(handoff, dt.date(2026, 11, 16))
    assert (overdue.status, overdue.days) == (HandoffStatus.OVERDUE, 15)
    _import(export, personas["finance"])
    invoiced = _state(handoff, AFTER_IMPORT)
    assert (invoiced.status, invoiced.invoice_number, invoiced.invoice_date) == (
        HandoffStatus.INVOICED,
        "INV-0201",
        dt.date(2026, 12, 1),
    )


def test_a_draft_or_voided_invoice_does_not_invoice_theactivated_order(tmp_path, harbour, personas):
    path = write_invoices(
        tmp_path / "draft.csv",
        [
            line("Harbourview Physio", "INV-0500", "01/12/2026", "1500.00", "DataVault", Reference="ORD-2026-00042",
                 Status="Draft"),
            line("Harbourview Physio", "INV-0501", "01/12/2026", "1500.00", "DataVault", Reference="ORD-2026-00042",
                 Status="Voided"),
        ],
    )  # fmt: skip
    _import(path, personas["finance"])
    assert _state(BillingHandoff.objects.get(), AFTER_IMPORT).status == HandoffStatus.OVERDUE


def test_a_handoff_not_invoiced_in_time_opens_a_case_that_settles_when_the_invoice_arrives(
    export, harbour, acme, personas
):
    services.reconcile(today=dt.date(2026, 11, 15))
    assert not Discrepancy.objects.filter(cause=Cause.HANDOFF_NOT_INVOICED).exists()
    services.reconcile(today=dt.date(2026, 11, 20))
    case = Discrepancy.objects.get(cause=Cause.HANDOFF_NOT_INVOICED)
    datavault = Subscription.objects.get(account=harbour, product__code="datavault")
    assert (case.key, case.account_id, case.subscription_id, case.status) == (
        "handoff_not_invoiced:ORD-2026-00042",
        harbour.pk,
        datavault.pk,
        DiscrepancyStatus.OPEN,
    )
    assert (case.crm_value, case.amount, case.order_ref) == (Decimal("36000.00"), Decimal("36000.00"), "ORD-2026-00042")
    for evidence in ("ORD-2026-00042", "01/11/2026", "DataVault, 25 seats, $18,000.00/yr", "CloudSync, 40 seats"):
        assert evidence in case.detail
    services.reconcile(today=dt.date(2026, 11, 21))  # a day on: the same case, unchanged
    assert Discrepancy.objects.filter(cause=Cause.HANDOFF_NOT_INVOICED).count() == 1
    assert case.history.count() == 1

    _import(export, personas["finance"])
    case.refresh_from_db()
    assert (case.status, case.resolution) == (DiscrepancyStatus.RESOLVED, Resolution.SETTLED)
    assert case.history.latest("history_date").history_change_reason.endswith("settled, the figures now agree")


def test_an_explained_handoff_case_stays_resolved_until_its_date(harbour, personas):
    services.reconcile(today=dt.date(2026, 11, 20))
    case = Discrepancy.objects.get(cause=Cause.HANDOFF_NOT_INVOICED)
    services.resolve_discrepancy(
        discrepancy=case,
        resolution=Resolution.EXPLAINED,
        actor=personas["finance"],
        reason="Client asked to be billed from January",
        explained_until=dt.date(2027, 1, 10),
    )
    services.reconcile(today=dt.date(2026, 12, 20))
    assert not Discrepancy.objects.get(pk=case.pk).is_open
    services.reconcile(today=dt.date(2027, 1, 11))
    assert Discrepancy.objects.get(pk=case.pk).is_open


def test_a_handoff_awaiting_its_invoice_is_not_also_a_not_billed_case(harbour, personas):
    XeroContact.objects.create(
        name="Harbourview Physio", name_key="harbourview physio", account=harbour, status=MatchStatus.MATCHED
    )
    # Over a year on, never invoiced: "not billed" (12 months with no cadence known) would fire too.
    services.reconcile(today=dt.date(2028, 1, 10))
    causes = sorted(Discrepancy.objects.values_list("cause", flat=True))
    assert causes == [Cause.HANDOFF_NOT_INVOICED]


def test_a_handoff_whose_subscriptions_ended_is_not_a_case(harbour, personas):
    Subscription.objects.filter(account=harbour).update(status=SubscriptionStatus.CANCELLED)
    services.reconcile(today=dt.date(2026, 12, 20))
    assert not Discrepancy.objects.exists()


@override_settings(BILLING_HANDOFF_GRACE_DAYS=30)
def test_the_grace_days_are_a_setting(harbour):
    services.reconcile(today=dt.date(2026, 11, 20))
    assert not Discrepancy.objects.exists()
    services.reconcile(today=dt.date(2026, 12, 2))
    assert Discrepancy.objects.filter(cause=Cause.HANDOFF_NOT_INVOICED).exists()


def test_a_superseded_order_id_still_names_its_client(tmp_path, harbour, personas):
    """A later order took over the DataVault subscription; an invoice with the first
    order's ID still belongs to the client (found through the first order's hand-off)."""
    Subscription.objects.filter(account=harbour, product__code="datavault").update(order_ref="ORD-2026-00050")
    path = write_invoices(
        tmp_path / "late.csv",
        [line("Harbourview Physio", "INV-0600", "01/12/2026", "1500.00", "DataVault", Reference="ORD-2026-00042")],
    )
    run = _import(path, personas["finance"])
    assert _line("INV-0600").account_id == harbour.pk
    assert run.report["order_ids"]["unknown"] == []


# --- Through onboarding's own activation ------------------------------------------------------


def test_an_order_activated_by_onboarding_is_invoiced_by_its_order_id(tmp_path, personas):
    from onboarding import services as onboarding
    from tests.factories_onboarding import line as order_line
    from tests.factories_onboarding import submitted_order

    client = AccountFactory(legal_name="Kwinana Freight Co Pty Ltd", owner=personas["sales_rep"])
    with override_settings(ONBOARDING_AUTO_PRODUCTS=[]):
        order = submitted_order(personas["sales_rep"], client, lines=[order_line("datavault")])
        order = onboarding.validate_order(order=order, actor=personas["customer_relations"])
    for task in order.tasks.all():
        onboarding.complete_task(task=task, actor=personas["provisioning"], tenancy_ref="TEN-1")
    order.refresh_from_db()
    assert order.status == OrderStatus.ACTIVE
    path = write_invoices(
        tmp_path / "kwinana.csv",
        [line("Kwinana Freight", "INV-0700", "14/12/2026", "1500.00", "Monthly", Reference=order.order_id)],
    )
    _import(path, personas["finance"], today=dt.date(2026, 12, 20))
    assert XeroContact.objects.get(name="Kwinana Freight").account_id == client.pk
    billed = _line("INV-0700")
    assert (billed.account_id, billed.product.code) == (client.pk, "datavault")
    handoff = orders.handoffs().get(order=order)
    assert handoff.first_invoice_number == "INV-0700"


# --- Pages ---------------------------------------------------------------------------------


def _recent_handoffs(personas, n: int, *, first: int = 900, start_days_ago: int = 3) -> list[BillingHandoff]:
    """Hand-offs dated from the real today (the pages read the clock)."""
    start = timezone.localdate() - dt.timedelta(days=start_days_ago)
    return [
        activated_order(AccountFactory(), personas["sales_rep"], ref=f"ORD-2026-{first + i:05d}", start=start)
        for i in range(n)
    ]


def test_finance_sees_each_handoffs_status_on_the_billing_pages(client_for, personas):
    waiting = _recent_handoffs(personas, 1, first=901)[0]
    late = _recent_handoffs(personas, 1, first=902, start_days_ago=40)[0]
    done = _recent_handoffs(personas, 1, first=903, start_days_ago=40)[0]
    XeroInvoiceLine.objects.create(
        invoice_number="INV-0900", line_no=1, invoice_type="invoice", status="PAID",
        contact=XeroContact.objects.create(name="Done", name_key="done"), account=done.order.account,
        invoice_date=timezone.localdate() - dt.timedelta(days=10), line_amount=Decimal("1500"),
        order_ref=done.order_ref, fingerprint="x",
    )  # fmt: skip
    services.reconcile()
    case = Discrepancy.objects.get(cause=Cause.HANDOFF_NOT_INVOICED)
    finance = client_for("finance")
    page = finance.get(reverse("billing_sync:handoff_list")).content.decode()
    assert "Awaiting first invoice" in page and "3 days since the start date" in page
    assert "Not invoiced" in page and f"case #{case.pk}" in page
    assert "INV-0900" in page
    overdue_only = finance.get(reverse("billing_sync:handoff_list"), {"status": "overdue"}).content.decode()
    assert late.order_ref in overdue_only
    assert waiting.order_ref not in overdue_only and done.order_ref not in overdue_only
    invoiced_only = finance.get(reverse("billing_sync:handoff_list"), {"status": "invoiced"}).content.decode()
    assert done.order_ref in invoiced_only and waiting.order_ref not in invoiced_only
    searched = finance.get(reverse("billing_sync:handoff_list"), {"q": waiting.order_ref}).content.decode()
    assert waiting.order_ref in searched and done.order_ref not in searched
    home = finance.get(reverse("billing_sync:import_list")).content.decode()
    assert "Activations to bill (1 awaiting a first invoice, 1 overdue)" in home
    detail = finance.get(case.get_absolute_url()).content.decode()
    assert reverse("onboarding:order_detail", kwargs={"order_id": case.order_ref}) in detail


def test_the_handoff_list_answers_htmx_with_its_table(client_for, personas):
    _recent_handoffs(personas, 1)
    response = client_for("finance").get(reverse("billing_sync:handoff_list"), HTTP_HX_REQUEST="true")
    assert b"<html" not in response.content and b"Awaiting first invoice" in response.content


@pytest.mark.parametrize("role", ["sales_rep", "support_agent", "provisioning", "customer_relations"])
def test_other_roles_do_not_read_the_handoff_list(client_for, personas, role):
    assert client_for(role).get(reverse("billing_sync:handoff_list")).status_code == 403


def test_the_handoff_list_runs_the_same_queries_for_one_or_twenty_five(client_for, personas):
    finance = client_for("finance")
    url = reverse("billing_sync:handoff_list")
    _recent_handoffs(personas, 1, first=100)
    finance.get(url)
    with CaptureQueriesContext(connection) as one:
        finance.get(url)
    _recent_handoffs(personas, 12, first=200)  # awaiting
    _recent_handoffs(personas, 12, first=300, start_days_ago=40)  # overdue
    services.reconcile()  # their cases, linked from the rows
    with CaptureQueriesContext(connection) as many:
        response = finance.get(url)
    assert len(response.context["rows"]) == 25
    assert len(many) == len(one)
    assert len(many) <= 12


def test_the_order_page_shows_whether_xero_has_invoiced_it(client_for, harbour, personas, export):
    order = Order.objects.get()
    url = reverse("onboarding:order_detail", kwargs={"order_id": order.order_id})
    rep = client_for("sales_rep")
    page = rep.get(url).content.decode()
    assert "Billing in Xero" in page
    assert "INV-0201" not in page
    _import(export, personas["finance"])
    page = rep.get(url).content.decode()
    assert "Invoiced" in page and "INV-0201 on 1 Dec 2026" in page


def test_the_order_page_shows_no_billing_before_activation(client_for, personas):
    from tests.factories_onboarding import draft_order

    order = draft_order(personas["sales_rep"], AccountFactory(owner=personas["sales_rep"]))
    page = client_for("sales_rep").get(order.get_absolute_url()).content.decode()
    assert "Billing in Xero" not in page


def test_the_import_page_reports_the_order_ids(client_for, export, harbour, acme, personas):
    run = _import(export, personas["finance"])
    page = client_for("finance").get(run.get_absolute_url()).content.decode()
    assert "2 lines matched to an activated order" in page
    assert f"“Harbourview Physio” is {harbour.code} (ORD-2026-00042 on INV-0201)" in page
    assert "ORD-2026-09999" in page
