"""Search as people type it: close spellings, ticket numbers, and the header's type-ahead."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from support_bridge.models import Ticket
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def meridian():
    account = AccountFactory(legal_name="Meridian Health Partners Pty Ltd", code="CC009", number=9)
    AccountFactory(legal_name="Banksia Dental Pty Ltd")
    AccountFactory(legal_name="Merino Wool Traders Pty Ltd")
    return account


@pytest.mark.parametrize("typed", ["merdian", "Meridain Health", "meridan"])
def test_a_misspelt_name_finds_the_customer(client_for, meridian, typed):
    response = client_for("support_agent").get(reverse("search"), {"q": typed})
    assert [a.code for a in response.context["close"]][:1] == ["CC009"]
    assert "Close spellings" in response.content.decode()


def test_close_spellings_are_offered_only_when_nothing_matches(client_for, meridian):
    response = client_for("support_agent").get(reverse("search"), {"q": "Meridian"})
    assert [a.code for a in response.context["accounts"]] == ["CC009"]
    assert response.context["close"] == []


def test_an_unrelated_word_finds_no_close_spelling(client_for, meridian):
    response = client_for("support_agent").get(reverse("search"), {"q": "zzyzx"})
    assert response.context["close"] == []


def test_a_ticket_number_finds_the_ticket_and_its_customer(client_for, meridian):
    Ticket.objects.create(
        source="zendesk",
        external_id="1042",
        account=meridian,
        subject="CloudSync keeps asking for a password",
        opened_at=timezone.now() - dt.timedelta(days=2),
    )
    html = client_for("support_agent").get(reverse("search"), {"q": "#1042"}).content.decode()
    assert "#1042" in html
    assert "CloudSync keeps asking for a password" in html
    assert meridian.get_absolute_url() in html


def test_the_type_ahead_suggests_customers_contacts_and_tickets(client_for, meridian):
    ContactFactory(account=meridian, first_name="Helen", last_name="Marsh")
    Ticket.objects.create(
        source="zendesk", external_id="88", account=meridian, subject="Printer", opened_at=timezone.now()
    )
    client = client_for("sales_rep")
    html = client.get(reverse("search_suggest"), {"q": "Meridian"}, HTTP_HX_REQUEST="true").content.decode()
    assert "CC009" in html
    assert 'role="option"' in html
    assert "Helen Marsh" in client.get(reverse("search_suggest"), {"q": "Helen"}).content.decode()
    assert "Ticket #88" in client.get(reverse("search_suggest"), {"q": "88"}).content.decode()
    assert "close spellings" in client.get(reverse("search_suggest"), {"q": "merdian"}).content.decode()


def test_the_type_ahead_stays_within_a_fixed_number_of_queries(client_for, meridian, django_assert_max_num_queries):
    for n in range(25):
        ContactFactory(account=meridian, first_name="Helen", last_name=f"Marsh{n}")
    client = client_for("sales_rep")
    with django_assert_max_num_queries(12):
        client.get(reverse("search_suggest"), {"q": "Helen"})
    with django_assert_max_num_queries(12):
        client.get(reverse("search_suggest"), {"q": "merdian"})
