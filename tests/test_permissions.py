"""One declarative matrix: every URL from the resolver x every role + anonymous.

A URL that is not in the matrix fails `test_every_url_is_in_the_matrix`, so a new page
cannot ship without deciding who may see it.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cloudcore_crm.roles import ROLE_NAMES
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory, SubscriptionFactory

ANON = "anonymous"
EVERYONE = (*ROLE_NAMES, ANON)

# Statuses for GET. `ALL` maps every logged-in role; anonymous users are sent to log in.
OK_FOR_ALL = {**dict.fromkeys(ROLE_NAMES, 200), ANON: 302}


def only(*roles: str, denied: int = 403) -> dict[str, int]:
    return {**{r: (200 if r in roles else denied) for r in ROLE_NAMES}, ANON: 302}


MATRIX: dict[str, dict[str, int]] = {
    "home": {**dict.fromkeys(ROLE_NAMES, 302), ANON: 302},
    "login": {**dict.fromkeys(ROLE_NAMES, 302), ANON: 200},
    "logout": {**dict.fromkeys(ROLE_NAMES, 405), ANON: 302},  # POST only; anonymous users go to log in
    "search": OK_FOR_ALL,
    "customers:account_list": OK_FOR_ALL,
    "customers:account_detail": OK_FOR_ALL,
    "customers:account_history": OK_FOR_ALL,
    "customers:account_add": only("customer_relations", "data_steward"),
    "customers:account_edit": only("customer_relations", "sales_manager", "finance", "data_steward"),
    "customers:contact_add": only("customer_relations", "sales_rep", "data_steward"),
    "customers:contact_edit": only("customer_relations", "sales_rep", "data_steward"),
    "customers:subscription_add": only("customer_relations", "data_steward"),
    "customers:subscription_edit": only("customer_relations", "finance", "provisioning", "data_steward"),
    "customers:opportunity_add": only("sales_rep", "sales_manager", "data_steward"),
    "customers:opportunity_edit": only("sales_rep", "sales_manager", "data_steward"),
    "customers:activity_add": OK_FOR_ALL,
    # The admin is for data stewards; others are sent to the admin login.
    "admin:index": only("data_steward", denied=302),
    "admin:customers_account_changelist": only("data_steward", denied=302),
    "admin:customers_account_change": only("data_steward", denied=302),
    "admin:customers_account_history": only("data_steward", denied=302),
    "admin:customers_contact_changelist": only("data_steward", denied=302),
    "admin:customers_subscription_changelist": only("data_steward", denied=302),
    "admin:customers_opportunity_changelist": only("data_steward", denied=302),
    "admin:customers_activity_changelist": only("data_steward", denied=302),
    "admin:customers_accountalias_changelist": only("data_steward", denied=302),
    "admin:customers_product_changelist": only("data_steward", denied=302),
}

# The admin's own generic pages (password change, add/delete views we disable, auth
# models, jsi18n...) are Django's and are guarded by the admin site for all of them.
ADMIN_GENERIC_PREFIX = "admin:"


def all_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace: str | None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns, None)
    return names


def test_every_url_is_in_the_matrix():
    missing = {n for n in all_url_names() if n not in MATRIX and not n.startswith(ADMIN_GENERIC_PREFIX)}
    assert not missing, f"Add these URL names to the permission matrix: {sorted(missing)}"
    assert all(set(row) == set(EVERYONE) for row in MATRIX.values())


@pytest.fixture
def world(personas):
    account = AccountFactory(owner=personas["sales_rep"])
    contact = ContactFactory(account=account)
    subscription = SubscriptionFactory(account=account)
    opportunity = OpportunityFactory(account=account, owner=personas["sales_rep"])
    return {"account": account, "contact": contact, "subscription": subscription, "opportunity": opportunity}


def url_for(name: str, world) -> str:
    account = world["account"]
    kwargs = {
        "customers:account_detail": {"code": account.code},
        "customers:account_history": {"code": account.code},
        "customers:account_edit": {"code": account.code},
        "customers:contact_add": {"code": account.code},
        "customers:contact_edit": {"code": account.code, "pk": world["contact"].pk},
        "customers:subscription_add": {"code": account.code},
        "customers:subscription_edit": {"code": account.code, "pk": world["subscription"].pk},
        "customers:opportunity_add": {"code": account.code},
        "customers:opportunity_edit": {"code": account.code, "pk": world["opportunity"].pk},
        "customers:activity_add": {"code": account.code},
        "admin:customers_account_change": {"object_id": account.pk},
        "admin:customers_account_history": {"object_id": account.pk},
    }.get(name, {})
    return reverse(name, kwargs=kwargs)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_permission_matrix(name, world, client, personas):
    expected = MATRIX[name]
    url = url_for(name, world)
    seen = {}
    for role in EVERYONE:
        client.logout()
        if role != ANON:
            client.force_login(personas[role])
        seen[role] = client.get(url).status_code
    assert seen == expected, f"{url}: got {seen}"
