"""The shared pipeline: stage history, moves, the funnel's arithmetic, the forecast, saved
views, exports and the pages' query budgets."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from customers import services
from customers.choices import OpportunityStage
from customers.errors import OwnershipError, StaleMoveError
from customers.models import Opportunity, StageChange
from pipeline import metrics
from pipeline.models import SavedView
from tests.factories import AccountFactory, OpportunityFactory, UserFactory

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def _deal(personas, **values):
    values.setdefault("owner", personas["sales_rep"])
    values.setdefault("stage", OpportunityStage.QUALIFIED)
    return services.create_opportunity(
        account=AccountFactory(owner=values["owner"]),
        actor=personas["sales_manager"],
        name="Backup rollout",
        amount=Decimal("12000"),
        **values,
    )


# --- Stage history ---------------------------------------------------------------------


def test_creating_a_deal_records_where_it_started(personas):
    deal = _deal(personas)
    rows = list(StageChange.objects.filter(opportunity=deal))
    assert [(r.from_stage, r.to_stage, r.actor) for r in rows] == [("", "qualified", personas["sales_manager"])]


def test_each_move_writes_exactly_one_stage_row_with_who_when_and_why(personas):
    deal = _deal(personas)
    before = timezone.now()
    services.move_opportunity(
        opportunity=deal,
        to_stage="meeting",
        expected_stage="qualified",
        actor=personas["sales_rep"],
        reason="Demo booked",
    )
    moves = list(StageChange.objects.filter(opportunity=deal, from_stage="qualified"))
    assert len(moves) == 1
    assert (moves[0].to_stage, moves[0].actor, moves[0].reason) == ("meeting", personas["sales_rep"], "Demo booked")
    assert moves[0].at >= before
    deal.refresh_from_db()
    assert deal.stage == "meeting"
    latest = deal.history.latest()
    assert (latest.stage, latest.history_user, latest.history_change_reason) == (
        "meeting",
        personas["sales_rep"],
        "Demo booked",
    )


def test_an_edit_that_does_not_change_the_stage_writes_no_stage_row(personas):
    deal = _deal(personas)
    services.update_opportunity(
        opportunity=deal, changes={"amount": Decimal("15000")}, actor=personas["sales_rep"], reason="Bigger scope"
    )
    assert StageChange.objects.filter(opportunity=deal).count() == 1


def test_a_stale_move_is_refused_and_names_who_moved_it(personas):
    deal = _deal(personas)
    manager = personas["sales_manager"]
    services.move_opportunity(opportunity=deal, to_stage="meeting", expected_stage="qualified", actor=manager)
    with pytest.raises(StaleMoveError) as refused:
        services.move_opportunity(
            opportunity=deal, to_stage="prospect", expected_stage="qualified", actor=personas["sales_rep"]
        )
    assert manager.get_full_name() in str(refused.value)
    assert "Meeting" in str(refused.value)
    deal.refresh_from_db()
    assert deal.stage == "meeting"
    assert StageChange.objects.filter(opportunity=deal).count() == 2


def test_closing_as_lost_needs_a_reason_from_the_list(personas):
    deal = _deal(personas)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        services.move_opportunity(
            opportunity=deal, to_stage="lost", expected_stage="qualified", actor=personas["sales_rep"]
        )
    assert "lost_reason" in refused.value.message_dict
    deal.refresh_from_db()
    assert deal.stage == "qualified"
    assert StageChange.objects.filter(opportunity=deal).count() == 1
    services.move_opportunity(
        opportunity=deal,
        to_stage="lost",
        expected_stage="qualified",
        actor=personas["sales_rep"],
        lost_reason="competitor",
        lost_note="Incumbent cut price",
    )
    deal.refresh_from_db()
    assert (deal.stage, deal.lost_reason, deal.lost_note) == ("lost", "competitor", "Incumbent cut price")


def test_a_rep_cannot_move_another_reps_deal_and_nothing_changes(personas):
    other_rep = UserFactory(username="other_rep", roles=["sales_rep"])
    deal = _deal(personas, owner=other_rep)
    with pytest.raises(OwnershipError):
        services.move_opportunity(
            opportunity=deal, to_stage="meeting", expected_stage="qualified", actor=personas["sales_rep"]
        )
    deal.refresh_from_db()
    assert deal.stage == "qualified"
    assert StageChange.objects.filter(opportunity=deal).count() == 1


@pytest.mark.parametrize("role", ["support_agent", "finance", "customer_relations", "executive", "provisioning"])
def test_roles_outside_sales_cannot_move_deals_on_the_board(role, personas, client):
    deal = _deal(personas)
    client.force_login(personas[role])
    response = client.post(
        reverse("pipeline:deal_move", args=[deal.pk]), {"to_stage": "meeting", "expected_stage": "qualified"}
    )
    assert response.status_code == 403
    deal.refresh_from_db()
    assert deal.stage == "qualified"
    assert StageChange.objects.filter(opportunity=deal).count() == 1


def test_the_board_moves_a_card_and_answers_with_the_new_column_counts(personas, client):
    deal = _deal(personas)
    client.force_login(personas["sales_rep"])
    response = client.post(
        reverse("pipeline:deal_move", args=[deal.pk]),
        {"to_stage": "meeting", "expected_stage": "qualified"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-stage="meeting"' in html
    columns = {c["stage"]: c["count"] for c in response.context["columns"]}
    assert columns["meeting"] == 1
    assert columns["qualified"] == 0
    assert StageChange.objects.filter(opportunity=deal, to_stage="meeting", actor=personas["sales_rep"]).count() == 1


def test_a_stale_move_on_the_board_answers_409_with_who_moved_it(personas, client):
    deal = _deal(personas)
    services.move_opportunity(
        opportunity=deal, to_stage="proposal", expected_stage="qualified", actor=personas["sales_manager"]
    )
    client.force_login(personas["sales_rep"])
    response = client.post(
        reverse("pipeline:deal_move", args=[deal.pk]),
        {"to_stage": "meeting", "expected_stage": "qualified"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 409
    assert personas["sales_manager"].get_full_name() in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage == "proposal"


def test_losing_on_the_board_without_a_reason_is_refused(personas, client):
    deal = _deal(personas)
    client.force_login(personas["sales_rep"])
    response = client.post(
        reverse("pipeline:deal_move", args=[deal.pk]),
        {"to_stage": "lost", "expected_stage": "qualified"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert "Say why the deal was lost" in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage == "qualified"


def test_the_legacy_pipeline_import_records_the_stage_it_found_as_the_first_row(personas):
    from customers.bulk import BulkWriter

    account = AccountFactory()
    writer = BulkWriter(personas["data_steward"])
    deal = writer.create(
        Opportunity(account=account),
        values={"name": "From the workbook", "owner": personas["sales_rep"], "stage": "proposal", "amount": 10},
        reason="Pipeline - Chloe Bennett.xlsx row 4",
    )
    writer.flush()
    rows = list(StageChange.objects.filter(opportunity=deal).values_list("from_stage", "to_stage", "reason"))
    assert rows == [("", "proposal", "Pipeline - Chloe Bennett.xlsx row 4")]
    writer.update(deal, {"stage": "won"}, reason="Pipeline - Chloe Bennett.xlsx row 4, next import")
    writer.flush()
    assert StageChange.objects.filter(opportunity=deal).count() == 2
    assert StageChange.objects.filter(opportunity=deal, from_stage="proposal", to_stage="won").exists()


# --- The funnel's arithmetic, by hand --------------------------------------------------


def _t(day: int) -> dt.datetime:
    return dt.datetime(2026, 1, 1, tzinfo=UTC) + dt.timedelta(days=day)


def test_conversion_time_in_stage_win_rate_and_cycle_equal_a_hand_computed_example(settings):
    settings.PIPELINE_STUCK_DAYS = {"suspect": 60, "prospect": 45, "qualified": 30, "meeting": 30, "proposal": 21}
    deals = [
        metrics.Deal(1, "won", Decimal("100"), _t(0)),  # suspect -> prospect -> qualified -> meeting -> proposal -> won
        metrics.Deal(2, "lost", Decimal("50"), _t(0)),  # suspect -> prospect -> lost
        metrics.Deal(3, "qualified", Decimal("30"), _t(0)),  # suspect -> prospect -> qualified, still there
        metrics.Deal(4, "suspect", Decimal("20"), _t(0)),  # never moved
    ]
    moves = [
        metrics.Move(1, "", "suspect", _t(0)),
        metrics.Move(1, "suspect", "prospect", _t(10)),
        metrics.Move(1, "prospect", "qualified", _t(20)),
        metrics.Move(1, "qualified", "meeting", _t(30)),
        metrics.Move(1, "meeting", "proposal", _t(40)),
        metrics.Move(1, "proposal", "won", _t(50)),
        metrics.Move(2, "", "suspect", _t(0)),
        metrics.Move(2, "suspect", "prospect", _t(4)),
        metrics.Move(2, "prospect", "lost", _t(6)),
        metrics.Move(3, "", "suspect", _t(0)),
        metrics.Move(3, "suspect", "prospect", _t(2)),
        metrics.Move(3, "prospect", "qualified", _t(5)),
        metrics.Move(4, "", "suspect", _t(0)),
    ]
    result = metrics.funnel(deals, moves, now=_t(70), lost_reasons=["price"])
    by_stage = {row.stage: row for row in result.stages}
    # Reached: suspect 4, prospect 3, qualified 2, meeting 1, proposal 1, won 1.
    assert [row.reached for row in result.stages] == [4, 3, 2, 1, 1, 1]
    assert by_stage["suspect"].conversion == pytest.approx(3 / 4)
    assert by_stage["prospect"].conversion == pytest.approx(2 / 3)
    assert by_stage["qualified"].conversion == pytest.approx(1 / 2)
    assert by_stage["meeting"].conversion == pytest.approx(1.0)
    assert by_stage["proposal"].conversion == pytest.approx(1.0)
    assert by_stage["won"].conversion is None
    # Days in suspect: 10, 4, 2 and 70 (deal 4, still there at day 70): median 7.
    assert by_stage["suspect"].median_days == pytest.approx(7)
    # Days in prospect: 10, 2 (to lost), 3: median 3.
    assert by_stage["prospect"].median_days == pytest.approx(3)
    # Qualified: 10 (deal 1) and 65 (deal 3, still there): median 37.5.
    assert by_stage["qualified"].median_days == pytest.approx(37.5)
    # Stuck: deal 4 in suspect 70 days (> 60); deal 3 in qualified 65 days (> 30).
    assert (by_stage["suspect"].stuck, by_stage["qualified"].stuck, by_stage["prospect"].stuck) == (1, 1, 0)
    assert (by_stage["suspect"].open_count, by_stage["qualified"].open_count) == (1, 1)
    assert by_stage["qualified"].open_value == Decimal("30")
    assert (result.won, result.lost, result.win_rate) == (1, 1, 0.5)
    assert result.average_cycle_days == pytest.approx(50)
    assert result.lost_reasons == {"price": 1}


def test_a_deal_that_went_back_keeps_the_furthest_stage_it_reached():
    deals = [metrics.Deal(1, "prospect", Decimal("1"), _t(0))]
    moves = [
        metrics.Move(1, "", "prospect", _t(0)),
        metrics.Move(1, "prospect", "meeting", _t(1)),
        metrics.Move(1, "meeting", "prospect", _t(3)),
    ]
    result = metrics.funnel(deals, moves, now=_t(5))
    assert [row.reached for row in result.stages] == [1, 1, 1, 1, 0, 0]


def test_the_weighted_forecast_equals_a_hand_computed_quarter(settings):
    settings.PIPELINE_STAGE_PROBABILITY = {"suspect": 5, "prospect": 10, "qualified": 25, "meeting": 40, "proposal": 60}
    rows = [
        ("Chloe", "proposal", Decimal("10000"), False),  # committed; weighted 6,000
        ("Chloe", "qualified", Decimal("8000"), False),  # weighted 2,000
        ("Chloe", "won", Decimal("5000"), True),  # won
        ("Raj", "meeting", Decimal("1000"), False),  # weighted 400
    ]
    per_rep, team = metrics.forecast(rows)
    chloe = next(r for r in per_rep if r.name == "Chloe")
    assert (chloe.won, chloe.committed, chloe.weighted, chloe.best_case) == (
        Decimal("5000"),
        Decimal("15000"),
        Decimal("13000"),
        Decimal("23000"),
    )
    assert (team.won, team.committed, team.weighted, team.best_case, team.open_deals) == (
        Decimal("5000"),
        Decimal("15000"),
        Decimal("13400"),
        Decimal("24000"),
        3,
    )


def test_quarters_parse_and_bound():
    assert metrics.parse_quarter("2027-q1") == (2027, 1)
    assert metrics.parse_quarter("2027-Q5") is None
    assert metrics.parse_quarter("soon") is None
    assert metrics.quarter_bounds(2026, 4) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert metrics.quarter_bounds(2027, 1) == (dt.date(2027, 1, 1), dt.date(2027, 3, 31))


def test_the_funnel_page_shows_the_figures_from_stage_history(personas, client):
    deal = _deal(personas, stage="suspect")
    services.move_opportunity(
        opportunity=deal, to_stage="prospect", expected_stage="suspect", actor=personas["sales_rep"]
    )
    _deal(personas, stage="suspect")
    client.force_login(personas["executive"])
    response = client.get(reverse("pipeline:funnel"))
    assert response.status_code == 200
    stages = {row.stage: row for row in response.context["funnel"].stages}
    assert (stages["suspect"].reached, stages["prospect"].reached) == (2, 1)
    assert stages["suspect"].conversion == pytest.approx(0.5)
    assert "50%" in response.content.decode()


# --- Saved views ------------------------------------------------------------------------


def test_a_saved_view_restores_its_filters_and_a_private_one_is_invisible_to_others(personas, client):
    rep = personas["sales_rep"]
    client.force_login(rep)
    response = client.post(
        reverse("pipeline:view_save"),
        {
            "page": "pipeline",
            "name": "Perth referrals",
            "query": "office=perth&source=referral&page=3",
            "visibility": "private",
            "is_default": "on",
        },
    )
    assert response.status_code == 302
    view = SavedView.objects.get(owner=rep, name="Perth referrals")
    assert view.query == "office=perth&source=referral"  # paging is not part of a view
    # Opening the board without filters applies the default view.
    response = client.get(reverse("pipeline:board"))
    assert response.status_code == 302
    assert "office=perth" in response["Location"] and "source=referral" in response["Location"]
    response = client.get(response["Location"])
    assert response.context["filter"].form.cleaned_data["office"] == "perth"
    assert [v.name for v in response.context["saved_views"]] == ["Perth referrals"]
    # Another rep sees neither the view nor its default.
    other = UserFactory(username="rep2", roles=["sales_rep"])
    client.force_login(other)
    response = client.get(reverse("pipeline:board"))
    assert response.status_code == 200
    assert list(response.context["saved_views"]) == []


def test_a_team_view_is_seen_by_people_who_share_a_role(personas, client):
    rep = personas["sales_rep"]
    SavedView.objects.create(owner=rep, page="pipeline", name="Team Q1", query="quarter=2027-Q1", visibility="team")
    other = UserFactory(username="rep3", roles=["sales_rep"])
    client.force_login(other)
    assert [v.name for v in client.get(reverse("pipeline:board")).context["saved_views"]] == ["Team Q1"]
    client.force_login(personas["finance"])
    assert list(client.get(reverse("pipeline:board")).context["saved_views"]) == []


def test_only_the_owner_may_delete_a_view(personas, client):
    view = SavedView.objects.create(owner=personas["sales_rep"], page="pipeline", name="Mine", visibility="team")
    client.force_login(personas["sales_manager"])
    assert client.post(reverse("pipeline:view_delete", args=[view.pk])).status_code == 403
    assert SavedView.objects.filter(pk=view.pk).exists()
    client.force_login(personas["sales_rep"])
    assert client.post(reverse("pipeline:view_delete", args=[view.pk])).status_code == 302
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_the_customer_list_offers_saved_views(personas, client):
    SavedView.objects.create(owner=personas["finance"], page="customers", name="Sydney", query="office=sydney")
    client.force_login(personas["finance"])
    html = client.get(reverse("customers:account_list")).content.decode()
    assert "?office=sydney&amp;view=" in html


# --- List, export, filters --------------------------------------------------------------


def test_the_list_sorts_and_exports_exactly_what_is_filtered_with_formulas_as_text(personas, client):
    rep = personas["sales_rep"]
    a = OpportunityFactory(owner=rep, name='=HYPERLINK("http://x")', amount=Decimal("300"), source="referral")
    b = OpportunityFactory(owner=rep, name="Beta", amount=Decimal("100"), source="referral")
    OpportunityFactory(owner=rep, name="Gamma", amount=Decimal("200"), source="website")
    client.force_login(personas["sales_manager"])
    response = client.get(reverse("pipeline:deal_list"), {"source": "referral", "sort": "-amount"})
    assert [d.pk for d in response.context["page"].object_list] == [a.pk, b.pk]
    response = client.get(reverse("pipeline:deal_list"), {"source": "referral", "sort": "amount", "format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert [r[0] for r in rows[1:]] == ["Beta", '\'=HYPERLINK("http://x")']
    response = client.get(reverse("pipeline:deal_list"), {"source": "referral", "sort": "amount", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert cells == ["Beta", '\'=HYPERLINK("http://x")']
    assert all(cell.data_type == "s" for cell in sheet["A"][1:])


def test_an_invalid_filter_value_is_dropped_with_a_note_not_silently_widened(personas, client):
    OpportunityFactory(owner=personas["sales_rep"], source="referral")
    client.force_login(personas["sales_manager"])
    response = client.get(reverse("pipeline:board"), {"quarter": "next year", "source": "referral"})
    assert response.status_code == 200
    assert response.context["dropped"] == ["quarter “next year” (write it like 2027-Q1)"]
    assert "Ignored quarter" in response.content.decode()


# --- Query budgets at two sizes ---------------------------------------------------------


def _world(size: int, personas):
    for i in range(size):
        deal = OpportunityFactory(
            owner=personas["sales_rep"],
            stage=OpportunityStage.open_stages()[i % 5],
            kind="upsell",
            expected_close=timezone.localdate(),
        )
        StageChange.objects.create(opportunity=deal, to_stage=deal.stage)


@pytest.mark.parametrize("name", ["pipeline:board", "pipeline:deal_list", "pipeline:funnel"])
def test_pipeline_pages_run_a_fixed_number_of_queries(name, personas, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(personas["sales_manager"])
    counts = []
    for size in (5, 30):
        _world(size, personas)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse(name), {"view": "none"})
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 20


def test_a_deal_without_stage_rows_still_counts_where_it_stands():
    deals = [metrics.Deal(1, "meeting", Decimal("5"), _t(0))]
    result = metrics.funnel(deals, [], now=_t(40))
    assert [row.reached for row in result.stages] == [1, 1, 1, 1, 0, 0]
    assert result.stages[3].open_count == 1
    assert result.stages[3].stuck == 1  # 40 days in meeting, past 30


def test_the_demo_gives_each_deal_a_dated_path_once(personas):
    from pipeline.demo import DEMO_REASON, seed_stage_histories

    won = _deal(personas, stage="won")
    lost = OpportunityFactory(owner=personas["sales_rep"], stage="lost")
    StageChange.objects.create(opportunity=lost, to_stage="lost")
    open_deal = _deal(personas, stage="meeting")
    assert seed_stage_histories(seed=1) == 3
    path = list(StageChange.objects.filter(opportunity=won).values_list("to_stage", flat=True))
    assert path == ["suspect", "prospect", "qualified", "meeting", "proposal", "won"]
    assert list(StageChange.objects.filter(opportunity=open_deal).values_list("to_stage", flat=True)) == [
        "suspect",
        "prospect",
        "qualified",
        "meeting",
    ]
    times = list(StageChange.objects.filter(opportunity=won).values_list("at", flat=True))
    assert times == sorted(times) and times[0] < timezone.now() - dt.timedelta(days=5 * 3)
    lost.refresh_from_db()
    assert lost.lost_reason
    assert lost.history.latest().history_user == personas["data_steward"]
    assert StageChange.objects.exclude(reason=DEMO_REASON).count() == 0
    assert seed_stage_histories(seed=1) == 0
