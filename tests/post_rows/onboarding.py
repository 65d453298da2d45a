"""POST rows for onboarding: sales and Customer Relations take orders in, Customer
Relations validates, provisioning works the tasks and exceptions, IT's tooling signs events."""

from __future__ import annotations

import datetime as dt
import json

from customers.models import Product
from onboarding.choices import OrderStatus, TaskStatus
from onboarding.models import ExceptionCase, Order, ProvisioningTask
from tests.factories_onboarding import draft_order, submitted_order
from tests.post_rows import EVERYONE, PostRow, allowed

INTAKE = ("sales_rep", "sales_manager", "customer_relations", "data_steward")
VALIDATE = ("customer_relations", "data_steward")
PROVISIONING = ("provisioning", "data_steward")
CANCEL = ("customer_relations", "sales_manager", "provisioning", "data_steward")
LINK = ("sales_rep", "sales_manager", "customer_relations", "data_steward")
SIGNED_IN = EVERYONE[:-1]


def build(world: dict, personas: dict) -> None:
    world["submitted_order"] = submitted_order(personas["sales_rep"], world["account"])
    world["other_order"] = draft_order(world["other_rep"], world["other_account"])


def _order_form(world: dict, action: str = "save", account: str = "account") -> dict:
    start = (dt.date.today() + dt.timedelta(days=14)).isoformat()
    return {
        "account_code": world[account].code,
        "billing_contact_name": "Bea Biller",
        "billing_contact_email": "accounts@harbour.example",
        "technical_contact_name": "Tom Tech",
        "technical_contact_email": "it@harbour.example",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "20",
        "lines-0-product": str(Product.objects.get(code="cloudsync").pk),
        "lines-0-seats": "30",
        "lines-0-annual_value": "9000.00",
        "lines-0-start_date": start,
        "lines-0-term_months": "24",
        "action": action,
    }


def _order_id(key: str):
    return lambda w: {"order_id": w[key].order_id}


def _status_if(key: str, status: str, roles: tuple[str, ...]):
    """Only `roles` moved the order to `status`; everyone else left it as it was."""

    def check(world: dict, role: str) -> None:
        now = Order.objects.get(pk=world[key].pk).status
        assert (now == status) == (role in roles), (role, now)

    return check


def _validated(world: dict, role: str) -> None:
    # Validated, and an order that may go on by itself already provisioning.
    now = Order.objects.get(pk=world["submitted_order"].pk).status
    assert now in (OrderStatus.VALIDATED, OrderStatus.PROVISIONING), now


def _link_renewed_if(roles: tuple[str, ...]):
    def check(world: dict, role: str) -> None:
        token = Order.objects.get(pk=world["order"].pk).status_token
        assert (token != world["order"].status_token) == (role in roles), role

    return check


def _task_status(status: str):
    def check(world: dict, role: str) -> None:
        assert ProvisioningTask.objects.get(pk=world["task"].pk).status == status

    return check


def _exception_resolved(world: dict, role: str) -> None:
    assert ExceptionCase.objects.get(pk=world["exception"].pk).resolved_at is not None


POSTS: dict[str, PostRow] = {
    # The account is the sales rep's, so the rep may start an order on it.
    "onboarding:order_add": PostRow(allowed(*INTAKE), data=_order_form),
    # The draft is the sales rep's own.
    "onboarding:order_edit": PostRow(
        allowed(*INTAKE), kwargs=_order_id("order"), data=lambda w: _order_form(w, "save")
    ),
    # Object scope: the sales rep neither starts an order on another rep's client nor edits
    # another rep's draft.
    "onboarding:order_add@another_reps_account": PostRow(
        allowed("sales_manager", "customer_relations", "data_steward"),
        data=lambda w: _order_form(w, account="other_account"),
    ),
    "onboarding:order_edit@another_reps_order": PostRow(
        allowed("sales_manager", "customer_relations", "data_steward"),
        kwargs=_order_id("other_order"),
        data=lambda w: _order_form(w, account="other_account"),
    ),
    "onboarding:order_cancel@another_reps_order": PostRow(
        allowed(*CANCEL),
        kwargs=_order_id("other_order"),
        data=lambda w: {"reason": "POST matrix: not mine"},
        done=_status_if("other_order", OrderStatus.CANCELLED, CANCEL),
    ),
    "onboarding:order_validate": PostRow(
        allowed(*VALIDATE),
        kwargs=_order_id("submitted_order"),
        data=lambda w: {"reason": "POST matrix"},
        done=_validated,
    ),
    "onboarding:order_return": PostRow(
        allowed(*VALIDATE),
        kwargs=_order_id("submitted_order"),
        data=lambda w: {"reason": "POST matrix: no billing contact"},
        done=_status_if("submitted_order", OrderStatus.DRAFT, VALIDATE),
    ),
    # A draft: whoever may edit it (its rep) cancels it too, besides the cancelling roles.
    "onboarding:order_cancel": PostRow(
        allowed("sales_rep", *CANCEL),
        kwargs=_order_id("order"),
        data=lambda w: {"reason": "POST matrix: the client changed their mind"},
        done=_status_if("order", OrderStatus.CANCELLED, ("sales_rep", *CANCEL)),
    ),
    "onboarding:order_override": PostRow(
        allowed("customer_relations", "data_steward"),
        kwargs=_order_id("submitted_order"),
        data=lambda w: {"to_status": "cancelled", "reason": "POST matrix: signed elsewhere"},
        done=_status_if("submitted_order", OrderStatus.CANCELLED, VALIDATE),
    ),
    "onboarding:order_status_link": PostRow(allowed(*LINK), kwargs=_order_id("order"), done=_link_renewed_if(LINK)),
    "onboarding:order_status_link@revoke": PostRow(
        allowed(*LINK),
        kwargs=_order_id("order"),
        data=lambda w: {"action": "revoke"},
        done=_link_renewed_if(LINK),
    ),
    "onboarding:task_claim": PostRow(
        allowed(*PROVISIONING), kwargs=lambda w: {"pk": w["task"].pk}, done=_task_status(TaskStatus.CLAIMED)
    ),
    "onboarding:task_complete": PostRow(
        allowed(*PROVISIONING),
        kwargs=lambda w: {"pk": w["task"].pk},
        data=lambda w: {"tenancy_ref": "TEN-MATRIX-1", "note": ""},
        done=_task_status(TaskStatus.DONE),
    ),
    "onboarding:task_fail": PostRow(
        allowed(*PROVISIONING),
        kwargs=lambda w: {"pk": w["task"].pk},
        data=lambda w: {"reason_code": "vendor_error", "note": "The API is down"},
        done=_task_status(TaskStatus.FAILED),
    ),
    "onboarding:exception_resolve": PostRow(
        allowed(*PROVISIONING),
        kwargs=lambda w: {"pk": w["exception"].pk},
        data=lambda w: {"resolution": "retry", "note": "The API is back"},
        done=_exception_resolved,
    ),
    # IT's tooling signs its events: a session is never enough, an unsigned body gets 401.
    "onboarding_events": PostRow(
        dict.fromkeys(EVERYONE, 401),
        content_type="application/json",
        data=lambda w: {"body": json.dumps({"event_id": "matrix-1", "task": w["task"].reference, "status": "done"})},
    ),
}

READ_ONLY = {
    "onboarding:board",
    "onboarding:order_detail",
    "onboarding:task_list",
    "onboarding:exception_list",
    "onboarding_status",
}
