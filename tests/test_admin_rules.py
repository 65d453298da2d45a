"""The steward admin keeps the app's rules for person fields and looks like the app."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import AccountFactory, OpportunityFactory, UserFactory

pytestmark = pytest.mark.django_db


def _options(html: str, field: str) -> str:
    start = html.index(f'name="{field}"')
    return html[start : html.index("</select>", start)]


def test_account_owner_offers_only_sales_reps_and_coordinator_only_customer_relations(client, personas):
    rep = UserFactory(username="rep_x", first_name="Chloe", last_name="Bennett", roles=["sales_rep"])
    UserFactory(username="fin_x", first_name="Fiona", last_name="Nguyen", roles=["finance"])
    coordinator = UserFactory(username="cr_x", first_name="Carla", last_name="Reyes", roles=["customer_relations"])
    account = AccountFactory(owner=rep)
    client.force_login(personas["data_steward"])
    html = client.get(reverse("admin:customers_account_change", args=[account.pk])).content.decode()
    owners = _options(html, "owner")
    assert "Chloe Bennett" in owners
    assert "Fiona Nguyen" not in owners and "Carla Reyes" not in owners
    assert ">rep_x<" not in owners  # people by full name, not username
    coordinators = _options(html, "relations_coordinator")
    assert coordinator.get_full_name() in coordinators
    assert "Chloe Bennett" not in coordinators and "Fiona Nguyen" not in coordinators


def test_opportunity_owner_offers_only_sales_reps(client, personas):
    rep = UserFactory(username="rep_y", first_name="Raj", last_name="Patel", roles=["sales_rep"])
    UserFactory(username="sup_y", first_name="Sam", last_name="Ortiz", roles=["support_agent"])
    deal = OpportunityFactory(owner=rep)
    client.force_login(personas["data_steward"])
    html = client.get(reverse("admin:customers_opportunity_change", args=[deal.pk])).content.decode()
    owners = _options(html, "owner")
    assert "Raj Patel" in owners and "Sam Ortiz" not in owners


def test_the_admin_wears_the_apps_colours_and_links_back(client, personas):
    client.force_login(personas["data_steward"])
    html = client.get(reverse("admin:index")).content.decode()
    assert "css/admin.css" in html
    assert "CloudCore CRM — data stewardship" in html
    assert f'href="{reverse("home")}"' in html
