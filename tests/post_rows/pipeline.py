"""POST rows for the pipeline: moving a deal (its owner, a sales manager or a steward) and saved views."""

from __future__ import annotations

from customers.models import Opportunity
from pipeline.models import SavedView
from tests.factories import OpportunityFactory
from tests.post_rows import EVERYONE, PostRow, allowed

SALES = ("sales_rep", "sales_manager", "data_steward")


def build(world: dict, personas: dict) -> None:
    world["other_pipeline_deal"] = OpportunityFactory(
        account=world["other_account"], owner=world["other_rep"], name="Their pipeline deal"
    )


def _move(key: str):
    def data(world: dict) -> dict:
        deal = world[key]
        to_stage = "prospect" if deal.stage != "prospect" else "qualified"
        return {"to_stage": to_stage, "expected_stage": deal.stage, "reason": "POST matrix"}

    return data


def _moved(key: str):
    def check(world: dict, role: str) -> None:
        assert Opportunity.objects.get(pk=world[key].pk).stage != world[key].stage

    return check


def _view_deleted(world: dict, role: str) -> None:
    assert not SavedView.objects.filter(pk=world["saved_view"].pk).exists()


POSTS: dict[str, PostRow] = {
    "pipeline:deal_move": PostRow(
        allowed(*SALES),
        kwargs=lambda w: {"pk": w["pipeline_deal"].pk},
        data=_move("pipeline_deal"),
        done=_moved("pipeline_deal"),
    ),
    # Object scope: the sales rep may not move another rep's deal.
    "pipeline:deal_move@another_reps_deal": PostRow(
        allowed("sales_manager", "data_steward"),
        kwargs=lambda w: {"pk": w["other_pipeline_deal"].pk},
        data=_move("other_pipeline_deal"),
        done=_moved("other_pipeline_deal"),
    ),
    # Anyone signed in saves their own view of a page.
    "pipeline:view_save": PostRow(
        allowed(*EVERYONE[:-1]),
        data=lambda w: {"page": "pipeline", "name": "Matrix view", "query": "stage=prospect", "visibility": "private"},
    ),
    # Only the person who saved a view deletes it (the sales rep saved it).
    "pipeline:view_delete": PostRow(
        allowed("sales_rep"),
        kwargs=lambda w: {"pk": w["saved_view"].pk},
        done=_view_deleted,
    ),
}

READ_ONLY = {"pipeline:board", "pipeline:deal_list", "pipeline:funnel"}
