"""The agent lookup: one screen for a call, for every role; JSON only with a token."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cloudcore_crm.roles import ROLE_NAMES
from customers.choices import OpportunityKind
from support_bridge.choices import TicketPriority, TicketStatus
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    AliasFactory,
    ContactFactory,
    OpportunityFactory,
    SubscriptionFactory,
)
from tests.factories_support import API_TOKEN, RiskScoreFactory, TicketFactory

pytestmark = pytest.mark.django_db
LOOKUP = "/support/lookup/"
API = "/api/support/lookup"


@pytest.fixture(autouse=True)
def _tokens(settings):
    settings.SUPPORT_LOOKUP_API_TOKENS = ["other-token", API_TOKEN]


@pytest.fixture
def meridian(personas):
    account = AccountFactory(
        number=9,
        code="CC009",
        legal_name="Meridian Health Partners Pty Ltd",
        trading_name="Meridian Health",
        owner=personas["sales_rep"],
        relations_coordinator=personas["customer_relations"],
    )
    SubscriptionFactory(account=account, seats=120, annual_value=Decimal("48000.00"))
    ContactFactory(account=account, first_name="Helen", last_name="Marsh", email="helen.marsh@meridianhealth.example",
                   phone="0491 572 549")  # fmt: skip
    AliasFactory(account=account, value="Meridian Medical Group")
    OpportunityFactory(account=account, name="Analytics Pro upsell", kind=OpportunityKind.UPSELL)
    for n in range(7):
        ActivityFactory(account=account, summary=f"Call {n}", occurred_at=timezone.now() - dt.timedelta(days=n))
    TicketFactory(
        account=account,
        external_id="2734",
        subject="Backup failed again",
        status=TicketStatus.OPEN,
        priority=TicketPriority.HIGH,
    )
    TicketFactory(account=account, external_id="2590", subject="Phones down", status=TicketStatus.CLOSED)
    RiskScoreFactory(account=account)
    return account


def test_the_lookup_urls_are_the_ones_design_md_names():
    assert (reverse("support:lookup"), reverse("support_api:lookup")) == (LOOKUP, API)


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_every_logged_in_role_can_read_the_lookup(client_for, meridian, role):
    response = client_for(role).get(LOOKUP, {"q": "CC009"})
    assert response.status_code == 200
    content = response.content.decode()
    for fact in ("Meridian Health", "$48,000", "Sales Rep Demo", "Customer Relations Demo", "Analytics Pro upsell",
                 "Backup failed again", "High risk", "Satisfaction fell from 7.9 to 4.2", "120"):  # fmt: skip
        assert fact in content, fact
    assert "Phones down" not in content  # closed tickets are not on the call screen


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get(LOOKUP, {"q": "CC009"}).status_code == 302


@pytest.mark.parametrize(
    "query",
    ["CC009", "cc9", "Meridian", "Meridian Medical Group", "helen.marsh@meridianhealth.example", "0491572549", "#2734"],
)
def test_the_lookup_finds_a_client_by_code_name_alias_email_phone_or_ticket(client_for, meridian, query):
    response = client_for("support_agent").get(LOOKUP, {"q": query})
    assert response.context["result"].account == meridian


def test_only_the_last_five_activities_are_shown(client_for, meridian):
    response = client_for("support_agent").get(LOOKUP, {"q": "CC009"})
    assert [a.summary for a in response.context["result"].account.last_activities] == [f"Call {n}" for n in range(5)]


def test_several_matches_are_listed_to_pick_from(client_for, meridian):
    AccountFactory(legal_name="Meridian Freight Pty Ltd")
    response = client_for("support_agent").get(LOOKUP, {"q": "Meridian"})
    assert response.context["result"].account is None
    assert len(response.context["result"].candidates) == 2


def test_the_json_lookup_answers_with_a_token(client, meridian):
    response = client.get(API, {"q": "CC009"}, HTTP_AUTHORIZATION=f"Token {API_TOKEN}")
    assert response.status_code == 200
    account = response.json()["account"]
    assert account["code"] == "CC009" and account["contract_value"] == "48000.00"
    assert account["owner"]["name"] == "Sales Rep Demo"
    assert account["coordinator"]["name"] == "Customer Relations Demo"
    assert account["products"][0]["seats"] == 120
    assert [t["id"] for t in account["open_tickets"]] == ["2734"]
    assert account["churn_risk"]["band"] == "high"
    assert "satisfaction fell from 7.9 to 4.2" in account["churn_risk"]["reasons"]
    assert len(account["last_activities"]) == 5


def test_the_json_lookup_takes_a_bearer_token_too(client, meridian):
    assert client.get(API, {"q": "CC009"}, HTTP_AUTHORIZATION=f"Bearer {API_TOKEN}").status_code == 200


@pytest.mark.parametrize("header", [None, "Token wrong", "Basic dXNlcjpwYXNz", f"Token{API_TOKEN}"])
def test_the_json_lookup_without_a_valid_token_is_401(client, meridian, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get(API, {"q": "CC009"}, **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    assert "Meridian" not in response.content.decode()


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_a_logged_in_session_alone_does_not_open_the_json_lookup(client_for, meridian, role):
    assert client_for(role).get(API, {"q": "CC009"}).status_code == 401


def _grow(accounts: int) -> None:
    """More clients like CC009: the same shape, more rows everywhere."""
    for n in range(accounts):
        account = AccountFactory(legal_name=f"Filler Client {n} Pty Ltd")
        SubscriptionFactory(account=account)
        ContactFactory(account=account)
        OpportunityFactory(account=account)
        for m in range(3):
            TicketFactory(account=account, status=TicketStatus.OPEN if m else TicketStatus.CLOSED)
            ActivityFactory(account=account)


def _count(client, url, params, **extra) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params, **extra).status_code == 200
    return len(ctx)


@pytest.mark.parametrize("query", ["CC009", "helen.marsh@meridianhealth.example", "#2734", "Filler"])
def test_lookup_query_count_does_not_grow_with_data(client_for, meridian, django_assert_max_num_queries, query):
    client = client_for("support_agent")
    _grow(3)
    with django_assert_max_num_queries(15):
        small = _count(client, LOOKUP, {"q": query})
    _grow(30)
    with django_assert_max_num_queries(15):
        assert _count(client, LOOKUP, {"q": query}) == small


def test_json_lookup_query_count_does_not_grow_with_data(client, meridian, django_assert_max_num_queries):
    auth = {"HTTP_AUTHORIZATION": f"Token {API_TOKEN}"}
    _grow(3)
    with django_assert_max_num_queries(12):
        small = _count(client, API, {"q": "CC009"}, **auth)
    _grow(30)
    assert _count(client, API, {"q": "CC009"}, **auth) == small


def test_an_htmx_lookup_answers_with_just_the_result(client_for, meridian):
    response = client_for("support_agent").get(LOOKUP, {"q": "CC009"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"<html" not in response.content and b"Meridian Health" in response.content
