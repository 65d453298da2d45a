"""Matrix rows for the project URLs and the customers app."""

from __future__ import annotations

from cloudcore_crm.roles import ROLE_NAMES
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory, SubscriptionFactory
from tests.permission_rows import ANON, OK_FOR_ALL, only

ROWS: dict[str, dict[str, int]] = {
    "home": OK_FOR_ALL,
    "login": {**dict.fromkeys(ROLE_NAMES, 302), ANON: 200},
    "logout": {**dict.fromkeys(ROLE_NAMES, 405), ANON: 302},  # POST only; anonymous users go to log in
    "search": OK_FOR_ALL,
    "search_suggest": OK_FOR_ALL,
    "customers:account_list": OK_FOR_ALL,
    "customers:account_detail": OK_FOR_ALL,
    "customers:account_history": OK_FOR_ALL,
    "customers:account_bulk_owner": {**dict.fromkeys(ROLE_NAMES, 405), ANON: 302},  # POST only
    "customers:account_add": only("customer_relations", "data_steward"),
    "customers:account_edit": only("customer_relations", "sales_manager", "finance", "data_steward"),
    "customers:contact_add": only("customer_relations", "sales_rep", "data_steward"),
    "customers:contact_edit": only("customer_relations", "sales_rep", "data_steward"),
    "customers:subscription_add": only("customer_relations", "data_steward"),
    "customers:subscription_edit": only("customer_relations", "finance", "provisioning", "data_steward"),
    "customers:opportunity_add": only("sales_rep", "sales_manager", "data_steward"),
    "customers:opportunity_edit": only("sales_rep", "sales_manager", "data_steward"),
    "customers:activity_add": {**OK_FOR_ALL, "executive": 403},  # the executive writes nothing
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


def build(world: dict, personas: dict) -> None:
    account = AccountFactory(owner=personas["sales_rep"])
    world.update(
        account=account,
        contact=ContactFactory(account=account),
        subscription=SubscriptionFactory(account=account),
        opportunity=OpportunityFactory(account=account, owner=personas["sales_rep"]),
    )


def url_kwargs(name: str, world: dict) -> dict:
    code = {"code": world["account"].code}
    return {
        "customers:account_detail": code,
        "customers:account_history": code,
        "customers:account_edit": code,
        "customers:contact_add": code,
        "customers:contact_edit": {**code, "pk": world["contact"].pk},
        "customers:subscription_add": code,
        "customers:subscription_edit": {**code, "pk": world["subscription"].pk},
        "customers:opportunity_add": code,
        "customers:opportunity_edit": {**code, "pk": world["opportunity"].pk},
        "customers:activity_add": code,
        "admin:customers_account_change": {"object_id": world["account"].pk},
        "admin:customers_account_history": {"object_id": world["account"].pk},
    }.get(name, {})
