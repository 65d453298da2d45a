"""Matrix rows for the reports app: executive, sales manager, finance and data steward open
the board pack; only a steward re-freezes; everyone has their own digest preference."""

from __future__ import annotations

from cloudcore_crm.roles import ROLE_NAMES
from tests.permission_rows import ANON, OK_FOR_ALL, only

PACK = ("executive", "sales_manager", "finance", "data_steward")

ROWS: dict[str, dict[str, int]] = {
    # With a frozen month the latest-pack address redirects to it.
    "reports:board_pack_latest": {**{r: (302 if r in PACK else 403) for r in ROLE_NAMES}, ANON: 302},
    "reports:board_pack": only(*PACK),
    "reports:board_pack_pdf": only(*PACK),
    "reports:board_pack_xlsx": only(*PACK),
    "reports:pack_accounts": only(*PACK),
    "reports:snapshot_list": only(*PACK),
    "reports:snapshot_refreeze": only("data_steward"),
    "reports:digest_preference": OK_FOR_ALL,
    # The link in the email: the signed token names the person, no login needed.
    "reports:digest_unsubscribe": {**dict.fromkeys(ROLE_NAMES, 200), ANON: 200},
}


def build(world: dict, personas: dict) -> None:
    from reports import digests, services

    world["snapshot"], _ = services.freeze_month(month=services.last_complete_month())
    world["unsubscribe_token"] = digests.token_for(personas["sales_rep"])


def url_kwargs(name: str, world: dict) -> dict:
    if name == "reports:digest_unsubscribe":
        return {"token": world["unsubscribe_token"]}
    if name in ("reports:board_pack_latest", "reports:snapshot_list", "reports:digest_preference"):
        return {}
    return {"month": world["snapshot"].month}
