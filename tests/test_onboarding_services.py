"""Onboarding services: intake, the status model and its history, provisioning tasks,
exceptions, activation and the billing hand-off (seed 002)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from customers.choices import LifecycleStatus, SubscriptionStatus
from customers.models import Account, Activity, Subscription
from onboarding import services
from onboarding.choices import EventKind, FailureReason, OrderStatus, TaskStatus
from onboarding.errors import DuplicateClientError, MissingFieldsError, NotAllowedError, OnboardingError
from onboarding.models import BillingHandoff, ExceptionCase, Order, OrderEvent, ProvisioningTask
from tests.factories import AccountFactory, SubscriptionFactory, product
from tests.factories_onboarding import draft_order, line, submitted_order

pytestmark = pytest.mark.django_db

MANUAL = override_settings(ONBOARDING_AUTO_PRODUCTS=[])  # every order provisioned by hand


@pytest.fixture
def account(personas):
    return AccountFactory(owner=personas["sales_rep"], lifecycle_status=LifecycleStatus.PROSPECT)


# --- Intake -------------------------------------------------------------------------------


def test_an_order_gets_a_shared_order_id_of_the_year(personas, account):
    first = draft_order(personas["sales_rep"], account)
    second = draft_order(personas["sales_rep"], account)
    year = timezone.localdate().year
    assert first.order_id == f"ORD-{year}-00001"
    assert second.order_id == f"ORD-{year}-00002"
    assert re.fullmatch(r"ORD-\d{4}-\d{5}", first.order_id)


def test_a_missing_required_field_blocks_submission_and_every_missing_field_is_named(personas, account):
    order = services.save_draft(
        actor=personas["sales_rep"],
        values={"account": account, "billing_contact_name": "Bea"},
        lines=[{"product": product("datavault"), "seats": 5}, {"product": product("analytics-pro"), "seats": 2}],
    )
    with pytest.raises(MissingFieldsError) as caught:
        services.submit_order(order=order, actor=personas["sales_rep"])
    assert caught.value.missing == [
        "Billing contact email",
        "Technical contact",
        "Technical contact email",
        "Line 1 (DataVault): annual value (AUD)",
        "Line 1 (DataVault): start date",
        "Line 1 (DataVault): term (months)",
        "Line 1 (DataVault): DataVault region",
        "Line 1 (DataVault): DataVault quota (GB)",
        "Line 2 (Analytics Pro): annual value (AUD)",
        "Line 2 (Analytics Pro): start date",
        "Line 2 (Analytics Pro): term (months)",
        "Line 2 (Analytics Pro): Analytics Pro workspace name",
    ]
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT
    assert not order.events.filter(to_status=OrderStatus.SUBMITTED).exists()


def test_an_order_without_a_client_or_lines_names_both(personas):
    order = services.save_draft(actor=personas["sales_rep"], values={}, lines=[])
    with pytest.raises(MissingFieldsError) as caught:
        services.submit_order(order=order, actor=personas["sales_rep"])
    assert caught.value.missing[0].startswith("Client")
    assert "At least one product or service line" in caught.value.missing


def test_a_sales_rep_cannot_start_an_order_for_another_reps_account(personas):
    other = AccountFactory()
    with pytest.raises(NotAllowedError):
        draft_order(personas["sales_rep"], other)
    assert Order.objects.count() == 0


def test_a_new_client_like_an_existing_account_is_held_until_confirmed(personas):
    AccountFactory(legal_name="Acme Pty Ltd")
    order = draft_order(personas["sales_rep"], None, new_client_name="ACME")
    with pytest.raises(DuplicateClientError) as caught:
        services.submit_order(order=order, actor=personas["sales_rep"])
    assert caught.value.matches[0].label.startswith("Acme")
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT


def test_each_transition_has_its_history_row_with_actor_time_and_reason(personas, account):
    with MANUAL:
        order = submitted_order(personas["sales_rep"], account)
        services.validate_order(order=order, actor=personas["customer_relations"], reason="Checked with client")
    events = list(order.events.filter(kind=EventKind.TRANSITION))
    assert [(e.from_status, e.to_status) for e in events] == [("draft", "submitted"), ("submitted", "validated")]
    assert events[0].actor == personas["sales_rep"]
    assert events[1].actor == personas["customer_relations"] and events[1].reason == "Checked with client"
    assert all(e.order_ref == order.order_id for e in order.events.all())
    statuses = list(order.history.order_by("history_date").values_list("status", flat=True))
    assert statuses[-2:] == ["submitted", "validated"]


def test_only_customer_relations_or_a_steward_validates(personas, account):
    order = submitted_order(personas["sales_rep"], account)
    for role in ("sales_rep", "provisioning", "finance", "support_agent"):
        with pytest.raises(NotAllowedError):
            services.validate_order(order=order, actor=personas[role])
    order.refresh_from_db()
    assert order.status == OrderStatus.SUBMITTED and not order.tasks.exists()


def test_validation_creates_a_new_client_through_the_customers_services(personas):
    with MANUAL:
        order = submitted_order(personas["sales_rep"], None, new_client_name="Fresh Widgets Pty Ltd")
        services.validate_order(order=order, actor=personas["customer_relations"])
    order.refresh_from_db()
    account = order.account
    assert account.legal_name == "Fresh Widgets Pty Ltd"
    assert account.owner == personas["sales_rep"]
    created = account.history.earliest("history_date")
    assert created.history_user == personas["customer_relations"]
    assert order.order_id in created.history_change_reason


# --- Tasks, exceptions ------------------------------------------------------------------


@pytest.fixture
def validated(personas, account):
    with MANUAL:
        order = submitted_order(personas["sales_rep"], account, lines=[line("datavault"), line("cloudsync", seats=40)])
        return services.validate_order(order=order, actor=personas["customer_relations"])


def test_validation_queues_one_task_per_line_carrying_the_order_id(validated):
    tasks = list(validated.tasks.order_by("pk"))
    assert [t.reference for t in tasks] == [f"{validated.order_id}-1", f"{validated.order_id}-2"]
    assert {t.status for t in tasks} == {TaskStatus.PENDING}
    assert validated.status == OrderStatus.VALIDATED and not validated.auto_provision


def test_claiming_moves_the_order_to_provisioning_and_a_second_claim_is_refused(personas, validated):
    task = validated.tasks.first()
    services.claim_task(task=task, actor=personas["provisioning"])
    validated.refresh_from_db()
    assert validated.status == OrderStatus.PROVISIONING
    with pytest.raises(OnboardingError):
        services.claim_task(task=task, actor=personas["data_steward"])
    task.refresh_from_db()
    assert task.assignee == personas["provisioning"]


def test_a_sales_rep_cannot_work_tasks(personas, validated):
    task = validated.tasks.first()
    with pytest.raises(NotAllowedError):
        services.complete_task(task=task, actor=personas["sales_rep"], tenancy_ref="DV-1")
    task.refresh_from_db()
    assert task.status == TaskStatus.PENDING


def test_a_failed_task_opens_exactly_one_exception_with_reason_code_and_owner(personas, validated):
    first, second = validated.tasks.order_by("pk")
    services.fail_task(
        task=first, actor=personas["provisioning"], reason_code=FailureReason.REGION_CAPACITY, note="Perth full"
    )
    services.fail_task(task=second, actor=personas["provisioning"], reason_code=FailureReason.VENDOR_ERROR, note="API")
    cases = list(ExceptionCase.objects.filter(order=validated))
    assert len(cases) == 1
    assert cases[0].reason_code == FailureReason.REGION_CAPACITY
    assert cases[0].owner == personas["provisioning"]  # ONBOARDING_PROVISIONING_LEAD defaults to "provisioning"
    assert cases[0].order_ref == validated.order_id
    validated.refresh_from_db()
    assert validated.status == OrderStatus.EXCEPTION


def test_retrying_an_exception_requeues_the_failed_task_with_history(personas, validated):
    task = validated.tasks.first()
    case = services.fail_task(task=task, actor=personas["provisioning"], reason_code="vendor_error", note="timeout")
    services.resolve_exception(case=case, actor=personas["provisioning"], resolution="retry", note="Vendor back up")
    task.refresh_from_db()
    case.refresh_from_db()
    validated.refresh_from_db()
    assert task.status == TaskStatus.PENDING and task.attempts == 2 and task.failures == 1
    assert case.resolution == "retry" and case.resolved_by == personas["provisioning"]
    assert validated.status == OrderStatus.PROVISIONING
    assert validated.events.filter(summary="Exception resolved: Retried", reason="Vendor back up").exists()


def test_cancelling_from_the_exception_queue_cancels_the_order_and_its_tasks(personas, validated):
    case = services.fail_task(
        task=validated.tasks.first(), actor=personas["provisioning"], reason_code="customer_action", note="No reply"
    )
    services.resolve_exception(case=case, actor=personas["provisioning"], resolution="cancel", note="Client withdrew")
    validated.refresh_from_db()
    assert validated.status == OrderStatus.CANCELLED
    assert set(validated.tasks.values_list("status", flat=True)) == {TaskStatus.CANCELLED}


def test_an_order_stuck_past_the_threshold_opens_an_exception_once(validated):
    later = timezone.now() + dt.timedelta(hours=49)
    assert services.scan_stuck_orders(now=later) == 1
    assert services.scan_stuck_orders(now=later) == 0
    case = ExceptionCase.objects.get(order=validated)
    assert case.reason_code == FailureReason.STUCK


# --- Activation -------------------------------------------------------------------------


def _finish(order, personas):
    for index, task in enumerate(order.tasks.order_by("pk"), start=1):
        services.complete_task(task=task, actor=personas["provisioning"], tenancy_ref=f"TEN-{index}")
    order.refresh_from_db()
    return order


def test_activation_creates_the_subscriptions_with_the_orders_values(
    personas, validated, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = _finish(validated, personas)
    assert order.status == OrderStatus.ACTIVE
    subs = {s.product.code: s for s in Subscription.objects.filter(account=order.account)}
    datavault = subs["datavault"]
    assert datavault.seats == 25
    assert datavault.annual_value == Decimal("18000.00")
    assert datavault.start_date == dt.date(2026, 12, 14)
    assert datavault.term_months == 12
    assert datavault.renewal_date == dt.date(2027, 12, 14)  # start + term
    assert datavault.status == SubscriptionStatus.ACTIVE
    assert datavault.tenancy_ref == "TEN-1"
    assert subs["cloudsync"].seats == 40 and subs["cloudsync"].tenancy_ref == "TEN-2"
    assert {s.order_ref for s in subs.values()} == {order.order_id}
    history = datavault.history.earliest("history_date")
    assert order.order_id in history.history_change_reason


def test_activation_updates_a_live_subscription_of_the_same_product(personas, account):
    existing = SubscriptionFactory(account=account, product=product("datavault"), seats=5)
    with MANUAL:
        order = submitted_order(personas["sales_rep"], account)
        order = services.validate_order(order=order, actor=personas["customer_relations"])
    _finish(order, personas)
    existing.refresh_from_db()
    assert Subscription.objects.filter(account=account).count() == 1
    assert existing.seats == 25 and existing.order_ref == order.order_id


def test_finance_is_told_the_plan_pricing_and_start_date_of_the_order(
    personas, validated, django_capture_on_commit_callbacks
):
    personas["finance"].email = "finance@cloudcore.example"
    personas["finance"].save()
    with django_capture_on_commit_callbacks(execute=True):
        order = _finish(validated, personas)
    handoff = BillingHandoff.objects.get(order=order)
    assert handoff.order_ref == order.order_id
    assert handoff.start_date == dt.date(2026, 12, 14)
    assert handoff.annual_total == Decimal("36000.00")
    assert [(p["product"], p["seats"], p["annual_value"]) for p in handoff.lines] == [
        ("DataVault", 25, "18000.00"),
        ("CloudSync", 40, "18000.00"),
    ]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["finance@cloudcore.example"]
    assert order.order_id in message.subject and "14 Dec 2026" in message.body
    assert handoff.notified_at is not None


def test_activation_lands_contacts_and_marks_the_client_active(personas, validated):
    order = _finish(validated, personas)
    account = Account.objects.get(pk=order.account_id)
    assert account.lifecycle_status == LifecycleStatus.ACTIVE
    assert account.billing_contact.email == "accounts@client.example"
    assert account.contacts.filter(email="it@client.example").exists()


def test_every_timeline_entry_carries_the_order_id(personas, validated):
    order = _finish(validated, personas)
    entries = list(Activity.objects.filter(account=order.account))
    assert entries
    assert all(entry.summary.startswith(order.order_id) for entry in entries)
    assert all(event.order_ref == order.order_id for event in OrderEvent.objects.filter(order=order))


def test_an_eligible_order_goes_active_with_no_person_touching_it(
    personas, account, django_capture_on_commit_callbacks
):
    order = submitted_order(personas["sales_rep"], account, lines=[line("datavault"), line("analytics-pro")])
    with django_capture_on_commit_callbacks(execute=True):
        services.validate_order(order=order, actor=personas["customer_relations"])
    order.refresh_from_db()
    assert order.status == OrderStatus.ACTIVE
    assert order.auto_provisioned
    tasks = list(order.tasks.all())
    assert all(t.completed_automatically and t.assignee is None for t in tasks)
    assert {e.actor for e in order.events.filter(to_status__in=["provisioning", "active"])} == {None}


def test_custom_requirements_make_an_order_manual(personas, account):
    order = submitted_order(personas["sales_rep"], account, custom_requirements="Dedicated HSM")
    order = services.validate_order(order=order, actor=personas["customer_relations"])
    assert not order.auto_provision and order.status == OrderStatus.VALIDATED


# --- Overrides ----------------------------------------------------------------------------


def test_an_override_needs_the_right_role_and_a_reason_and_is_recorded_as_one(personas, validated):
    with pytest.raises(NotAllowedError):
        services.override_status(order=validated, actor=personas["sales_rep"], to_status="active", reason="pls")
    with pytest.raises(OnboardingError):
        services.override_status(order=validated, actor=personas["data_steward"], to_status="active", reason=" ")
    services.override_status(
        order=validated, actor=personas["data_steward"], to_status="active", reason="Provisioned outside the CRM"
    )
    validated.refresh_from_db()
    assert validated.status == OrderStatus.ACTIVE
    override = validated.events.get(kind=EventKind.OVERRIDE)
    assert override.actor == personas["data_steward"] and override.reason == "Provisioned outside the CRM"
    assert Subscription.objects.filter(order_ref=validated.order_id).count() == 2


def test_a_normal_transition_out_of_order_is_refused(personas, account):
    order = draft_order(personas["sales_rep"], account)
    with pytest.raises(OnboardingError):
        services.validate_order(order=order, actor=personas["customer_relations"])


# --- Status link -------------------------------------------------------------------------


def test_a_status_link_finds_its_order_until_revoked(personas, account):
    order = services.issue_status_link(order=draft_order(personas["sales_rep"], account), actor=personas["sales_rep"])
    path = services.status_link_path(order)
    signed = path.rstrip("/").rsplit("/", 1)[1]
    assert services.order_for_link(signed) == order
    assert services.order_for_link(signed[:-2] + "xx") is None
    services.revoke_status_link(order=order, actor=personas["sales_rep"])
    assert services.order_for_link(signed) is None


def test_add_months_keeps_the_day_or_takes_the_months_last():
    assert services.add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert services.add_months(dt.date(2026, 7, 1), 12) == dt.date(2027, 7, 1)
    assert services.add_months(dt.date(2026, 11, 15), 3) == dt.date(2027, 2, 15)


def test_the_task_queue_rows_name_the_order(validated):
    assert all(t.reference.startswith(validated.order_id) for t in ProvisioningTask.objects.all())
