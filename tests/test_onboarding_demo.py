"""`manage.py seed_demo_orders`: an order in every state, one auto-provisioned, one
exception waiting, and a status link that opens without a login."""

from __future__ import annotations

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from customers.demo import ensure_demo_users
from onboarding.choices import OrderStatus
from onboarding.models import ExceptionCase, Order
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_the_demo_has_an_order_in_every_state_and_prints_a_working_status_link(client):
    users, _ = ensure_demo_users()
    AccountFactory.create_batch(8, owner=users["sales_rep"])
    out = StringIO()
    call_command("seed_demo_orders", stdout=out)
    assert set(Order.objects.values_list("status", flat=True)) == set(OrderStatus.values)
    assert Order.objects.filter(status=OrderStatus.ACTIVE, auto_provisioned=True).exists()
    assert ExceptionCase.objects.open().count() == 1
    link = next(line for line in out.getvalue().splitlines() if "status link" in line).split(": ", 1)[1]
    assert link.startswith(f"{settings.SITE_URL}/status/")
    page = client.get(link.removeprefix(settings.SITE_URL))
    assert page.status_code == 200 and "Setting up your services" in page.content.decode()

    count = Order.objects.count()
    again = StringIO()
    call_command("seed_demo_orders", stdout=again)
    assert Order.objects.count() == count
    assert link in again.getvalue()
