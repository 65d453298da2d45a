"""An eligible order goes active with no person touching it: validated in this process, it
is provisioned by the default adapter on a real Celery worker (on Redis and PostgreSQL,
as CI provides), after the configured delay."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.test import override_settings

from cloudcore_crm.celery import app as celery_app
from onboarding import services
from onboarding.choices import OrderStatus
from tests.conftest import is_postgres
from tests.factories import AccountFactory, UserFactory
from tests.factories_onboarding import line, submitted_order
from tests.test_celery_worker import worker  # noqa: F401  (the worker fixture)

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not (settings.REDIS_URL and is_postgres()), reason="needs Redis and PostgreSQL, as CI provides"),
]


def test_an_eligible_order_is_provisioned_and_activated_by_a_real_worker(worker):  # noqa: F811
    rep = UserFactory(username="worker-rep", roles=["sales_rep"])
    relations = UserFactory(username="worker-relations", roles=["customer_relations"])
    UserFactory(username="provisioning", roles=["provisioning"])
    account = AccountFactory(owner=rep)
    order = submitted_order(rep, account, lines=[line("datavault"), line("cloudsync", seats=12)])

    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False  # send the adapter's tasks to Redis, not in-process
    try:
        with override_settings(ONBOARDING_PROVISIONING_QUEUE=worker, ONBOARDING_AUTO_PROVISION_DELAY=1):
            services.validate_order(order=order, actor=relations)
    finally:
        celery_app.conf.task_always_eager = eager
    order.refresh_from_db()
    assert order.status == OrderStatus.PROVISIONING  # queued, not done in this process

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        order.refresh_from_db()
        if order.status == OrderStatus.ACTIVE:
            break
        time.sleep(0.5)
    assert order.status == OrderStatus.ACTIVE
    assert order.auto_provisioned
    tasks = list(order.tasks.all())
    assert all(t.completed_automatically and t.assignee is None and t.tenancy_ref for t in tasks)
    lines = list(order.lines.select_related("subscription"))
    assert all(line.subscription.order_ref == order.order_id for line in lines)
    assert [e.actor for e in order.events.filter(to_status__in=["provisioning", "active"])] == [None, None]
