"""What support_bridge adds to other pages: the 360 risk box, upsell warnings, the
owner's alerts on the home page, and a concern raised by hand."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.choices import ActivityKind, OpportunityKind
from customers.models import Activity
from support_bridge.choices import AlertKind, RiskBand, TicketPriority, TicketStatus
from support_bridge.models import ChurnAlert
from tests.factories import AccountFactory, OpportunityFactory, SubscriptionFactory
from tests.factories_support import ChurnAlertFactory, RiskScoreFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def meridian(personas):
    account = AccountFactory(number=9, code="CC009", owner=personas["sales_rep"])
    SubscriptionFactory(account=account)
    RiskScoreFactory(account=account)
    TicketFactory(account=account, subject="Backup failed again", status=TicketStatus.OPEN, priority="high")
    return account


def detail(code: str = "CC009") -> str:
    return reverse("customers:account_detail", args=[code])


def test_the_360_page_shows_the_risk_band_its_reasons_and_open_tickets(client_for, meridian):
    content = client_for("executive").get(detail()).content.decode()
    assert "High risk · 80" in content
    assert "7 tickets in 180 days; peer median 1" in content
    assert "Satisfaction fell from 7.9 to 4.2" in content
    assert "Backup failed again" in content


def test_an_unscored_account_says_so(client_for):
    AccountFactory(number=77, code="CC077")
    assert "Not scored yet" in client_for("sales_rep").get(detail("CC077")).content.decode()


def test_an_upsell_on_a_high_risk_account_shows_a_warning_with_the_reasons(client_for, meridian, personas):
    OpportunityFactory(account=meridian, name="Analytics Pro", kind=OpportunityKind.UPSELL, owner=personas["sales_rep"])
    content = client_for("sales_rep").get(detail()).content.decode()
    assert "High churn risk (80/100): think before upselling" in content
    assert "Open upsell: Analytics Pro" in content


def test_no_warning_without_an_upsell_or_without_high_risk(client_for, meridian, personas):
    OpportunityFactory(account=meridian, kind=OpportunityKind.NEW_BUSINESS, owner=personas["sales_rep"])
    assert "think before upselling" not in client_for("sales_rep").get(detail()).content.decode()
    other = AccountFactory(number=78, code="CC078")
    RiskScoreFactory(account=other, score=20, band=RiskBand.LOW, reasons=[])
    OpportunityFactory(account=other, kind=OpportunityKind.UPSELL, owner=personas["sales_rep"])
    assert "High churn risk" not in client_for("sales_rep").get(detail("CC078")).content.decode()


def test_the_opportunity_form_warns_about_a_high_risk_account(client_for, meridian):
    response = client_for("sales_rep").get(reverse("customers:opportunity_add", args=["CC009"]))
    assert "High churn risk (80/100)" in response.content.decode()
    assert "Satisfaction fell from 7.9 to 4.2" in response.content.decode()


def test_the_owner_sees_the_alert_on_their_home_page_and_acknowledges_it_with_a_note(client_for, meridian, personas):
    alert = ChurnAlertFactory(account=meridian, owner=personas["sales_rep"])
    client = client_for("sales_rep")
    home = client.get(reverse("home")).content.decode()
    assert "Alerts on your accounts" in home and "7 tickets in 180 days; peer median 1" in home

    response = client.post(
        reverse("support:alert_acknowledge", args=[alert.pk]), {"note": "Calling Helen today", "next": "/"}
    )

    assert response.status_code == 302
    alert.refresh_from_db()
    assert (alert.acknowledged_by, alert.note) == (personas["sales_rep"], "Calling Helen today")
    assert alert.history.first().history_user == personas["sales_rep"]
    assert Activity.objects.filter(account=meridian, summary__startswith="Acknowledged", actor=personas["sales_rep"])
    assert "Alerts on your accounts" not in client.get(reverse("home")).content.decode()


def test_acknowledging_needs_a_note(client_for, meridian, personas):
    alert = ChurnAlertFactory(account=meridian, owner=personas["sales_rep"])
    client_for("sales_rep").post(reverse("support:alert_acknowledge", args=[alert.pk]), {"note": ""})
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_someone_else_cannot_acknowledge_the_owners_alert(client_for, meridian, personas):
    alert = ChurnAlertFactory(account=meridian, owner=personas["sales_rep"])
    response = client_for("support_agent").post(reverse("support:alert_acknowledge", args=[alert.pk]), {"note": "x"})
    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_other_users_do_not_see_the_owners_alerts(client_for, meridian, personas):
    ChurnAlertFactory(account=meridian, owner=personas["sales_rep"])
    assert "Alerts on your accounts" not in client_for("sales_manager").get(reverse("home")).content.decode()


def test_a_support_agent_raises_a_concern_to_the_owner_by_hand(
    client_for, meridian, personas, django_capture_on_commit_callbacks
):
    client = client_for("support_agent")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("support:concern_add", args=["CC009"]),
            {"message": "Practice manager is talking about leaving.", "next": "/support/lookup/?q=CC009"},
        )

    assert response.status_code == 302 and response["Location"] == "/support/lookup/?q=CC009"
    alert = ChurnAlert.objects.get()
    assert (alert.kind, alert.owner, alert.raised_by) == (
        AlertKind.CONCERN,
        personas["sales_rep"],
        personas["support_agent"],
    )
    assert alert.reasons and alert.score == 80  # the score at the time travels with it
    entry = Activity.objects.get(kind=ActivityKind.ALERT)
    assert (entry.actor, entry.detail) == (personas["support_agent"], "Practice manager is talking about leaving.")
    assert mail.outbox[0].to == [personas["sales_rep"].email]
    home = client_for("sales_rep").get(reverse("home")).content.decode()
    assert "Practice manager is talking about leaving." in home


def test_a_concern_needs_a_message(client_for, meridian):
    response = client_for("support_agent").post(reverse("support:concern_add", args=["CC009"]), {"message": ""})
    assert response.status_code == 400
    assert not ChurnAlert.objects.exists()


def test_a_sales_rep_cannot_raise_a_concern_form(client_for, meridian):
    assert client_for("sales_rep").get(reverse("support:concern_add", args=["CC009"])).status_code == 403


def _grow(accounts: int, owner) -> None:
    for _ in range(accounts):
        account = AccountFactory(owner=owner)
        RiskScoreFactory(account=account)
        ChurnAlertFactory(account=account, owner=owner)
        for _ in range(3):
            TicketFactory(account=account, status=TicketStatus.OPEN, priority=TicketPriority.URGENT)


@pytest.mark.parametrize("url", ["home", "detail", "opportunity_add"])
def test_pages_with_support_panels_keep_a_fixed_query_count(
    client_for, meridian, personas, django_assert_max_num_queries, url
):
    OpportunityFactory(account=meridian, kind=OpportunityKind.UPSELL, owner=personas["sales_rep"])
    path = {
        "home": reverse("home"),
        "detail": detail(),
        "opportunity_add": reverse("customers:opportunity_add", args=["CC009"]),
    }[url]
    client = client_for("sales_rep")

    def count() -> int:
        with django_assert_max_num_queries(15), CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        return len(ctx)

    _grow(2, personas["sales_rep"])
    small = count()
    _grow(12, personas["sales_rep"])
    assert count() == small
