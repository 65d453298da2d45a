"""The billing pages: uploads with a dry run, the contact queue, the discrepancy queue
(filters, totals, a fixed query count), resolving from the page, and the signals on the
customer 360 page, the agent lookup and Finance's home page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing_sync.choices import Cause, DiscrepancyStatus, MatchStatus, Resolution, RunStatus
from billing_sync.models import Discrepancy, XeroContact, XeroImport, XeroInvoiceLine
from customers.models import Subscription
from tests.factories import AccountFactory, SubscriptionFactory, product
from tests.factories_billing import line, write_invoices

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _uploads(settings, tmp_path):
    settings.BILLING_UPLOAD_DIR = str(tmp_path / "uploads")


def _case(account, *, cause=Cause.VALUE, amount="500", subscription=None, **extra) -> Discrepancy:
    key = f"{cause}:{account.pk}:{subscription.pk if subscription else Discrepancy.objects.count()}"
    return Discrepancy.objects.create(
        key=key, cause=cause, account=account, subscription=subscription, amount=Decimal(amount), **extra
    )


@pytest.fixture
def valued(personas):
    account = AccountFactory(legal_name="Dibbler Dental Pty Ltd", owner=personas["sales_rep"])
    sub = SubscriptionFactory(account=account, product=product("cloudsync"), annual_value=Decimal("12000"))
    case = _case(
        account,
        subscription=sub,
        product=sub.product,
        crm_value=Decimal("12000"),
        xero_value=Decimal("13200"),
        amount="1200",
        owner=personas["finance"],
        detail="CloudSync: the contract value is $12,000.00; Xero bills $13,200.00 a year.",
    )
    return account, sub, case


@pytest.mark.parametrize(
    "role", ["sales_rep", "sales_manager", "support_agent", "customer_relations", "provisioning", "executive"]
)
def test_every_role_reads_a_customers_open_discrepancies_on_its_360_page(client_for, valued, role):
    account, _, _ = valued
    page = client_for(role).get(account.get_absolute_url()).content.decode()
    assert "Open billing discrepancies" in page
    assert "$13,200.00" in page


def test_the_agent_lookup_shows_an_open_discrepancy(client_for, valued):
    account, _, _ = valued
    page = client_for("support_agent").get(reverse("support:lookup"), {"q": account.code}).content.decode()
    assert "Open billing discrepancies" in page


def test_a_resolved_discrepancy_leaves_the_360_page(client_for, valued):
    account, _, case = valued
    Discrepancy.objects.filter(pk=case.pk).update(status=DiscrepancyStatus.RESOLVED)
    assert "Open billing discrepancies" not in client_for("sales_rep").get(account.get_absolute_url()).content.decode()


def test_finances_home_page_shows_the_queue_totals_and_a_reps_does_not(client_for, valued, personas):
    _case(AccountFactory(), cause=Cause.NOT_BILLED, amount="800")
    finance = client_for("finance").get(reverse("home")).content.decode()
    assert "Billing discrepancies" in finance
    assert "<strong>2</strong> open, <strong>$2,000.00</strong> at stake" in finance
    assert "Billing discrepancies" not in client_for("sales_rep").get(reverse("home")).content.decode()


def test_the_queue_filters_by_cause_owner_amount_and_age_with_totals(client_for, valued, personas):
    _, _, case = valued
    old = _case(AccountFactory(), cause=Cause.NOT_BILLED, amount="800")
    Discrepancy.objects.filter(pk=old.pk).update(opened_at=timezone.now() - dt.timedelta(days=40))
    _case(AccountFactory(), cause=Cause.NOT_IN_CRM, amount="50")
    client = client_for("finance")
    url = reverse("billing_sync:discrepancy_list")

    def shown(**params) -> set[int]:
        response = client.get(url, params)
        return {d.pk for d in response.context["page"]}

    assert len(shown()) == 3
    assert shown(cause=Cause.VALUE) == {case.pk}
    assert shown(owner=personas["finance"].pk) == {case.pk}
    assert shown(min_amount="700") == {case.pk, old.pk}
    assert shown(older_than="30") == {old.pk}
    totals = client.get(url, {"min_amount": "700"}).context["totals"]
    assert (totals["count"], totals["amount"]) == (2, Decimal("2000.00"))
    assert client.get(url, HTTP_HX_REQUEST="true").templates[0].name == "billing_sync/partials/discrepancy_table.html"


def test_the_queue_runs_the_same_queries_for_one_case_or_twenty_five(client_for, personas):
    client = client_for("finance")
    url = reverse("billing_sync:discrepancy_list")
    _case(AccountFactory(owner=personas["sales_rep"]), owner=personas["finance"])
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for _ in range(24):
        account = AccountFactory(owner=personas["sales_rep"])
        _case(
            account,
            product=product("datavault"),
            owner=personas["finance"],
            subscription=SubscriptionFactory(account=account),
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(response.context["page"]) == 25
    assert len(many) == len(one)
    assert len(many) <= 12


def test_finance_resolves_from_the_page_and_history_names_the_case(client_for, valued, personas):
    _, sub, case = valued
    response = client_for("finance").post(
        reverse("billing_sync:discrepancy_resolve", args=[case.pk]),
        {"resolution": Resolution.ACCEPT_XERO, "reason": "Two more seats since March"},
    )
    assert response.status_code == 302
    sub.refresh_from_db()
    assert sub.annual_value == Decimal("13200.00")
    record = sub.history.latest()
    assert (record.history_user, record.history_change_reason) == (
        personas["finance"],
        f"Billing discrepancy #{case.pk}: accepted Xero's value (Two more seats since March)",
    )
    page = client_for("finance").get(case.get_absolute_url()).content.decode()
    assert "Accept Xero&#x27;s value: Two more seats since March" in page  # the case's own history


@pytest.mark.parametrize("role", ["sales_rep", "sales_manager", "support_agent", "customer_relations", "executive"])
def test_other_roles_cannot_resolve_and_nothing_changes(client_for, valued, role):
    _, sub, case = valued
    response = client_for(role).post(
        reverse("billing_sync:discrepancy_resolve", args=[case.pk]),
        {"resolution": Resolution.ACCEPT_XERO, "reason": "mine now"},
    )
    assert response.status_code == 403
    case.refresh_from_db()
    sub.refresh_from_db()
    assert (case.status, sub.annual_value, sub.version) == (DiscrepancyStatus.OPEN, Decimal("12000.00"), 1)


def test_upload_shows_a_dry_run_then_confirm_imports(client_for, tmp_path, django_capture_on_commit_callbacks):
    AccountFactory(legal_name="Quokka Labs Pty Ltd", xero_contact_id="Quokka Labs Pty Ltd")
    path = write_invoices(
        tmp_path / "SalesInvoices.csv", [line("Quokka Labs Pty Ltd", "INV-1", "05/01/2026", "1000.00", "DataVault")]
    )
    client = client_for("finance")
    upload = SimpleUploadedFile("SalesInvoices.csv", path.read_bytes(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("billing_sync:import_list"), {"files": [upload]})
    preview = XeroImport.objects.get()
    assert response.url == preview.get_absolute_url()
    assert (preview.status, preview.dry_run) == (RunStatus.PREVIEWED, True)
    assert XeroInvoiceLine.objects.count() == 0
    page = client.get(preview.get_absolute_url()).content.decode()
    assert "Lines added: 1" in page and "Confirm and import" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("billing_sync:import_confirm", args=[preview.pk]))
    assert XeroInvoiceLine.objects.count() == 1
    assert XeroImport.objects.filter(dry_run=False, status=RunStatus.SUCCEEDED).count() == 1


def test_a_running_import_shows_a_progress_bar_that_polls(client_for, personas):
    run = XeroImport.objects.create(started_by=personas["finance"], status=RunStatus.RUNNING, rows_total=1000)
    page = client_for("finance").get(run.get_absolute_url()).content.decode()
    assert "<progress" in page and 'hx-trigger="every 2s"' in page


def test_the_rejected_rows_download_as_csv(client_for, tmp_path, django_capture_on_commit_callbacks):
    path = write_invoices(
        tmp_path / "bad.csv", [line("X Pty Ltd", "INV-1", "99/99/2026", "1.00", "=cmd|' /C calc'!A0")]
    )
    client = client_for("finance")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("billing_sync:import_list"), {"files": [SimpleUploadedFile("bad.csv", path.read_bytes())]})
    imported = XeroImport.objects.get().files.get()
    response = client.get(reverse("billing_sync:importfile_rejected", args=[imported.pk]))
    assert response["Content-Type"].startswith("text/csv")
    assert "'=cmd" in response.content.decode()


def test_finance_maps_a_held_contact_from_the_queue(client_for, personas):
    account = AccountFactory(legal_name="Wombat Works Pty Ltd")
    contact = XeroContact.objects.create(name="Wombat Wrks", name_key="wombat wrks", status=MatchStatus.HELD)
    client = client_for("finance")
    assert "Wombat Wrks" in client.get(reverse("billing_sync:contact_list")).content.decode()
    client.post(reverse("billing_sync:contact_map", args=[contact.pk]), {"code": account.code})
    contact.refresh_from_db()
    account.refresh_from_db()
    assert (contact.status, contact.account_id, account.xero_contact_id) == (
        MatchStatus.MATCHED,
        account.pk,
        "Wombat Wrks",
    )
    assert list(client.get(reverse("billing_sync:contact_list")).context["page"]) == []


def test_a_sales_rep_cannot_map_a_contact(client_for, personas):
    account = AccountFactory(legal_name="Wombat Works Pty Ltd")
    contact = XeroContact.objects.create(name="Wombat Wrks", name_key="wombat wrks", status=MatchStatus.HELD)
    response = client_for("sales_rep").post(
        reverse("billing_sync:contact_map", args=[contact.pk]), {"code": account.code}
    )
    assert response.status_code == 403
    contact.refresh_from_db()
    assert contact.status == MatchStatus.HELD
    assert Subscription.objects.count() == 0


def test_mapping_a_contact_reconciles_that_client_at_once(client_for, tmp_path, personas):
    from billing_sync import services

    account = AccountFactory(legal_name="Wombat Works Pty Ltd")
    SubscriptionFactory(account=account, product=product("datavault"), annual_value=Decimal("12000"))
    today = timezone.localdate().replace(day=1)
    rows = [
        line("Wombat Wrks", f"INV-W{n}", f"{day:%d/%m/%Y}", "1500.00", f"DataVault - {day:%B %Y}")
        for n, day in enumerate([today - dt.timedelta(days=62), today - dt.timedelta(days=31), today], start=1)
    ]
    services.run_import(paths=[write_invoices(tmp_path / "w.csv", rows)], actor=personas["finance"])
    contact = XeroContact.objects.get(name="Wombat Wrks")
    assert contact.status == MatchStatus.HELD
    assert not Discrepancy.objects.exists()
    client_for("finance").post(reverse("billing_sync:contact_map", args=[contact.pk]), {"code": account.code})
    case = Discrepancy.objects.get()
    assert (case.account, case.cause, case.xero_value) == (account, Cause.VALUE, Decimal("18000.00"))
