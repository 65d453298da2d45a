"""Matrix rows for the renewals app and the profile page."""

from __future__ import annotations

from cloudcore_crm.roles import ROLE_NAMES
from renewals.models import CalendarToken
from tests.factories_renewals import RenewalCaseFactory
from tests.permission_rows import ANON, OK_FOR_ALL, only

POST_ONLY = {**dict.fromkeys(ROLE_NAMES, 405), ANON: 302}

ROWS: dict[str, dict[str, int]] = {
    "profile": OK_FOR_ALL,
    "renewals:board": OK_FOR_ALL,
    "renewals:board_export": OK_FOR_ALL,
    "renewals:case_detail": OK_FOR_ALL,
    "renewals:finding_list": only("customer_relations", "sales_manager", "data_steward"),
    "renewals:case_outreach": POST_ONLY,
    "renewals:case_renew": POST_ONLY,
    "renewals:case_lose": POST_ONLY,
    "renewals:token_add": POST_ONLY,
    "renewals:token_revoke": POST_ONLY,
    # The feed is read by Outlook, not a browser session: the token is the credential.
    "renewals:calendar_feed": {**dict.fromkeys(ROLE_NAMES, 200), ANON: 200},
}


def build(world: dict, personas: dict) -> None:
    world["renewal_case"] = RenewalCaseFactory(subscription=world["subscription"])
    world["calendar_token"] = CalendarToken.objects.create(user=personas["sales_rep"], token="perm-token")


def url_kwargs(name: str, world: dict) -> dict:
    case = {"pk": world["renewal_case"].pk}
    return {
        "renewals:case_detail": case,
        "renewals:case_outreach": case,
        "renewals:case_renew": case,
        "renewals:case_lose": case,
        "renewals:token_revoke": {"pk": world["calendar_token"].pk},
        "renewals:calendar_feed": {"token": world["calendar_token"].token},
    }.get(name, {})
