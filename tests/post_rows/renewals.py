"""POST rows for renewals: outreach (the account owner or Customer Relations), outcomes
(Customer Relations), calendar feed addresses (each person their own)."""

from __future__ import annotations

import datetime as dt

from renewals.choices import CaseStatus
from renewals.models import CalendarToken, RenewalCase
from tests.factories import SubscriptionFactory
from tests.factories_renewals import RenewalCaseFactory
from tests.post_rows import EVERYONE, PostRow, allowed

OUTREACH = ("customer_relations", "sales_manager", "data_steward")
OUTCOME = ("customer_relations", "data_steward")


def build(world: dict, personas: dict) -> None:
    subscription = SubscriptionFactory(account=world["other_account"])
    world["other_renewal_case"] = RenewalCaseFactory(subscription=subscription)


def _case(key: str):
    return lambda w: {"pk": w[key].pk}


def _outreached(key: str):
    def check(world: dict, role: str) -> None:
        case = RenewalCase.objects.get(pk=world[key].pk)
        assert case.status == CaseStatus.IN_OUTREACH, case.status

    return check


def _resolved(status: str):
    def check(world: dict, role: str) -> None:
        assert RenewalCase.objects.get(pk=world["renewal_case"].pk).status == status

    return check


def _renewal(world: dict) -> dict:
    term_end = world["renewal_case"].term_end or dt.date.today()
    return {"new_term_end": (term_end + dt.timedelta(days=365)).isoformat(), "new_value": "", "note": "Signed"}


def _revoked_by_owner_or_steward(world: dict, role: str) -> None:
    # Everyone gets the profile page back; only the feed's owner and a steward revoke it.
    revoked = CalendarToken.objects.get(pk=world["calendar_token"].pk).revoked_at is not None
    assert revoked == (role in ("sales_rep", "data_steward")), (role, revoked)


def _team_feed_for_customer_relations(world: dict, role: str) -> None:
    made = CalendarToken.objects.filter(user__username=role, team=True).exists()
    assert made == (role in ("customer_relations", "data_steward")), (role, made)


POSTS: dict[str, PostRow] = {
    # The account (and so the case) is the sales rep's.
    "renewals:case_outreach": PostRow(
        allowed("sales_rep", *OUTREACH),
        kwargs=_case("renewal_case"),
        data=lambda w: {"kind": "call", "note": "Spoke about the renewal"},
        done=_outreached("renewal_case"),
    ),
    "renewals:case_outreach@another_reps_case": PostRow(
        allowed(*OUTREACH),
        kwargs=_case("other_renewal_case"),
        data=lambda w: {"kind": "email", "note": "Not my client"},
        done=_outreached("other_renewal_case"),
    ),
    "renewals:case_renew": PostRow(
        allowed(*OUTCOME), kwargs=_case("renewal_case"), data=_renewal, done=_resolved(CaseStatus.RENEWED)
    ),
    "renewals:case_lose": PostRow(
        allowed(*OUTCOME),
        kwargs=_case("renewal_case"),
        data=lambda w: {"reason": "price", "note": "Too dear"},
        done=_resolved(CaseStatus.LOST),
    ),
    # Anyone signed in makes a feed address of their own; it lands back on the profile page.
    "renewals:token_add": PostRow(allowed(*EVERYONE[:-1]), data=lambda w: {}),
    # The team feed: everyone is sent back to the profile page, only Customer Relations
    # (and a steward) get one.
    "renewals:token_add@team": PostRow(
        allowed(*EVERYONE[:-1]), data=lambda w: {"team": "on"}, writes=False, done=_team_feed_for_customer_relations
    ),
    "renewals:token_revoke": PostRow(
        allowed(*EVERYONE[:-1]),
        kwargs=lambda w: {"pk": w["calendar_token"].pk},
        writes=False,
        done=_revoked_by_owner_or_steward,
    ),
}

READ_ONLY = {
    "renewals:board",
    "renewals:board_export",
    "renewals:case_detail",
    "renewals:finding_list",
    "renewals:calendar_feed",
    "profile",
}
