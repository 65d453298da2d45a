"""Matrix rows for the support bridge."""

from __future__ import annotations

from cloudcore_crm.roles import ROLE_NAMES
from support_bridge.choices import EventStatus
from support_bridge.models import WebhookEvent
from tests.factories_support import ChurnAlertFactory
from tests.permission_rows import ANON, OK_FOR_ALL, only

POST_ONLY = {**dict.fromkeys(ROLE_NAMES, 405), ANON: 302}

ROWS: dict[str, dict[str, int]] = {
    "support:lookup": OK_FOR_ALL,
    "support:unmapped_list": only("data_steward"),
    "support:unmapped_map": POST_ONLY,
    "support:alert_acknowledge": POST_ONLY,
    "support:concern_add": only("support_agent", "customer_relations", "data_steward"),
    # The helpdesk's endpoints: a signature or a token, never a session.
    "support_api:webhook": {**dict.fromkeys(ROLE_NAMES, 405), ANON: 405},  # POST only, no login
    "support_api:lookup": {**dict.fromkeys(ROLE_NAMES, 401), ANON: 401},  # no token, no answer
    "admin:support_bridge_ticket_changelist": only("data_steward", denied=302),
    "admin:support_bridge_ticket_change": only("data_steward", denied=302),
    "admin:support_bridge_ticket_history": only("data_steward", denied=302),
    "admin:support_bridge_riskscore_changelist": only("data_steward", denied=302),
    "admin:support_bridge_churnalert_changelist": only("data_steward", denied=302),
    "admin:support_bridge_webhookevent_changelist": only("data_steward", denied=302),
}


def build(world: dict, personas: dict) -> None:
    from tests.factories_support import TicketFactory

    world["ticket"] = TicketFactory(account=world["account"])
    world["alert"] = ChurnAlertFactory(account=world["account"], owner=personas["sales_rep"])
    world["event"] = WebhookEvent.objects.create(event_id="perm-1", body="{}", status=EventStatus.UNMAPPED)


def url_kwargs(name: str, world: dict) -> dict:
    return {
        "support:unmapped_map": {"pk": world["event"].pk},
        "support:alert_acknowledge": {"pk": world["alert"].pk},
        "support:concern_add": {"code": world["account"].code},
        "admin:support_bridge_ticket_change": {"object_id": world["ticket"].pk},
        "admin:support_bridge_ticket_history": {"object_id": world["ticket"].pk},
    }.get(name, {})
