"""Matrix rows for the pipeline: everyone reads; moving and saving views are POSTs."""

from __future__ import annotations

from cloudcore_crm.roles import ROLE_NAMES
from tests.factories import OpportunityFactory
from tests.permission_rows import ANON, OK_FOR_ALL

POST_ONLY = {**dict.fromkeys(ROLE_NAMES, 405), ANON: 302}

ROWS: dict[str, dict[str, int]] = {
    "pipeline:board": OK_FOR_ALL,
    "pipeline:deal_list": OK_FOR_ALL,
    "pipeline:funnel": OK_FOR_ALL,
    "pipeline:deal_move": POST_ONLY,
    "pipeline:view_save": POST_ONLY,
    "pipeline:view_delete": POST_ONLY,
}


def build(world: dict, personas: dict) -> None:
    from pipeline.models import SavedView

    world["pipeline_deal"] = OpportunityFactory(account=world["account"], owner=personas["sales_rep"])
    world["saved_view"] = SavedView.objects.create(owner=personas["sales_rep"], page="pipeline", name="Mine")


def url_kwargs(name: str, world: dict) -> dict:
    return {
        "pipeline:deal_move": {"pk": world["pipeline_deal"].pk},
        "pipeline:view_delete": {"pk": world["saved_view"].pk},
    }.get(name, {})
