"""Churn risk: explainable scores, set-based runs, one alert per rise."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.choices import ActivityKind, OpportunityKind, Segment
from customers.models import Activity
from support_bridge import notifications, risk, services
from support_bridge.choices import AlertKind, RiskBand, TicketPriority, TicketStatus
from support_bridge.models import ChurnAlert, PeerBaseline, RiskScore, Ticket
from tests.factories import AccountFactory, ActivityFactory, OpportunityFactory, SubscriptionFactory
from tests.factories_support import TicketFactory

pytestmark = pytest.mark.django_db


def days_ago(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def make_peers(count: int, *, segment: str = Segment.MID, tickets_each: int = 1) -> list:
    """Ordinary clients of a segment: a ticket or so every six months, happy, in touch."""
    peers = []
    for _ in range(count):
        account = AccountFactory(segment=segment)
        for n in range(tickets_each):
            TicketFactory(account=account, opened_at=days_ago(20 + n), satisfaction=8)
        ActivityFactory(account=account, kind=ActivityKind.CALL, occurred_at=days_ago(10))
        peers.append(account)
    return peers


def make_cc009_like(owner, *, renewal_in: int = 74):
    """Seed 001's CC009: 7 tickets in six months, satisfaction from 7.9 down to 4.2."""
    account = AccountFactory(segment=Segment.MID, owner=owner, legal_name="Meridian Health Partners Pty Ltd")
    today = timezone.localdate()
    SubscriptionFactory(
        account=account, start_date=today - dt.timedelta(days=300), renewal_date=today + dt.timedelta(days=renewal_in)
    )
    for n, rating in enumerate([None, 7, 6, 3, 4, 3, 2]):
        TicketFactory(
            account=account,
            opened_at=days_ago(172 - 25 * n),
            satisfaction=rating,
            priority=TicketPriority.HIGH,
            status=TicketStatus.OPEN if n == 6 else TicketStatus.CLOSED,
        )
    for n, rating in enumerate([8, 8, 9, 7, 8, 8, 7, 8]):
        TicketFactory(account=account, opened_at=days_ago(205 + 40 * n), satisfaction=rating)
    ActivityFactory(account=account, kind=ActivityKind.MEETING, occurred_at=days_ago(40))
    return account


def test_a_cc009_like_account_comes_out_high_with_its_reasons_in_words(personas):
    make_peers(5)
    account = make_cc009_like(personas["sales_rep"])

    run = services.recompute_risk()

    score = RiskScore.objects.get(account=account)
    assert score.band == RiskBand.HIGH and score.score >= 60
    renewal = timezone.localdate() + dt.timedelta(days=74)
    assert score.reasons == [
        "7 tickets in 180 days; peer median 1",
        "satisfaction fell from 7.9 to 4.2",
        f"renewal due in 74 days ({renewal.day} {renewal:%b %Y})",
        "1 open high-priority ticket",
    ]
    assert run.high == 1 and run.alerts == 1
    assert RiskScore.objects.exclude(account=account).filter(band=RiskBand.LOW).count() == 5


def test_the_score_reads_weights_and_bands_from_settings(personas, settings):
    make_peers(3)
    account = make_cc009_like(personas["sales_rep"])
    settings.CHURN_RISK_WEIGHTS = {**settings.CHURN_RISK_WEIGHTS, "ticket_volume": 0, "satisfaction_trend": 0}
    services.recompute_risk()
    score = RiskScore.objects.get(account=account)
    assert score.band != RiskBand.HIGH
    assert not any("tickets in 180 days" in reason for reason in score.reasons)


