"""Onboarding pages, the provisioning queues, IT's signed events and the customer's status
link, through the URLs people and systems use."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from cloudcore_crm.lib import signing
from customers.choices import OpportunityStage
from onboarding import services
from onboarding.choices import OrderStatus, TaskStatus
from onboarding.models import ExceptionCase, InboundEvent, Order, ProvisioningTask
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory, product
from tests.factories_onboarding import draft_order, line, submitted_order

pytestmark = pytest.mark.django_db

MANUAL = override_settings(ONBOARDING_AUTO_PRODUCTS=[])
SECRET = "it-tooling-secret"


@pytest.fixture
def account(personas):
    return AccountFactory(owner=personas["sales_rep"], legal_name="Harbour Freight Pty Ltd")


def _form_data(account=None, action="submit", **overrides) -> dict:
    data = {
        "account_code": account.code if account else "",
        "billing_contact_name": "Bea Biller",
        "billing_contact_email": "accounts@harbour.example",
        "technical_contact_name": "Tom Tech",
        "technical_contact_email": "it@harbour.example",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "20",
        "lines-0-product": str(product("cloudsync").pk),
        "lines-0-seats": "30",
        "lines-0-annual_value": "9000.00",
        "lines-0-start_date": "2026-12-20",
        "lines-0-term_months": "24",
        "action": action,
    }
    data.update(overrides)
    return data


# --- Intake -------------------------------------------------------------------------------


def test_start_onboarding_on_a_won_deal_prefills_the_form_from_the_deal_and_account(client_for, personas, account):
    billing = ContactFactory(account=account, first_name="Bea", last_name="Biller", email="bea@harbour.example")
    account.billing_contact = billing
    account.save()
    deal = OpportunityFactory(
        account=account,
        owner=personas["sales_rep"],
        stage=OpportunityStage.WON,
        product=product("datavault"),
        amount=Decimal("24000.00"),
    )
    page = client_for("sales_rep").get(reverse("customers:account_detail", args=[account.code]))
    assert f"?opportunity={deal.pk}" in page.content.decode()
    form = client_for("sales_rep").get(reverse("onboarding:order_add") + f"?opportunity={deal.pk}")
    assert form.status_code == 200
    html = form.content.decode()
    assert f'value="{account.code}"' in html
    assert 'value="24000.00"' in html
    assert 'value="bea@harbour.example"' in html
    assert f'<option value="{product("datavault").pk}" selected>' in html


def test_submitting_with_missing_fields_saves_a_draft_and_lists_every_missing_field(client_for, account):
    data = _form_data(account, billing_contact_email="", technical_contact_name="", **{"lines-0-term_months": ""})
    response = client_for("sales_rep").post(reverse("onboarding:order_add"), data)
    assert response.status_code == 400
    html = response.content.decode()
    for missing in ("Billing contact email", "Technical contact", "Line 1 (CloudSync): term (months)"):
        assert f"<li>{missing}</li>" in html
    order = Order.objects.get()
    assert order.status == OrderStatus.DRAFT
    assert order.lines.get().seats == 30  # what was typed is kept


def test_a_complete_order_is_submitted_from_the_form(client_for, account):
    response = client_for("sales_rep").post(reverse("onboarding:order_add"), _form_data(account))
    order = Order.objects.get()
    assert response.status_code == 302 and response.url == order.get_absolute_url()
    assert order.status == OrderStatus.SUBMITTED and order.account == account
    assert order.events.get(to_status=OrderStatus.SUBMITTED).actor.username == "sales_rep"


def test_a_rep_cannot_order_for_another_reps_account(client_for):
    other = AccountFactory()
    response = client_for("sales_rep").post(reverse("onboarding:order_add"), _form_data(other))
    assert response.status_code == 403
    assert Order.objects.count() == 0


def test_a_draft_is_saved_without_its_required_fields(client_for, account):
    data = _form_data(account, action="save", billing_contact_name="", **{"lines-0-seats": ""})
    response = client_for("sales_rep").post(reverse("onboarding:order_add"), data)
    assert response.status_code == 302
    assert Order.objects.get().status == OrderStatus.DRAFT


# --- Validation and tasks, POSTed by every role -----------------------------------------------


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("sales_rep", False),
        ("sales_manager", False),
        ("support_agent", False),
        ("customer_relations", True),
        ("finance", False),
        ("provisioning", False),
        ("data_steward", True),
        ("executive", False),
    ],
)
def test_only_customer_relations_and_stewards_validate(client_for, personas, account, role, allowed):
    order = submitted_order(personas["sales_rep"], account)
    with MANUAL:
        response = client_for(role).post(reverse("onboarding:order_validate", args=[order.order_id]), {"reason": "ok"})
    order.refresh_from_db()
    if allowed:
        assert response.status_code == 302 and order.status == OrderStatus.VALIDATED
        assert order.tasks.count() == 1
    else:
        assert response.status_code == 403
        assert order.status == OrderStatus.SUBMITTED and not ProvisioningTask.objects.exists()


@pytest.mark.parametrize("role", ["sales_rep", "support_agent", "customer_relations", "finance", "executive"])
def test_only_provisioning_claims_completes_or_fails_tasks(client_for, personas, account, role):
    with MANUAL:
        order = services.validate_order(
            order=submitted_order(personas["sales_rep"], account), actor=personas["customer_relations"]
        )
    task = order.tasks.get()
    client = client_for(role)
    assert client.post(reverse("onboarding:task_claim", args=[task.pk])).status_code == 403
    done = client.post(reverse("onboarding:task_complete", args=[task.pk]), {"tenancy_ref": "X"})
    assert done.status_code == 403
    failed = client.post(reverse("onboarding:task_fail", args=[task.pk]), {"reason_code": "other", "note": "x"})
    assert failed.status_code == 403
    task.refresh_from_db()
    assert task.status == TaskStatus.PENDING and task.assignee is None and not ExceptionCase.objects.exists()


def test_provisioning_works_a_task_to_activation_from_the_queue(client_for, personas, account):
    with MANUAL:
        order = services.validate_order(
            order=submitted_order(personas["sales_rep"], account), actor=personas["customer_relations"]
        )
    task = order.tasks.get()
    client = client_for("provisioning")
    queue = client.get(reverse("onboarding:task_list")).content.decode()
    assert task.reference in queue and order.order_id in queue
    assert client.post(reverse("onboarding:task_claim", args=[task.pk])).status_code == 302
    response = client.post(reverse("onboarding:task_complete", args=[task.pk]), {"tenancy_ref": "DV-PER-777"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.ACTIVE
    assert order.lines.get().subscription.tenancy_ref == "DV-PER-777"


def test_a_failed_task_shows_in_the_exception_queue_with_reason_owner_and_age(client_for, personas, account):
    with MANUAL:
        order = services.validate_order(
            order=submitted_order(personas["sales_rep"], account), actor=personas["customer_relations"]
        )
    client = client_for("provisioning")
    response = client.post(
        reverse("onboarding:task_fail", args=[order.tasks.get().pk]),
        {"reason_code": "region_capacity", "note": "Perth is full"},
    )
    assert response.status_code == 302
    page = client.get(reverse("onboarding:exception_list")).content.decode()
    assert order.order_id in page and "Region has no capacity" in page
    assert personas["provisioning"].get_full_name() in page
    case = ExceptionCase.objects.get()
    resolved = client.post(
        reverse("onboarding:exception_resolve", args=[case.pk]), {"resolution": "retry", "note": "Sydney instead"}
    )
    assert resolved.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.PROVISIONING


def test_the_order_page_shows_the_timeline_with_overrides_marked(client_for, personas, account):
    order = submitted_order(personas["sales_rep"], account)
    client = client_for("customer_relations")
    response = client.post(
        reverse("onboarding:order_override", args=[order.order_id]),
        {"to_status": "cancelled", "reason": "Duplicate order"},
    )
    assert response.status_code == 302
    html = client.get(order.get_absolute_url()).content.decode()
    assert "override</span>" in html and "Duplicate order" in html
    assert html.count(f'<span class="badge">{order.order_id}</span>') == order.events.count()


def test_the_order_page_runs_the_same_queries_for_one_or_six_lines(
    client_for, personas, account, django_assert_max_num_queries
):
    small = draft_order(personas["sales_rep"], account)
    big = draft_order(personas["sales_rep"], account, lines=[line("cloudsync") for _ in range(6)])
    client = client_for("support_agent")
    client.get(small.get_absolute_url())  # warm the session and role caches
    with django_assert_max_num_queries(20) as small_queries:
        client.get(small.get_absolute_url())
    with django_assert_max_num_queries(20) as big_queries:
        client.get(big.get_absolute_url())
    assert len(big_queries.captured_queries) == len(small_queries.captured_queries)


def test_the_board_shows_kpis_and_finds_an_order_by_its_id(
    client_for, personas, account, django_assert_max_num_queries
):
    orders = [draft_order(personas["sales_rep"], account) for _ in range(3)]
    client = client_for("support_agent")
    with django_assert_max_num_queries(15):
        page = client.get(reverse("onboarding:board"))
    html = page.content.decode()
    assert "Average activation time" in html and "Provisioning error rate" in html and "Auto-provisioned" in html
    assert "No activations yet." in html
    found = client.get(reverse("onboarding:board"), {"q": orders[1].order_id}, HTTP_HX_REQUEST="true")
    assert orders[1].order_id in found.content.decode()
    assert orders[0].order_id not in found.content.decode()


# --- IT's signed events --------------------------------------------------------------------


def _post_event(client, payload: dict, *, secret: str = SECRET, timestamp: str | None = None):
    body = json.dumps(payload).encode()
    timestamp = timestamp or timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    return client.post(
        reverse("onboarding_events"),
        body,
        content_type="application/json",
        HTTP_X_SIGNATURE=signing.sign(secret, timestamp, body),
        HTTP_X_SIGNATURE_TIMESTAMP=timestamp,
    )


@pytest.fixture
def manual_task(personas, account):
    with MANUAL:
        order = services.validate_order(
            order=submitted_order(personas["sales_rep"], account), actor=personas["customer_relations"]
        )
    return order.tasks.get()


@override_settings(ONBOARDING_EVENT_SECRETS=[SECRET])
def test_a_signed_completion_event_completes_the_task_and_a_repeat_changes_nothing(client, manual_task):
    payload = {"event_id": "it-1", "type": "task.completed", "task": manual_task.reference, "tenancy_ref": "DV-9"}
    first = _post_event(client, payload)
    assert first.status_code == 200, first.content
    manual_task.refresh_from_db()
    assert manual_task.status == TaskStatus.DONE and manual_task.tenancy_ref == "DV-9"
    assert manual_task.order.status == OrderStatus.ACTIVE
    again = _post_event(client, {**payload, "tenancy_ref": "OTHER"})
    assert again.status_code == 200 and again.json()["duplicate"] is True
    manual_task.refresh_from_db()
    assert manual_task.tenancy_ref == "DV-9"


@override_settings(ONBOARDING_EVENT_SECRETS=[SECRET])
def test_a_signed_failure_event_opens_an_exception(client, manual_task):
    payload = {"event_id": "it-2", "type": "task.failed", "task": manual_task.reference, "reason_code": "vendor_error"}
    assert _post_event(client, payload).status_code == 200
    case = ExceptionCase.objects.get()
    assert case.reason_code == "vendor_error" and case.order_ref == manual_task.order.order_id


@override_settings(ONBOARDING_EVENT_SECRETS=[SECRET])
def test_a_badly_signed_or_stale_event_is_refused_and_changes_nothing(client, manual_task):
    payload = {"event_id": "it-3", "type": "task.completed", "task": manual_task.reference, "tenancy_ref": "X"}
    assert _post_event(client, payload, secret="wrong").status_code == 401
    stale = (timezone.now() - dt.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _post_event(client, payload, timestamp=stale).status_code == 401
    manual_task.refresh_from_db()
    assert manual_task.status == TaskStatus.PENDING and not InboundEvent.objects.exists()


@override_settings(ONBOARDING_EVENT_SECRETS=[SECRET])
def test_an_event_for_an_unknown_task_is_refused_and_not_kept(client, manual_task):
    response = _post_event(client, {"event_id": "it-4", "type": "task.completed", "task": "ORD-1999-00001-1"})
    assert response.status_code == 409
    assert not InboundEvent.objects.exists()


# --- The customer's status link --------------------------------------------------------------


def test_the_status_link_shows_the_change_and_nothing_internal(client, personas, account):
    order = draft_order(personas["sales_rep"], account, internal_notes="Client is a slow payer", custom_requirements="")
    order = services.submit_order(order=order, actor=personas["sales_rep"])
    order = services.issue_status_link(order=order, actor=personas["sales_rep"])
    url = services.status_link_path(order)
    first = client.get(url)
    assert first.status_code == 200
    html = first.content.decode()
    assert order.order_id in html and "checking the details" in html
    assert 'hx-trigger="every 30s"' in html  # refreshes itself well inside 60 seconds
    assert first["Cache-Control"] == "no-store"
    with MANUAL:
        services.validate_order(order=order, actor=personas["customer_relations"], reason="Internal: ABN checked")
    task = order.tasks.get()
    services.fail_task(task=task, actor=personas["provisioning"], reason_code="region_capacity", note="Perth full")
    refreshed = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "taking longer than planned" in refreshed
    for internal in (
        "slow payer",
        "ABN checked",
        "Perth full",
        "Region has no capacity",
        "18,000",
        "18000",
        personas["provisioning"].last_name,
        personas["customer_relations"].first_name,
        "Bea Biller",
        "accounts@client.example",
        task.reference,
    ):
        assert internal not in refreshed, internal


def test_a_revoked_status_link_stops_working(client, personas, account):
    order = services.issue_status_link(order=draft_order(personas["sales_rep"], account), actor=personas["sales_rep"])
    url = services.status_link_path(order)
    assert client.get(url).status_code == 200
    response = client_for_post(client, personas["sales_rep"], order, {"action": "revoke"})
    assert response.status_code == 302
    client.logout()
    assert client.get(url).status_code == 404


def test_a_tampered_status_link_is_not_found(client, personas, account):
    order = services.issue_status_link(order=draft_order(personas["sales_rep"], account), actor=personas["sales_rep"])
    url = services.status_link_path(order)
    assert client.get(url[:-3] + "AA/").status_code == 404


def client_for_post(client, user, order, data):
    client.force_login(user)
    return client.post(reverse("onboarding:order_status_link", args=[order.order_id]), data)


@pytest.mark.parametrize("url_name", ["onboarding:board", "onboarding:task_list", "onboarding:exception_list"])
def test_lists_run_the_same_queries_for_one_or_many_orders(client_for, personas, account, url_name):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def grow(n: int) -> None:
        with MANUAL:
            for _ in range(n):
                order = services.validate_order(
                    order=submitted_order(personas["sales_rep"], account), actor=personas["customer_relations"]
                )
                services.fail_task(
                    task=order.tasks.get(), actor=personas["provisioning"], reason_code="other", note="x"
                )
            services.validate_order(
                order=submitted_order(personas["sales_rep"], account), actor=personas["customer_relations"]
            )

    client = client_for("provisioning")
    grow(1)
    client.get(reverse(url_name))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse(url_name))
    grow(6)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse(url_name))
    assert len(many.captured_queries) == len(few.captured_queries)


def test_finance_sees_an_activation_with_its_order_id_start_date_and_total(client_for, personas, account):
    with MANUAL:
        order = services.validate_order(
            order=submitted_order(personas["sales_rep"], account), actor=personas["customer_relations"]
        )
    services.complete_task(task=order.tasks.get(), actor=personas["provisioning"], tenancy_ref="DV-1")
    html = client_for("finance").get(reverse("onboarding:board")).content.decode()
    assert f">{order.order_id}</a></td>" in html
    assert "14 Dec 2026" in html and "$18,000.00" in html
