"""Matrix rows for onboarding: everyone reads orders and the queues; the customer's status
link answers anyone, logged in or not."""

from __future__ import annotations

from cloudcore_crm.roles import ROLE_NAMES
from onboarding import services
from tests.factories_onboarding import draft_order, submitted_order
from tests.permission_rows import ANON, OK_FOR_ALL, only

POST_ONLY = {**dict.fromkeys(ROLE_NAMES, 405), ANON: 302}
INTAKE = ("sales_rep", "sales_manager", "customer_relations", "data_steward")

ROWS: dict[str, dict[str, int]] = {
    "onboarding:board": OK_FOR_ALL,
    "onboarding:order_add": only(*INTAKE),
    "onboarding:order_detail": OK_FOR_ALL,
    "onboarding:order_edit": only(*INTAKE),  # the draft's own rep, not another rep
    "onboarding:order_validate": POST_ONLY,
    "onboarding:order_return": POST_ONLY,
    "onboarding:order_cancel": POST_ONLY,
    "onboarding:order_override": POST_ONLY,
    "onboarding:order_status_link": POST_ONLY,
    "onboarding:task_list": OK_FOR_ALL,
    "onboarding:task_claim": POST_ONLY,
    "onboarding:task_complete": only("provisioning", "data_steward"),
    "onboarding:task_fail": only("provisioning", "data_steward"),
    "onboarding:exception_list": OK_FOR_ALL,
    "onboarding:exception_resolve": POST_ONLY,
    # IT's tooling signs its events; no session ever counts.
    "onboarding_events": {**dict.fromkeys(ROLE_NAMES, 405), ANON: 405},
    # The customer's link: no login, the same page for everyone who holds it.
    "onboarding_status": {**dict.fromkeys(ROLE_NAMES, 200), ANON: 200},
}


def build(world: dict, personas: dict) -> None:
    rep, relations = personas["sales_rep"], personas["customer_relations"]
    world["order"] = services.issue_status_link(order=draft_order(rep, world["account"]), actor=rep)
    validated = services.validate_order(order=submitted_order(rep, world["account"]), actor=relations)
    world["task"] = validated.tasks.get()
    failing = services.validate_order(order=submitted_order(rep, world["account"]), actor=relations)
    world["exception"] = services.fail_task(
        task=failing.tasks.get(), actor=personas["provisioning"], reason_code="vendor_error", note="API down"
    )


def url_kwargs(name: str, world: dict) -> dict:
    order = {"order_id": world["order"].order_id}
    if name == "onboarding_status":
        return {"signed": services.status_link_path(world["order"]).rstrip("/").rsplit("/", 1)[1]}
    if name.startswith("onboarding:order_") and name != "onboarding:order_add":
        return order
    if name.startswith("onboarding:task_") and name != "onboarding:task_list":
        return {"pk": world["task"].pk}
    if name == "onboarding:exception_resolve":
        return {"pk": world["exception"].pk}
    return {}
