"""Renewals: cases open at 90 days, each reminder once to both people, escalation, lapse,
outcomes through services, the board and the calendar feed. Time is frozen."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from customers.choices import SubscriptionStatus
from customers.errors import OwnershipError
from customers.models import Activity, Subscription
from renewals import notifications, services
from renewals.choices import CaseStatus, LostReason, NoticeKind
from renewals.models import CalendarToken, RenewalCase, RenewalNotice
from tests.factories import UserFactory
from tests.factories_renewals import Clock, client_renewing

RENEWS = dt.date(2026, 7, 1)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock)
    return clock


@pytest.fixture
def rep(personas):
    return personas["sales_rep"]


@pytest.fixture
def coordinator(personas):
    return personas["customer_relations"]


@pytest.fixture
def subscription(clock, rep, coordinator):
    return client_renewing(rep, coordinator, renewal_date=RENEWS, value="38400.00")


def night(clock, django_capture_on_commit_callbacks, day: dt.date):
    """The nightly scan on `day`, its emails sent after commit as in production."""
    clock.set(day)
    with django_capture_on_commit_callbacks(execute=True):
        return services.nightly_scan()


@pytest.fixture
def scan(clock, django_capture_on_commit_callbacks):
    return lambda day: night(clock, django_capture_on_commit_callbacks, day)


def days_before(days: int) -> dt.date:
    return RENEWS - dt.timedelta(days=days)


def recipients() -> list[tuple[str, str]]:
    return sorted((m.to[0], m.subject.split("]")[1].split(":")[0].strip()) for m in mail.outbox)


# --- Opening ------------------------------------------------------------------------------------


def test_a_case_opens_90_days_before_the_renewal_date_and_not_a_day_earlier(subscription, scan):
    assert scan(days_before(91)).opened == 0
    assert not RenewalCase.objects.exists()
    assert scan(days_before(90)).opened == 1
    case = RenewalCase.objects.get()
    assert (case.subscription, case.term_end, case.status) == (subscription, RENEWS, CaseStatus.UPCOMING)
    assert case.value_at_stake == Decimal("38400.00")
    assert case.history.get().history_change_reason == "Opened 90 days before the renewal date"


def test_a_second_night_with_nothing_due_changes_nothing_and_sends_nothing(subscription, scan):
    scan(days_before(90))
    sent = len(mail.outbox)
    again = scan(days_before(89))
    assert (again.opened, again.reminders, again.escalations, again.lapsed) == (0, 0, 0, 0)
    assert len(mail.outbox) == sent
    assert RenewalCase.objects.count() == 1


def test_cancelled_subscriptions_get_no_case(subscription, scan):
    Subscription.objects.filter(pk=subscription.pk).update(status=SubscriptionStatus.CANCELLED)
    scan(days_before(30))
    assert not RenewalCase.objects.exists()


# --- Reminders ----------------------------------------------------------------------------------


def test_each_reminder_goes_once_to_the_owner_and_the_coordinator(subscription, scan, rep, coordinator):
    scan(days_before(90))
    scan(days_before(90))  # the job runs twice
    assert recipients() == sorted([(rep.email, "90-day reminder"), (coordinator.email, "90-day reminder")])
    scan(days_before(75))
    scan(days_before(60))
    scan(days_before(59))
    scan(days_before(30))
    scan(days_before(30))
    kinds = [k for _, k in recipients()]
    assert sorted(kinds) == sorted(["90-day reminder", "60-day reminder", "30-day reminder"] * 2)
    assert {to for to, _ in recipients()} == {rep.email, coordinator.email}


def test_a_reminder_email_has_html_and_text_and_a_link_to_the_case(subscription, scan):
    scan(days_before(90))
    message = mail.outbox[0]
    case = RenewalCase.objects.get()
    assert case.get_absolute_url() in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert case.get_absolute_url() in html
    assert subscription.account.code in message.subject


def test_a_reminder_is_on_the_timeline_once_per_stage(subscription, scan):
    scan(days_before(90))
    scan(days_before(90))
    entries = Activity.objects.filter(account=subscription.account, summary__startswith="Renewal in 90 days")
    assert entries.count() == 1
    assert entries.get().actor is None


def test_a_case_opened_late_gets_only_the_current_reminder(subscription, scan):
    scan(days_before(45))
    assert set(RenewalNotice.objects.values_list("kind", flat=True)) == {NoticeKind.REMINDER_60}


def test_an_owner_who_is_also_the_coordinator_is_told_once(rep, scan):
    client_renewing(rep, rep, renewal_date=RENEWS)
    scan(days_before(90))
    assert len(mail.outbox) == 1


def test_a_worker_dying_mid_batch_sends_no_reminder_twice(rep, coordinator, clock, monkeypatch):
    for n in range(3):
        client_renewing(rep, coordinator, renewal_date=RENEWS - dt.timedelta(days=n))
    clock.set(days_before(90))
    services.nightly_scan()  # six notices, not sent yet (no commit in this test)
    assert RenewalNotice.objects.unsent().count() == 6

    from django.core.mail.backends.locmem import EmailBackend

    real = EmailBackend.send_messages
    calls = {"n": 0}

    def dies_on_the_third(self, messages):
        calls["n"] += 1
        if calls["n"] == 3:
            raise SystemExit("worker killed")
        return real(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", dies_on_the_third)
    with pytest.raises(SystemExit):
        notifications.send_pending_notices()
    assert len(mail.outbox) == 2
    monkeypatch.setattr(EmailBackend, "send_messages", real)

    # A redelivered task finds the rest still claimed by the dead worker: nothing twice.
    assert notifications.send_pending_notices() == 0
    clock.advance(minutes=31)
    assert notifications.send_pending_notices() == 4
    assert len(mail.outbox) == 6
    assert len({(m.to[0], m.subject) for m in mail.outbox}) == 6
    assert RenewalNotice.objects.unsent().count() == 0


def test_two_workers_never_claim_the_same_notices(rep, coordinator, clock):
    client_renewing(rep, coordinator, renewal_date=RENEWS)
    clock.set(days_before(90))
    services.nightly_scan()
    first = notifications._claim(timezone.now(), 200)
    second = notifications._claim(timezone.now(), 200)
    assert (len(first), second) == (2, [])


# --- Escalation and lapse ------------------------------------------------------------------------


def test_a_case_within_14_days_with_no_outreach_is_escalated_to_the_sales_managers(subscription, scan, personas):
    other_manager = make_persona_manager()
    scan(days_before(15))
    assert not RenewalNotice.objects.filter(kind=NoticeKind.ESCALATION_NO_OUTREACH).exists()
    scan(days_before(14))
    told = set(RenewalNotice.objects.filter(kind=NoticeKind.ESCALATION_NO_OUTREACH).values_list("recipient", flat=True))
    assert told == {personas["sales_manager"].pk, other_manager.pk}
    scan(days_before(13))
    assert RenewalNotice.objects.filter(kind=NoticeKind.ESCALATION_NO_OUTREACH).count() == 2


def make_persona_manager():
    return UserFactory(username="second_manager", roles=["sales_manager"])


def test_outreach_logged_by_the_owner_prevents_the_quiet_escalation(subscription, scan, rep, clock):
    scan(days_before(30))
    case = RenewalCase.objects.get()
    services.log_outreach(case=case, actor=rep, kind="call", note="Spoke to the CFO; renewal on track")
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_OUTREACH
    assert case.last_outreach_at == clock.now
    scan(days_before(14))
    assert not RenewalNotice.objects.filter(kind=NoticeKind.ESCALATION_NO_OUTREACH).exists()
    assert Activity.objects.filter(account=case.account, actor=rep, summary__startswith="Renewal outreach").exists()


def test_on_the_renewal_date_with_no_outcome_the_managers_are_told(subscription, scan, rep, personas):
    scan(days_before(30))
    services.log_outreach(case=RenewalCase.objects.get(), actor=rep, kind="email", note="Sent the quote")
    scan(days_before(1))
    assert not RenewalNotice.objects.filter(kind=NoticeKind.ESCALATION_DUE).exists()
    scan(RENEWS)
    assert list(RenewalNotice.objects.filter(kind=NoticeKind.ESCALATION_DUE).values_list("recipient", flat=True)) == [
        personas["sales_manager"].pk
    ]
    assert RenewalCase.objects.get().status == CaseStatus.IN_OUTREACH


def test_a_case_lapses_the_day_after_its_date_and_says_so_on_home_pages(subscription, scan, client_for, rep):
    scan(days_before(30))
    scan(RENEWS)
    assert RenewalCase.objects.get().status == CaseStatus.UPCOMING  # not lapsed on the day itself
    result = scan(RENEWS + dt.timedelta(days=1))
    case = RenewalCase.objects.get()
    assert (result.lapsed, case.status) == (1, CaseStatus.LAPSED)
    assert case.history.first().history_change_reason == "Lapsed: the renewal date passed with no outcome"
    lapsed_to = set(RenewalNotice.objects.filter(kind=NoticeKind.LAPSED).values_list("recipient__username", flat=True))
    assert lapsed_to == {"sales_rep", "customer_relations", "sales_manager"}
    for role in ("sales_rep", "sales_manager"):
        page = client_for(role).get(reverse("home")).content.decode()
        assert "Lapsed renewals" in page
        assert subscription.account.code in page
    assert scan(RENEWS + dt.timedelta(days=2)).lapsed == 0


def test_the_lapse_notice_leaves_the_home_page_once_an_outcome_is_recorded(subscription, scan, client_for, coordinator):
    scan(RENEWS + dt.timedelta(days=1))
    case = RenewalCase.objects.get()
    assert case.status == CaseStatus.LAPSED
    services.renew(case=case, actor=coordinator, new_term_end=RENEWS.replace(year=2027), note="Signed late")
    assert "Lapsed renewals" not in client_for("sales_rep").get(reverse("home")).content.decode()


# --- Outcomes -------------------------------------------------------------------------------------


def test_renewing_moves_the_renewal_date_with_history_naming_the_case(subscription, scan, coordinator):
    scan(days_before(30))
    case = RenewalCase.objects.get()
    services.renew(case=case, actor=coordinator, new_term_end=dt.date(2027, 7, 1), note="Three more years")
    subscription.refresh_from_db()
    assert subscription.renewal_date == dt.date(2027, 7, 1)
    latest = subscription.history.first()
    assert latest.history_user == coordinator
    assert f"renewal case #{case.pk}" in latest.history_change_reason
    case.refresh_from_db()
    assert (case.status, case.new_term_end, case.closed_by) == (CaseStatus.RENEWED, dt.date(2027, 7, 1), coordinator)
    # The next term opens its own case when its 90 days come.
    assert scan(dt.date(2027, 4, 2)).opened == 1


def test_a_new_value_at_renewal_is_finance_s_to_set(subscription, scan, coordinator, personas):
    scan(days_before(30))
    case = RenewalCase.objects.get()
    with pytest.raises(OwnershipError):
        services.renew(case=case, actor=coordinator, new_term_end=dt.date(2027, 7, 1), new_value=Decimal("40000"))
    subscription.refresh_from_db()
    assert (subscription.renewal_date, RenewalCase.objects.get().status) == (RENEWS, CaseStatus.UPCOMING)
    steward = personas["data_steward"]
    services.renew(case=case, actor=steward, new_term_end=dt.date(2027, 7, 1), new_value=Decimal("40000"))
    subscription.refresh_from_db()
    assert subscription.annual_value == Decimal("40000.00")
    assert f"renewal case #{case.pk}" in subscription.history.first().history_change_reason


def test_losing_a_renewal_ends_the_subscription_with_the_reason(subscription, scan, coordinator):
    scan(days_before(30))
    case = RenewalCase.objects.get()
    services.lose(case=case, actor=coordinator, reason=LostReason.COMPETITOR, note="Went to a competitor")
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.CANCELLED
    assert f"renewal case #{case.pk}" in subscription.history.first().history_change_reason
    case.refresh_from_db()
    assert (case.status, case.lost_reason) == (CaseStatus.LOST, LostReason.COMPETITOR)
    assert scan(RENEWS + dt.timedelta(days=1)).lapsed == 0


@pytest.mark.parametrize("role", ["sales_rep", "sales_manager", "support_agent", "finance", "executive"])
def test_only_customer_relations_records_an_outcome(subscription, scan, personas, role):
    scan(days_before(30))
    case = RenewalCase.objects.get()
    with pytest.raises(OwnershipError):
        services.renew(case=case, actor=personas[role], new_term_end=dt.date(2027, 7, 1))
    with pytest.raises(OwnershipError):
        services.lose(case=case, actor=personas[role], reason=LostReason.PRICE)
    subscription.refresh_from_db()
    assert (subscription.renewal_date, subscription.status) == (RENEWS, SubscriptionStatus.ACTIVE)
    assert RenewalCase.objects.get().status == CaseStatus.UPCOMING


def test_another_rep_cannot_log_outreach_on_my_renewal(subscription, scan):
    scan(days_before(30))
    case = RenewalCase.objects.get()
    other = UserFactory(username="other_rep", roles=["sales_rep"])
    with pytest.raises(OwnershipError):
        services.log_outreach(case=case, actor=other, kind="call", note="Hello")
    case.refresh_from_db()
    assert (case.status, case.last_outreach_at) == (CaseStatus.UPCOMING, None)


def test_the_case_pages_post_outcomes_for_customer_relations_only(subscription, scan, client_for):
    scan(days_before(30))
    case = RenewalCase.objects.get()
    url = reverse("renewals:case_lose", args=[case.pk])
    assert client_for("sales_rep").post(url, {"reason": "price"}).status_code == 403
    assert RenewalCase.objects.get().status == CaseStatus.UPCOMING
    response = client_for("customer_relations").post(url, {"reason": "price", "note": "Too dear"})
    assert response.status_code == 302
    assert RenewalCase.objects.get().status == CaseStatus.LOST


def test_the_owner_logs_outreach_on_the_case_page(subscription, scan, client_for):
    scan(days_before(30))
    case = RenewalCase.objects.get()
    client_for("sales_rep").post(reverse("renewals:case_outreach", args=[case.pk]), {"kind": "call", "note": "Called"})
    assert RenewalCase.objects.get().status == CaseStatus.IN_OUTREACH
    page = client_for("sales_rep").get(case.get_absolute_url()).content.decode()
    assert "Outreach logged" in page


# --- Data quality --------------------------------------------------------------------------------


def test_a_live_subscription_without_a_renewal_date_is_listed_for_customer_relations(rep, scan, client_for):
    sub = client_renewing(rep, renewal_date=RENEWS)
    Subscription.objects.filter(pk=sub.pk).update(renewal_date=None)
    assert scan(days_before(30)).missing_dates == 1
    page = client_for("customer_relations").get(reverse("renewals:finding_list")).content.decode()
    assert sub.account.code in page
    assert (
        "live subscription(s) have no renewal date"
        in client_for("customer_relations").get(reverse("home")).content.decode()
    )


def test_a_corrected_renewal_date_moves_the_open_case(subscription, scan):
    scan(days_before(30))
    Subscription.objects.filter(pk=subscription.pk).update(renewal_date=dt.date(2026, 8, 1))
    result = scan(days_before(29))
    assert (result.moved, result.opened) == (1, 0)
    assert RenewalCase.objects.get().term_end == dt.date(2026, 8, 1)


# --- run_nightly and beat -------------------------------------------------------------------------


def test_run_nightly_runs_every_nightly_job(subscription, clock, capsys):
    import io

    clock.set(days_before(90))
    out = io.StringIO()
    call_command("run_nightly", stdout=out)
    text = out.getvalue()
    assert "Renewals: 1 case(s) opened" in text
    assert "Churn risk:" in text
    assert "duplicate" in text.lower()


def test_the_beat_schedule_runs_the_renewal_scan(settings):
    from renewals import tasks

    assert settings.CELERY_BEAT_SCHEDULE["renewals-nightly-scan"]["task"] == tasks.nightly_scan.name


# --- Calendar feed ---------------------------------------------------------------------------------


def _feed(client, token: CalendarToken):
    response = client.get(reverse("renewals:calendar_feed", args=[token.token]))
    return response, (Calendar.from_ical(response.content) if response.status_code == 200 else None)


def test_the_calendar_feed_parses_and_keeps_its_uids(rep, coordinator, scan, client):
    mine = client_renewing(rep, coordinator, renewal_date=RENEWS)
    not_mine = client_renewing(UserFactory(username="other_rep", roles=["sales_rep"]), renewal_date=RENEWS)
    scan(days_before(60))
    token = services.create_calendar_token(actor=rep)
    response, calendar = _feed(client, token)
    assert response["Content-Type"].startswith("text/calendar")
    events = calendar.walk("VEVENT")
    assert [str(e["summary"]) for e in events] == [
        f"Renewal: {mine.account.code} {mine.account.display_name} - {mine.product.name}"
    ]
    assert events[0].decoded("dtstart") == RENEWS
    assert events[0].decoded("dtend") == RENEWS + dt.timedelta(days=1)
    description = str(events[0]["description"])
    assert "Value at stake: $12,000.00 a year" in description
    assert "Churn risk: no score" in description
    assert RenewalCase.objects.get(subscription=mine).get_absolute_url() in description
    assert not_mine.account.code not in response.content.decode()
    first_uids = [str(e["uid"]) for e in events]
    scan(days_before(59))
    _, again = _feed(client, token)
    assert [str(e["uid"]) for e in again.walk("VEVENT")] == first_uids


def test_a_revoked_token_is_refused(rep, scan, client):
    client_renewing(rep, renewal_date=RENEWS)
    token = services.create_calendar_token(actor=rep)
    services.revoke_calendar_token(token=token, actor=rep)
    response, _ = _feed(client, token)
    assert response.status_code == 404


def test_the_team_feed_is_for_customer_relations_and_lists_every_open_case(rep, coordinator, scan, client, personas):
    client_renewing(rep, renewal_date=RENEWS)
    client_renewing(UserFactory(username="other_rep", roles=["sales_rep"]), renewal_date=RENEWS)
    scan(days_before(60))
    with pytest.raises(OwnershipError):
        services.create_calendar_token(actor=rep, team=True)
    team = services.create_calendar_token(actor=coordinator, team=True)
    _, calendar = _feed(client, team)
    assert len(calendar.walk("VEVENT")) == 2


def test_the_profile_page_shows_the_feed_and_revokes_it(client_for, rep):
    client = client_for("sales_rep")
    client.post(reverse("renewals:token_add"))
    token = CalendarToken.objects.get(user=rep)
    assert token.token in client.get(reverse("profile")).content.decode()
    client.post(reverse("renewals:token_revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_nobody_revokes_someone_else_s_feed(client_for, rep):
    token = services.create_calendar_token(actor=rep)
    client_for("finance").post(reverse("renewals:token_revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is None


# --- Board, export and panels ---------------------------------------------------------------------


def test_the_board_shows_windows_value_at_stake_and_the_forecast(rep, coordinator, scan, client_for):
    client_renewing(rep, coordinator, renewal_date=days_before(-20), value="10000")
    client_renewing(rep, coordinator, renewal_date=days_before(-50), value="20000")
    scan(RENEWS)
    response = client_for("executive").get(reverse("renewals:board"))
    windows = response.context["windows"]
    assert (windows["30"]["count"], windows["30"]["value"]) == (1, Decimal("10000"))
    assert (windows["60"]["count"], windows["60"]["value"]) == (1, Decimal("20000"))
    months = response.context["months"]
    assert months[0].start == dt.date(2026, 7, 1)
    # No churn-risk score yet: each counts at the no-score weight (85%).
    assert months[0].weighted == Decimal("10000") * Decimal("0.85")
    assert months[1].weighted == Decimal("20000") * Decimal("0.85")


def test_the_forecast_weights_each_case_by_its_churn_risk_band(rep, scan, client_for):
    from support_bridge.models import RiskScore

    sub = client_renewing(rep, renewal_date=days_before(-20), value="10000")
    RiskScore.objects.create(account=sub.account, score=80, band="high", reasons=["7 tickets"])
    scan(RENEWS)
    response = client_for("sales_manager").get(reverse("renewals:board"), {"band": "high"})
    assert response.context["months"][0].weighted == Decimal("4000.00")
    assert "high risk x 40%" in response.content.decode()
    assert response.context["page"].paginator.count == 1
    low = client_for("sales_manager").get(reverse("renewals:board"), {"band": "low"})
    assert low.context["page"].paginator.count == 0


def test_the_board_keeps_a_fixed_query_count(rep, coordinator, scan, client_for, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for n in (1, 25):
        for i in range(n - RenewalCase.objects.count()):
            client_renewing(rep, coordinator, renewal_date=RENEWS + dt.timedelta(days=i % 60))
        scan(days_before(10))
        client = client_for("sales_manager")  # after the clock moved, so the session is fresh
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("renewals:board")).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    assert counts[1] <= 15


def test_the_export_is_formula_safe(rep, scan, client_for):
    from io import BytesIO

    from openpyxl import load_workbook

    sub = client_renewing(rep, renewal_date=RENEWS, legal_name='=HYPERLINK("http://evil","x")')
    scan(days_before(30))
    client = client_for("finance")
    csv_text = client.get(reverse("renewals:board_export"), {"format": "csv"}).content.decode()
    assert "'=HYPERLINK" in csv_text
    assert sub.account.code in csv_text
    workbook = load_workbook(BytesIO(client.get(reverse("renewals:board_export"), {"format": "xlsx"}).content))
    cells = [c.value for row in workbook.active.iter_rows() for c in row]
    assert '\'=HYPERLINK("http://evil","x")' in cells
    assert not any(isinstance(c, str) and c.startswith("=") for c in cells)


def test_the_360_page_and_the_agent_lookup_show_each_subscription_s_case(subscription, scan, client_for):
    scan(days_before(30))
    case = RenewalCase.objects.get()
    page = client_for("support_agent").get(subscription.account.get_absolute_url()).content.decode()
    assert "Renewal cases" in page
    assert case.get_absolute_url() in page
    lookup = (
        client_for("support_agent").get(reverse("support:lookup"), {"q": subscription.account.code}).content.decode()
    )
    assert case.get_absolute_url() in lookup


# --- Demo -------------------------------------------------------------------------------------------


def test_the_demo_has_cases_in_every_state_reminders_an_escalation_and_a_lapse(personas, clock):
    from renewals.demo import seed_demo_renewals

    rep, coordinator = personas["sales_rep"], personas["customer_relations"]
    today = clock.today
    for days in (-40, -5, 3, 10, 20, 25, 30, 35, 40, 45, 50, 55, 60, 70, 80):
        client_renewing(rep, coordinator, renewal_date=today + dt.timedelta(days=days))
    lines = seed_demo_renewals(seed=1, today=today)
    assert {s for s in RenewalCase.objects.values_list("status", flat=True)} == set(CaseStatus.values)
    assert RenewalNotice.objects.filter(kind__startswith="remind").exists()
    assert RenewalNotice.objects.filter(kind=NoticeKind.ESCALATION_NO_OUTREACH).exists()
    assert RenewalNotice.objects.filter(kind=NoticeKind.LAPSED).exists()
    assert not RenewalNotice.objects.unsent().exists()
    assert lines[0].startswith("Renewal cases:")
    assert seed_demo_renewals(seed=1, today=today) == ["Renewal cases already exist: nothing to do."]


# --- The legacy calendar (D7) ---------------------------------------------------------------------------


def test_the_legacy_calendar_s_gaps_are_listed_for_customer_relations_with_their_cases(rep, scan, client_for):
    from django.contrib.contenttypes.models import ContentType

    from migration.choices import FileStatus, Store
    from migration.models import ImportFile, ImportRun, Provenance

    in_calendar = client_renewing(rep, renewal_date=days_before(-10))
    lacking = client_renewing(rep, renewal_date=days_before(-20))
    run = ImportRun.objects.create()
    ImportFile.objects.create(
        run=run,
        name="outlook_renewals.csv",
        store=Store.CALENDAR,
        status=FileStatus.IMPORTED,
        rejected_csv="row,Subject,Start Date,All day event,reason\n"
        "7,Renewal: Gone Pty Ltd - DataVault,1/07/2026,True,CC404 has no live DataVault subscription\n",
    )
    Provenance.objects.create(
        content_type=ContentType.objects.get_for_model(Subscription),
        object_id=in_calendar.pk,
        store=Store.CALENDAR,
        file="outlook_renewals.csv",
        row=2,
    )
    scan(RENEWS)
    page = client_for("customer_relations").get(reverse("renewals:finding_list")).content.decode()
    assert "CC404 has no live DataVault subscription" in page
    assert RenewalCase.objects.get(subscription=lacking).get_absolute_url() in page
    assert RenewalCase.objects.get(subscription=in_calendar).get_absolute_url() not in page


def test_the_board_filters_refresh_only_the_table_under_htmx(subscription, scan, client_for):
    scan(days_before(30))
    response = client_for("executive").get(reverse("renewals:board"), {"window": "30"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert subscription.account.code in html
    assert response.context["page"].paginator.count == 1
    later = client_for("executive").get(reverse("renewals:board"), {"window": "90"}, HTTP_HX_REQUEST="true")
    assert later.context["page"].paginator.count == 0


def test_escalation_emails_reach_the_sales_managers(subscription, scan, personas):
    scan(days_before(14))
    to_manager = [m for m in mail.outbox if m.to == [personas["sales_manager"].email]]
    assert len(to_manager) == 1
    assert "no outreach" in to_manager[0].subject