def test_a_rise_to_high_alerts_the_owner_once_with_a_timeline_entry_and_an_email(
    personas, django_capture_on_commit_callbacks
):
    make_peers(3)
    account = make_cc009_like(personas["sales_rep"])

    with django_capture_on_commit_callbacks(execute=True):
        services.recompute_risk()
    with django_capture_on_commit_callbacks(execute=True):
        services.recompute_risk()  # the next night: still high, no new alert

    alert = ChurnAlert.objects.get()
    assert (alert.account, alert.owner, alert.kind, alert.score) == (
        account,
        personas["sales_rep"],
        AlertKind.RISK,
        RiskScore.objects.get(account=account).score,
    )
    assert alert.reasons[0] == "7 tickets in 180 days; peer median 1"
    entry = Activity.objects.get(account=account, kind=ActivityKind.ALERT)
    assert entry.actor is None and entry.summary.startswith("Churn risk rose to high")
    assert "satisfaction fell from 7.9 to 4.2" in entry.detail
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [personas["sales_rep"].email]
    record = alert.history.get()
    assert (record.history_type, record.history_user, record.history_change_reason) == (
        "+",
        None,
        "Churn risk rose to high",
    )


def test_alerts_for_many_rises_are_written_together_each_with_its_own_history_row_and_email(
    personas, django_capture_on_commit_callbacks
):
    make_peers(9)
    risen = [make_cc009_like(personas["sales_rep"]) for _ in range(3)]

    with django_capture_on_commit_callbacks(execute=True):
        run = services.recompute_risk()

    assert run.alerts == 3
    alerts = ChurnAlert.objects.filter(kind=AlertKind.RISK)
    assert {alert.account_id for alert in alerts} == {account.pk for account in risen}
    assert all(alert.history.get().history_change_reason == "Churn risk rose to high" for alert in alerts)
    entries = Activity.objects.filter(kind=ActivityKind.ALERT, account__in=risen)
    assert entries.count() == 3
    assert {(e.history.get().history_user, e.history.get().history_change_reason) for e in entries} == {
        (None, "Churn-risk alert for the account owner")
    }
    assert len(mail.outbox) == 3 and all(alert.notified_at for alert in ChurnAlert.objects.all())


def test_alert_emails_go_once_each_however_often_the_batch_is_sent(personas, django_assert_max_num_queries):
    make_peers(9)
    risen = [make_cc009_like(personas["sales_rep"]) for _ in range(3)]
    services.recompute_risk()  # on_commit not run: nothing mailed yet
    unowned = ChurnAlert.objects.create(account=AccountFactory(owner=None), kind=AlertKind.CONCERN, message="x")
    ids = [alert.pk for alert in ChurnAlert.objects.all()]
    assert len(ids) == 4 and not mail.outbox

    with django_assert_max_num_queries(6):  # the same for 3 alerts or 200
        sent = notifications.notify_alert_owners(ids)
    again = notifications.notify_alert_owners(ids)  # a retried or doubled task

    assert (sent, again) == (3, 0)
    assert sorted(m.subject for m in mail.outbox) == sorted(
        f"[CloudCore CRM] Churn risk rose to high: {account}" for account in risen
    )
    assert all(m.to == [personas["sales_rep"].email] for m in mail.outbox)
    unowned.refresh_from_db()
    assert unowned.notified_at is None  # nobody to tell: not claimed


def test_dropping_below_high_and_rising_again_raises_a_second_alert(personas):
    make_peers(3)
    account = make_cc009_like(personas["sales_rep"])
    services.recompute_risk()

    # Support fixes things: the open ticket is closed and the old tickets age out of the window.
    Ticket.objects.filter(account=account).update(opened_at=days_ago(600), status=TicketStatus.CLOSED)
    services.recompute_risk()
    assert RiskScore.objects.get(account=account).band != RiskBand.HIGH
    services.recompute_risk()
    assert ChurnAlert.objects.count() == 1
    # The owner acted on it: at most one alert per account is open at a time.
    services.acknowledge_alert(alert=ChurnAlert.objects.get(), actor=personas["sales_rep"], note="Called them")

    for rating in [3, 2, 3, 2, 3, 2, 3]:
        TicketFactory(account=account, opened_at=days_ago(30), satisfaction=rating, priority=TicketPriority.URGENT)
    Ticket.objects.filter(account=account, opened_at__lt=days_ago(500)).update(opened_at=days_ago(300), satisfaction=9)
    services.recompute_risk()

    assert RiskScore.objects.get(account=account).band == RiskBand.HIGH
    assert ChurnAlert.objects.filter(account=account, kind=AlertKind.RISK).count() == 2


