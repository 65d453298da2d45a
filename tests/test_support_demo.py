"""`manage.py seed_demo_tickets`: the demo world's helpdesk, and CC009's story."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from support_bridge.choices import AlertKind, RiskBand
from support_bridge.models import ChurnAlert, RiskScore, Ticket

MD5 = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def demo_tickets(django_db_setup, django_db_blocker) -> Iterator[str]:
    """The demo world and its tickets, once for the module, rolled back at the end."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=MD5), transaction.atomic():
        call_command("seed_demo", stdout=StringIO())
        out = StringIO()
        call_command("seed_demo_tickets", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_cc009_comes_out_high_with_the_reasons_of_seed_001(demo_tickets):
    score = RiskScore.objects.select_related("account").get(account__code="CC009")
    assert score.band == RiskBand.HIGH
    assert score.reasons[:2] == ["7 tickets in 180 days; peer median 1", "satisfaction fell from 7.9 to 4.2"]
    assert any(reason.startswith("renewal due in 74 days") for reason in score.reasons)
    assert "CC009: " in demo_tickets and "satisfaction fell from 7.9 to 4.2" in demo_tickets


@pytest.mark.django_db
def test_cc009s_owner_has_one_alert_waiting(demo_tickets):
    alert = ChurnAlert.objects.get(account__code="CC009")
    assert (alert.kind, alert.owner.username, alert.acknowledged_at) == (AlertKind.RISK, "sales_rep", None)


@pytest.mark.django_db
def test_the_demo_helpdesk_has_about_six_thousand_tickets_a_year(demo_tickets):
    last_year = Ticket.objects.filter(opened_at__gte=timezone.now() - dt.timedelta(days=365)).count()
    assert 4500 <= last_year <= 7500
    assert (
        Ticket.objects.filter(account__code="CC009", opened_at__gte=timezone.now() - dt.timedelta(days=180)).count()
        == 7
    )


@pytest.mark.django_db
def test_running_it_again_loads_nothing_more_and_raises_no_new_alert(demo_tickets):
    tickets, alerts = Ticket.objects.count(), ChurnAlert.objects.count()
    out = StringIO()
    call_command("seed_demo_tickets", stdout=out)
    assert "not loaded again" in out.getvalue()
    assert (Ticket.objects.count(), ChurnAlert.objects.count()) == (tickets, alerts)
