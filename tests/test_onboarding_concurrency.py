"""Two provisioning officers claim the same task at once, and the adapter's worker races a
person completing it: exactly one wins each time. Real threads, on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import override_settings

from onboarding import services
from onboarding.choices import OrderStatus, TaskStatus
from onboarding.errors import OnboardingError
from onboarding.models import OrderEvent, ProvisioningTask
from tests.conftest import is_postgres
from tests.factories import AccountFactory, UserFactory
from tests.factories_onboarding import submitted_order

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not is_postgres(), reason="real concurrent writers need PostgreSQL row locks"),
]


def _race(*actions) -> list[str]:
    barrier = threading.Barrier(len(actions))
    outcomes: list[str] = []

    def run(action):
        try:
            barrier.wait(timeout=10)
            action()
            outcomes.append("won")
        except OnboardingError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(outcomes)


@pytest.fixture
def task(personas):
    account = AccountFactory(owner=personas["sales_rep"])
    with override_settings(ONBOARDING_AUTO_PRODUCTS=[]):
        order = services.validate_order(
            order=submitted_order(personas["sales_rep"], account), actor=personas["customer_relations"]
        )
    return order.tasks.get()


def test_two_officers_claiming_one_task_yield_exactly_one_claim(personas, task):
    other = UserFactory(username="second-officer", roles=["provisioning"])
    outcomes = _race(
        lambda: services.claim_task(task=ProvisioningTask.objects.get(pk=task.pk), actor=personas["provisioning"]),
        lambda: services.claim_task(task=ProvisioningTask.objects.get(pk=task.pk), actor=other),
    )
    assert outcomes == ["refused", "won"]
    task.refresh_from_db()
    assert task.status == TaskStatus.CLAIMED
    assert OrderEvent.objects.filter(summary__startswith="Claimed").count() == 1


def test_the_worker_and_a_person_completing_one_task_activate_the_order_once(personas, task):
    outcomes = _race(
        lambda: services.auto_provision(task.pk) == "done" or (_ for _ in ()).throw(OnboardingError("skipped")),
        lambda: services.complete_task(
            task=ProvisioningTask.objects.get(pk=task.pk), actor=personas["provisioning"], tenancy_ref="BY-HAND"
        ),
    )
    assert outcomes == ["refused", "won"]
    task.order.refresh_from_db()
    assert task.order.status == OrderStatus.ACTIVE
    assert task.order.events.filter(to_status=OrderStatus.ACTIVE).count() == 1
    assert task.order.lines.get().subscription is not None