def test_score_changes_are_recorded_in_history_and_unchanged_nights_are_not(personas):
    make_peers(2)
    account = make_cc009_like(personas["sales_rep"])
    services.recompute_risk()
    services.recompute_risk()
    score = RiskScore.objects.get(account=account)
    assert score.history.count() == 1
    assert score.history.get().history_change_reason == "Churn-risk recomputed"


def test_the_nightly_run_uses_the_same_few_queries_for_ten_or_forty_accounts(personas):
    def queries_for_a_run() -> int:
        services.recompute_risk()  # peer baselines exist, as on every night but the first
        RiskScore.objects.all().delete()
        with CaptureQueriesContext(connection) as ctx:
            services.recompute_risk()
        return len(ctx)

    make_peers(10)
    small = queries_for_a_run()
    make_peers(30)
    assert queries_for_a_run() == small
    assert small <= 25


def test_the_nightly_run_stores_peer_medians_for_single_account_runs(personas):
    make_peers(4, segment=Segment.SMALL, tickets_each=2)
    services.recompute_risk()
    assert PeerBaseline.objects.get(segment=Segment.SMALL).median_tickets == 2


def test_a_ticket_event_rescores_just_that_account(personas):
    make_peers(3)
    account = make_cc009_like(personas["sales_rep"])
    services.recompute_risk()
    with CaptureQueriesContext(connection) as ctx:
        run = services.recompute_risk(account_ids={account.pk})
    assert run.accounts == 1
    assert len(ctx) <= 15


def test_prospects_and_churned_clients_are_not_scored(personas):
    prospect = AccountFactory(lifecycle_status="prospect")
    TicketFactory(account=prospect)
    services.recompute_risk()
    assert not RiskScore.objects.filter(account=prospect).exists()


def test_without_the_billing_app_the_discrepancy_factor_is_skipped():
    assert risk._open_discrepancy_accounts(None) == set()


def test_no_relationship_activity_in_ninety_days_is_a_reason():
    account = AccountFactory()
    ActivityFactory(account=account, kind=ActivityKind.TICKET, occurred_at=days_ago(5))  # not a relationship touch
    services.recompute_risk()
    assert RiskScore.objects.get(account=account).reasons == ["no call, email, meeting or note in 90 days"]


def test_run_nightly_scores_every_client_and_says_so(personas):
    make_peers(3)
    make_cc009_like(personas["sales_rep"])
    out = io.StringIO()
    call_command("run_nightly", stdout=out)
    assert "Churn risk: 4 accounts scored (4 new, 0 changed), 1 high, 1 new alert(s)" in out.getvalue()


def test_the_celery_beat_schedule_runs_the_nightly_task(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["support-bridge-nightly-risk"]
    assert entry["task"] == "support_bridge.tasks.recompute_risk_nightly"
    from support_bridge import tasks

    assert tasks.recompute_risk_nightly.name == entry["task"]


def test_an_upsell_on_a_high_risk_account_is_unrelated_to_the_score_itself(personas):
    # The score is about the client, not the deal: an open upsell changes nothing.
    make_peers(3)
    account = make_cc009_like(personas["sales_rep"])
    services.recompute_risk()
    before = RiskScore.objects.get(account=account).score
    OpportunityFactory(account=account, kind=OpportunityKind.UPSELL, amount=Decimal("38400"))
    services.recompute_risk()
    assert RiskScore.objects.get(account=account).score == before
