"""Reports: frozen months, the board pack (HTML, XLSX, PDF), retention as defined, role
dashboards within a fixed query budget, and the weekly digest."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from decimal import Decimal
from io import BytesIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from customers import services as customer_services
from customers.choices import Office, OpportunityStage, SubscriptionStatus
from customers.models import Account, Activity, Opportunity, Subscription
from reports import dashboards, digests, metrics, services
from reports.choices import DigestStatus, FreezeAction, SnapshotSource
from reports.models import AccountSnapshot, DigestDelivery, MonthSnapshot, SnapshotFreeze, add_months
from tests.factories import AccountFactory, OpportunityFactory, SubscriptionFactory, UserFactory, product
from tests.factories_support import ChurnAlertFactory, RiskScoreFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_cached_dashboards():
    """Dashboards cache whole-table figures; each test starts without them."""
    dashboards.forget_cached()
    yield
    dashboards.forget_cached()


MONTH = services.last_complete_month()
BEFORE_MONTH = timezone.make_aware(dt.datetime.combine(add_months(MONTH, -1), dt.time(9)))


def backdate_history(when: dt.datetime = BEFORE_MONTH) -> None:
    """Move every history row written so far to `when`: as if the records had existed
    since then (factories write history at the moment they run)."""
    for model in (Account, Subscription, Opportunity, Activity):
        model.history.model.objects.update(history_date=when)
    from support_bridge.models import RiskScore

    RiskScore.history.model.objects.update(history_date=when)


def make_client(owner, *, value: str = "12000.00", code_product: str = "datavault", office=Office.PERTH) -> Account:
    account = AccountFactory(owner=owner, office=office)
    SubscriptionFactory(
        account=account,
        product=product(code_product),
        annual_value=Decimal(value),
        start_date=dt.date(2024, 7, 1),
        renewal_date=dt.date(2027, 7, 1),
    )
    return account


# --- Definitions, checked by hand ------------------------------------------------------------


def test_grr_and_nrr_are_computed_as_defined_on_a_hand_checked_example():
    # A: 1,000 -> 1,200 (expansion 200); B: 2,000 -> 1,500 (contraction 500);
    # C: 500 -> 0 (churn 500); E: none -> 800 (new 800). Start 3,500; end 3,500.
    before = {"A": Decimal("1000"), "B": Decimal("2000"), "C": Decimal("500")}
    after = {"A": Decimal("1200"), "B": Decimal("1500"), "C": Decimal("0"), "E": Decimal("800")}
    movement = metrics.arr_movement(before, after)
    assert (movement.start, movement.end) == (Decimal("3500"), Decimal("3500"))
    assert (movement.new, movement.expansion) == (Decimal("800"), Decimal("200"))
    assert (movement.contraction, movement.churn) == (Decimal("500"), Decimal("500"))
    assert movement.grr == Decimal("2500") / Decimal("3500")  # (3500 - 500 - 500) / 3500 = 71.4%
    assert movement.nrr == Decimal("2700") / Decimal("3500")  # (3500 + 200 - 500 - 500) / 3500 = 77.1%
    assert movement.as_dict()["grr"] == 0.7143 and movement.as_dict()["nrr"] == 0.7714


def test_retention_is_not_defined_when_nothing_was_held_at_the_start():
    movement = metrics.arr_movement({}, {"A": Decimal("100")})
    assert movement.grr is None
    assert movement.nrr is None


def test_the_funnel_counts_each_deal_at_every_stage_it_passed(personas):
    rep = personas["sales_rep"]
    account = AccountFactory(owner=rep)
    for stage in ["suspect", "suspect", "qualified", "won", "lost"]:
        OpportunityFactory(account=account, owner=rep, stage=stage, amount=Decimal("1000"))
    backdate_history()
    snapshot, _ = services.freeze_month(month=MONTH)
    pipeline = snapshot.totals["pipeline"]
    reached = {row["stage"]: row["count"] for row in pipeline["reached"]}
    # suspect: all 5; prospect and qualified: the qualified and the won deal; meeting, proposal, won: the won deal.
    assert reached == {"suspect": 5, "prospect": 2, "qualified": 2, "meeting": 1, "proposal": 1, "won": 1}
    rates = {row["from"]: row["rate"] for row in pipeline["conversions"]}
    assert rates["suspect"] == 0.4
    assert rates["qualified"] == 0.5


# --- Freezing ------------------------------------------------------------------------------


def test_a_frozen_month_keeps_its_figures_after_the_live_record_is_edited(personas, client_for):
    account = make_client(personas["sales_rep"], value="12000.00")
    backdate_history()
    services.freeze_month(month=MONTH)
    subscription = account.subscriptions.get()
    customer_services.update_subscription(
        subscription=subscription,
        changes={"annual_value": Decimal("99000.00")},
        expected_version=subscription.version,
        actor=personas["finance"],
        reason="price rise",
    )
    customer_services.update_account(
        account=account,
        changes={"office": Office.SYDNEY},
        expected_version=account.version,
        actor=personas["customer_relations"],
        reason="moved",
    )
    again, written = services.freeze_month(month=MONTH)  # the scheduled job running twice
    assert not written
    row = AccountSnapshot.objects.get(snapshot=again, account=account)
    assert (row.arr, row.office) == (Decimal("12000.00"), Office.PERTH)
    assert again.totals["headline"]["arr"] == 12000.0
    html = client_for("executive").get(reverse("reports:board_pack", args=[MONTH.strftime("%Y-%m")])).content.decode()
    assert "$12,000" in html
    assert "$99,000" not in html


def test_a_steward_re_freezes_a_month_with_a_reason_and_it_is_recorded(personas):
    account = make_client(personas["sales_rep"], value="12000.00")
    backdate_history()
    snapshot, _ = services.freeze_month(month=MONTH)
    # A correction dated inside the month (history says what it was then).
    subscription = account.subscriptions.get()
    subscription.annual_value = Decimal("15000.00")
    subscription.save()
    Subscription.history.filter(id=subscription.pk).order_by("-history_id").update(
        history_date=BEFORE_MONTH + dt.timedelta(days=20)
    )
    refrozen = services.refreeze_month(month=MONTH, actor=personas["data_steward"], reason="Xero correction for May")
    assert refrozen.pk == snapshot.pk and refrozen.version == 2
    assert refrozen.totals["headline"]["arr"] == 15000.0
    record = SnapshotFreeze.objects.get(action=FreezeAction.REFREEZE)
    assert (record.actor, record.reason) == (personas["data_steward"], "Xero correction for May")
    assert (record.headline_before["arr"], record.headline_after["arr"]) == (12000.0, 15000.0)


@pytest.mark.parametrize("role", ["executive", "finance", "sales_manager"])
def test_only_a_steward_may_re_freeze_and_a_refusal_changes_nothing(personas, client_for, role):
    make_client(personas["sales_rep"])
    backdate_history()
    snapshot, _ = services.freeze_month(month=MONTH)
    with pytest.raises(services.FreezeError):
        services.refreeze_month(month=MONTH, actor=personas[role], reason="because")
    url = reverse("reports:snapshot_refreeze", args=[MONTH.strftime("%Y-%m")])
    assert client_for(role).post(url, {"reason": "because"}).status_code == 403
    snapshot.refresh_from_db()
    assert snapshot.version == 1
    assert SnapshotFreeze.objects.filter(action=FreezeAction.REFREEZE).count() == 0


def test_a_re_freeze_without_a_reason_is_refused(personas, client_for):
    make_client(personas["sales_rep"])
    services.freeze_month(month=MONTH)
    url = reverse("reports:snapshot_refreeze", args=[MONTH.strftime("%Y-%m")])
    assert client_for("data_steward").post(url, {"reason": ""}).status_code == 400
    assert MonthSnapshot.objects.get().version == 1


def test_snapshot_month_is_idempotent_and_refuses_a_month_not_yet_over(personas, capsys):
    make_client(personas["sales_rep"])
    call_command("snapshot_month", MONTH.strftime("%Y-%m"))
    call_command("snapshot_month", MONTH.strftime("%Y-%m"))
    output = capsys.readouterr().out
    assert "already frozen" in output
    assert MonthSnapshot.objects.count() == 1
    assert AccountSnapshot.objects.count() == 1
    this_month = timezone.localdate().strftime("%Y-%m")
    with pytest.raises(Exception, match="has not ended yet"):
        call_command("snapshot_month", this_month)


def test_the_backfill_freezes_past_months_oldest_first_marked_rebuilt(personas):
    make_client(personas["sales_rep"], value="12000.00")
    results = services.freeze_recent(months=3)
    months = [snapshot.month for snapshot, _ in results]
    assert months == [add_months(MONTH, -2), add_months(MONTH, -1), MONTH]
    assert all(snapshot.source == SnapshotSource.REBUILT for snapshot, _ in results)
    # The subscription started in 2024, so each month counts it even though its history
    # (written today) does not reach back: its oldest known state stands in.
    assert [s.totals["headline"]["arr"] for s, _ in results] == [12000.0, 12000.0, 12000.0]
    assert results[-1][0].totals["movement"]["counts"]["flat"] == 1


def test_movement_between_months_classifies_each_account(personas):
    rep = personas["sales_rep"]
    grows, shrinks, leaves = (make_client(rep, value="1000.00") for _ in range(3))
    backdate_history(timezone.make_aware(dt.datetime.combine(add_months(MONTH, -2), dt.time(9))))
    services.freeze_month(month=add_months(MONTH, -1))
    inside = BEFORE_MONTH + dt.timedelta(days=40)  # during MONTH
    for account, value, status in ((grows, "1500.00", None), (shrinks, "400.00", None), (leaves, None, "cancelled")):
        sub = account.subscriptions.get()
        if value:
            sub.annual_value = Decimal(value)
        if status:
            sub.status = status
        sub.save()
    newcomer = make_client(rep, value="700.00")
    Subscription.history.filter(history_date__gt=inside).update(history_date=inside)
    Account.history.filter(id=newcomer.pk).update(history_date=inside)
    snapshot, _ = services.freeze_month(month=MONTH)
    move = snapshot.totals["movement"]
    assert (move["start"], move["end"]) == (3000.0, 2600.0)
    assert (move["new"], move["expansion"], move["contraction"], move["churn"]) == (700.0, 500.0, 600.0, 1000.0)
    assert move["grr"] == round((3000 - 600 - 1000) / 3000, 4)
    assert move["nrr"] == round((3000 + 500 - 600 - 1000) / 3000, 4)
    kinds = dict(AccountSnapshot.objects.filter(snapshot=snapshot).values_list("account_id", "movement"))
    assert kinds == {grows.pk: "expansion", shrinks.pk: "contraction", leaves.pk: "churn", newcomer.pk: "new"}


def test_renewals_in_the_month_are_counted_by_outcome(personas):
    rep = personas["sales_rep"]
    due = dt.date(MONTH.year, MONTH.month, 15)
    subs = []
    for _ in range(4):
        account = AccountFactory(owner=rep)
        subs.append(
            SubscriptionFactory(
                account=account, start_date=dt.date(2024, 1, 1), renewal_date=due, annual_value=Decimal("100")
            )
        )
    backdate_history()
    renewed, lost, lapsed, _open = subs
    renewed.renewal_date = due.replace(year=due.year + 1)
    renewed.save()
    lost.status = SubscriptionStatus.CANCELLED
    lost.save()
    lapsed.status = SubscriptionStatus.LAPSED
    lapsed.save()
    inside = timezone.make_aware(dt.datetime.combine(due, dt.time(12)))
    Subscription.history.filter(history_date__gt=BEFORE_MONTH).update(history_date=inside)
    snapshot, _ = services.freeze_month(month=MONTH)
    renewals = snapshot.totals["renewals"]
    assert {k: renewals[k] for k in ("due", "renewed", "lost", "lapsed", "open")} == {
        "due": 4,
        "renewed": 1,
        "lost": 1,
        "lapsed": 1,
        "open": 1,
    }


# --- The board pack --------------------------------------------------------------------------


@pytest.fixture
def frozen_pack(personas):
    rep = personas["sales_rep"]
    make_client(rep, value="48000.00", code_product="datavault")
    make_client(rep, value="22000.00", code_product="cloudsync", office=Office.SYDNEY)
    risky = make_client(rep, value="5000.00", code_product="managed-services")
    RiskScoreFactory(account=risky)
    backdate_history()
    services.freeze_month(month=add_months(MONTH, -1))
    snapshot, _ = services.freeze_month(month=MONTH)
    return snapshot


def _html_value(html: str, table: str, label: str, column: int = 1) -> float:
    """The number behind a figure in the HTML page (`column` counts the row's cells from 0)."""
    section = html.split(f'data-table="{table}"', 1)[1].split("</table>", 1)[0]
    row = section.split(f'<th scope="row">{label}</th>', 1)[1].split("</tr>", 1)[0]
    return float(re.findall(r'data-value="([^"]*)"', row)[column - 1])


def _sheet_rows(book, title_start: str) -> list[tuple]:
    sheet = next(ws for ws in book.worksheets if ws.title.partition(" ")[2].startswith(title_start))
    return list(sheet.iter_rows(values_only=True)), sheet


def test_the_xlsx_opens_its_numbers_are_the_htmls_and_its_charts_exist(frozen_pack, client_for):
    client = client_for("finance")
    slug = frozen_pack.slug
    html = client.get(reverse("reports:board_pack", args=[slug])).content.decode()
    response = client.get(reverse("reports:board_pack_xlsx", args=[slug]))
    assert response.status_code == 200
    book = load_workbook(BytesIO(response.content))
    rows, sheet = _sheet_rows(book, "Headline")
    arr_row = next(r for r in rows if r[0] == "ARR (AUD)")
    assert isinstance(arr_row[1], float | int)
    assert arr_row[1] == _html_value(html, "headline", "ARR (AUD)") == 75000.0
    rows, arr_sheet = _sheet_rows(book, "Clients and ARR")
    datavault = next(r for r in rows if r[0] == "DataVault")
    assert datavault[2] == _html_value(html, "products", "DataVault", 2) == 48000.0
    assert len(arr_sheet._charts) == 4  # product, service line, office, segment
    assert len(sheet._charts) == 1  # the ARR trend
    every_number = [
        c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.data_type == "n" and c.value is not None
    ]
    assert every_number, "numbers are written as numbers"


def test_text_that_looks_like_a_formula_is_written_as_text():
    from reports.exports import safe_text

    assert safe_text('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert safe_text("-5 apples") == "'-5 apples"
    assert safe_text("DataVault") == "DataVault"


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext)")
def test_the_pdf_renders_and_holds_the_headline_figures(frozen_pack, client_for, tmp_path):
    response = client_for("executive").get(reverse("reports:board_pack_pdf", args=[frozen_pack.slug]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    path = tmp_path / "pack.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Board pack" in text
    assert "$75,000" in text  # ARR
    assert "Clients at high churn risk" in text


def test_each_figure_links_to_the_accounts_behind_it(frozen_pack, client_for):
    client = client_for("executive")
    html = client.get(reverse("reports:board_pack", args=[frozen_pack.slug])).content.decode()
    link = reverse("reports:pack_accounts", args=[frozen_pack.slug]) + "?risk=high"
    assert link in html
    listed = client.get(link).content.decode()
    assert listed.count("/customers/CC") == 1


def test_the_board_pack_runs_a_fixed_number_of_queries_at_two_sizes(personas, client_for):
    rep = personas["sales_rep"]
    make_client(rep)
    services.freeze_recent(months=2)
    client = client_for("executive")
    url = reverse("reports:board_pack", args=[MONTH.strftime("%Y-%m")])
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    MonthSnapshot.objects.all().delete()
    for _ in range(15):
        make_client(rep)
    services.freeze_recent(months=13)
    with CaptureQueriesContext(connection) as big:
        assert client.get(url).status_code == 200
    assert len(small) == len(big) <= 8


# --- Dashboards ------------------------------------------------------------------------------

HEADINGS = {
    "executive": "The business at a glance",
    "sales_manager": "Team pipeline, renewals and risk",
    "sales_rep": "Your funnel and forecast",
    "customer_relations": "Renewals and data to fix",
    "finance": "ARR and billing",
    "support_agent": "Open high-priority tickets and clients at risk",
    "data_steward": "Stewardship queues and data quality",
    "provisioning": "Subscriptions to provision",
}


def _populate(count: int, personas) -> None:
    for _ in range(count):
        account = make_client(personas["sales_rep"])
        SubscriptionFactory(account=account, renewal_date=None, status=SubscriptionStatus.PENDING)
        OpportunityFactory(account=account, owner=personas["sales_rep"], expected_close=timezone.localdate())
        TicketFactory(account=account, status="open", priority="high")
        RiskScoreFactory(account=account)
        ChurnAlertFactory(account=account)


@pytest.mark.parametrize("role", sorted(HEADINGS))
def test_each_roles_dashboard_renders_within_its_query_budget_at_two_sizes(role, personas, client_for):
    client = client_for(role)
    _populate(1, personas)
    services.freeze_month(month=MONTH)
    with CaptureQueriesContext(connection) as small:
        html = client.get(reverse("home")).content.decode()
    assert HEADINGS[role] in html
    _populate(20, personas)
    dashboards.forget_cached()
    with CaptureQueriesContext(connection) as big:
        assert client.get(reverse("home")).status_code == 200
    assert len(small) == len(big) <= 20
    with CaptureQueriesContext(connection) as cached:
        assert client.get(reverse("home")).status_code == 200
    assert len(cached) <= len(big)


def test_a_role_sees_only_its_own_dashboards(client_for, personas):
    html = client_for("support_agent").get(reverse("home")).content.decode()
    assert HEADINGS["support_agent"] in html
    assert HEADINGS["executive"] not in html
    assert HEADINGS["finance"] not in html


# --- Weekly digest ---------------------------------------------------------------------------

MONDAY = timezone.make_aware(dt.datetime(2026, 12, 7, 7, 0))


def _owner_with_news(personas):
    rep = personas["sales_rep"]
    account = AccountFactory(owner=rep)
    SubscriptionFactory(account=account, renewal_date=MONDAY.date() + dt.timedelta(days=30))
    return rep, account


def test_a_digest_is_not_sent_when_there_is_nothing_to_say(personas):
    AccountFactory(owner=personas["sales_rep"])
    counts = digests.send_digests(now=MONDAY)
    assert counts["sent"] == 0 and counts["empty"] == 1
    assert mail.outbox == []
    assert DigestDelivery.objects.get().status == DigestStatus.EMPTY


def test_a_digest_is_sent_once_per_week_even_if_the_job_runs_twice(personas):
    _owner_with_news(personas)
    first = digests.send_digests(now=MONDAY)
    second = digests.send_digests(now=MONDAY + dt.timedelta(hours=2))
    assert (first["sent"], second["sent"], second["already"]) == (1, 0, 1)
    assert len(mail.outbox) == 1
    next_week = digests.send_digests(now=MONDAY + dt.timedelta(days=7))
    assert next_week["sent"] == 1


def test_a_digest_has_html_and_text_parts_with_links_back_and_an_unsubscribe_link(personas, settings, client):
    settings.SITE_URL = "https://crm.cloudcore.example"
    rep, account = _owner_with_news(personas)
    digests.send_digests(now=MONDAY)
    message = mail.outbox[0]
    assert message.to == [rep.email]
    html = message.alternatives[0][0]
    assert message.alternatives[0][1] == "text/html"
    assert f"https://crm.cloudcore.example/customers/{account.code}/" in message.body
    assert f"https://crm.cloudcore.example/customers/{account.code}/" in html
    unsubscribe = re.search(r"https://crm.cloudcore.example(/reports/digest/unsubscribe/[^/]+/)", message.body).group(1)
    assert client.post(unsubscribe).status_code == 200  # no login needed
    assert digests.wants_digest(rep) is False
    later = digests.send_digests(now=MONDAY + dt.timedelta(days=7))
    assert later["sent"] == 0
    assert len(mail.outbox) == 1


def test_a_forged_unsubscribe_token_changes_nothing(personas, client):
    rep, _ = _owner_with_news(personas)
    assert client.post(reverse("reports:digest_unsubscribe", args=["forged:token"])).status_code == 400
    assert digests.wants_digest(rep) is True


def test_the_digest_lists_alerts_risen_risk_and_stale_deals(personas):
    rep = personas["sales_rep"]
    account = AccountFactory(owner=rep)
    RiskScoreFactory(account=account, score=75, band="high")
    ChurnAlertFactory(account=account, owner=rep)
    deal = OpportunityFactory(account=account, owner=rep, stage=OpportunityStage.PROPOSAL)
    Opportunity.objects.filter(pk=deal.pk).update(created_at=MONDAY - dt.timedelta(days=60))
    digest = digests.build_digest(rep, now=MONDAY, before={})
    assert [r.account_id for r in digest.risen] == [account.pk]
    assert len(digest.alerts) == 1
    assert digest.stale_deals == [deal]
    Activity.objects.create(account=account, summary="Called", occurred_at=MONDAY - dt.timedelta(days=2))
    assert digests.build_digest(rep, now=MONDAY, before={}).stale_deals == []


def test_send_digests_dry_run_prints_and_sends_nothing(personas, capsys):
    _owner_with_news(personas)
    call_command("send_digests", "--dry-run")
    output = capsys.readouterr().out
    assert "would send 1" in output and "RENEWALS DUE" in output
    assert mail.outbox == []
    assert DigestDelivery.objects.count() == 0


def test_the_beat_freezes_on_the_first_and_sends_digests_on_monday_morning_in_perth(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE
    freeze = schedule["reports-freeze-last-month"]["schedule"]
    digest = schedule["reports-weekly-digests"]["schedule"]
    assert freeze.day_of_month == {1}
    assert (digest.day_of_week, digest.hour, digest.minute) == ({1}, {7}, {0})
    assert settings.CELERY_TIMEZONE == "Australia/Perth"


def test_digests_go_out_in_batches_over_one_connection(personas, settings, monkeypatch):
    settings.REPORTS_DIGEST_BATCH = 2
    opened = []
    real = digests.get_connection

    def counting(*args, **kwargs):
        connection = real(*args, **kwargs)
        opened.append(connection)
        return connection

    monkeypatch.setattr(digests, "get_connection", counting)
    for n in range(5):
        account = AccountFactory(owner=UserFactory(username=f"owner{n}", roles=["sales_rep"]))
        SubscriptionFactory(account=account, renewal_date=MONDAY.date() + dt.timedelta(days=10))
    counts = digests.send_digests(now=MONDAY)
    assert counts["sent"] == 5
    assert len(opened) == 1
    assert len(mail.outbox) == 5


def test_renewal_outcomes_of_a_month_come_from_the_renewal_cases(personas):
    import datetime as dt

    from reports import sources
    from tests.factories_renewals import RenewalCaseFactory, client_renewing

    rep = personas["sales_rep"]
    for status in ("renewed", "renewed", "lost", "lapsed", "upcoming"):
        sub = client_renewing(rep, renewal_date=dt.date(2026, 6, 15))
        RenewalCaseFactory(subscription=sub, status=status)
    later = client_renewing(rep, renewal_date=dt.date(2026, 7, 2))
    RenewalCaseFactory(subscription=later, status="renewed")
    figures = sources.renewal_case_figures(dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    assert figures == {"due": 5, "renewed": 2, "lost": 1, "lapsed": 1}


def test_the_customer_relations_dashboard_lists_open_renewal_cases(personas, client):
    import datetime as dt

    from django.utils import timezone

    from tests.factories_renewals import RenewalCaseFactory, client_renewing

    today = timezone.localdate()
    due = client_renewing(personas["sales_rep"], renewal_date=today + dt.timedelta(days=20), value="30000.00")
    RenewalCaseFactory(subscription=due, status="outreach")
    done = client_renewing(personas["sales_rep"], renewal_date=today + dt.timedelta(days=10))
    RenewalCaseFactory(subscription=done, status="renewed")
    client.force_login(personas["customer_relations"])
    html = client.get("/").content.decode()
    assert f"{due.account.code}</strong>" in html
    assert "$30,000/yr" in html and "In outreach" in html
    assert f'{done.account.code}</strong> {done.account.display_name}</a><div class="small">' not in html


def test_billing_drift_in_reports_comes_from_open_discrepancies(personas):
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from billing_sync.models import Discrepancy
    from reports import sources
    from tests.factories import AccountFactory

    rep = personas["sales_rep"]
    mine, other = AccountFactory(owner=rep), AccountFactory()
    now = timezone.now()
    week_ago = now - dt.timedelta(days=7)
    Discrepancy.objects.create(key="a", cause="value", account=mine, amount=Decimal("1200"), opened_at=week_ago)
    Discrepancy.objects.create(key="b", cause="value", account=mine, amount=Decimal("300"), opened_at=week_ago)
    Discrepancy.objects.create(key="c", cause="value", account=other, amount=Decimal("50"), opened_at=week_ago)
    Discrepancy.objects.create(
        key="d",
        cause="value",
        account=other,
        amount=Decimal("999"),
        opened_at=week_ago,
        status="resolved",
        resolved_at=now - dt.timedelta(days=1),
    )
    assert sources.billing_drift(now) == {"open": 3, "accounts": 2, "at_stake": Decimal("1550")}
    # Two days ago the resolved one was still open.
    assert sources.billing_drift(now - dt.timedelta(days=2))["open"] == 4
    assert sources.open_discrepancies_by_account(now) == {mine.pk: 2, other.pk: 1}
    assert [d["amount"] for d in sources.open_discrepancies_for_owner(rep)] == [Decimal("1200"), Decimal("300")]
