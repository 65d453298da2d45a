"""Ownership edges: the executive writes nothing; a rep cannot hand a deal to another rep."""

from __future__ import annotations

import pytest

from customers import services
from customers.errors import OwnershipError
from customers.models import Activity, Opportunity
from tests.factories import AccountFactory, OpportunityFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_executive_cannot_add_a_timeline_entry(personas):
    account = AccountFactory()
    with pytest.raises(OwnershipError):
        services.log_activity(account=account, actor=personas["executive"], summary="Board visit")
    assert Activity.objects.filter(account=account).count() == 0


def test_executive_cannot_post_the_timeline_form(client_for):
    account = AccountFactory()
    response = client_for("executive").post(f"/customers/{account.code}/activities/add/", {"summary": "Board visit"})
    assert response.status_code == 403
    assert Activity.objects.filter(account=account).count() == 0


def test_executive_sees_no_log_activity_button(client_for):
    account = AccountFactory()
    html = client_for("executive").get(f"/customers/{account.code}/").content.decode()
    assert f"/customers/{account.code}/activities/add/" not in html


def test_support_agent_still_logs_the_timeline(personas):
    account = AccountFactory()
    services.log_activity(account=account, actor=personas["support_agent"], summary="Called about backups")
    assert Activity.objects.filter(account=account).count() == 1


def test_sales_rep_cannot_hand_their_deal_to_another_rep(personas):
    other_rep = UserFactory(roles=["sales_rep"])
    deal = OpportunityFactory(owner=personas["sales_rep"])

    with pytest.raises(OwnershipError):
        services.update_opportunity(
            opportunity=deal, changes={"owner": other_rep}, actor=personas["sales_rep"], reason="Handing over"
        )
    assert Opportunity.objects.get(pk=deal.pk).owner_id == personas["sales_rep"].pk


def test_sales_rep_cannot_open_a_deal_in_another_reps_name(personas):
    other_rep = UserFactory(roles=["sales_rep"])
    account = AccountFactory(owner=personas["sales_rep"])

    with pytest.raises(OwnershipError):
        services.create_opportunity(account=account, actor=personas["sales_rep"], name="Upsell", owner=other_rep)
    assert not Opportunity.objects.filter(account=account).exists()


def test_sales_rep_still_edits_their_own_deal(personas):
    deal = OpportunityFactory(owner=personas["sales_rep"])
    services.update_opportunity(
        opportunity=deal, changes={"name": "Bigger deal"}, actor=personas["sales_rep"], reason="Scope grew"
    )
    assert Opportunity.objects.get(pk=deal.pk).name == "Bigger deal"


def test_sales_manager_assigns_a_deal_to_another_rep(personas):
    other_rep = UserFactory(roles=["sales_rep"])
    deal = OpportunityFactory(owner=personas["sales_rep"])
    services.update_opportunity(
        opportunity=deal, changes={"owner": other_rep}, actor=personas["sales_manager"], reason="Territory change"
    )
    assert Opportunity.objects.get(pk=deal.pk).owner_id == other_rep.pk
