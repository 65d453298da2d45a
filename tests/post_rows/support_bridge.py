"""POST rows for the support bridge: mapping held events, alerts, concerns, the webhook."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from support_bridge.choices import EventStatus
from support_bridge.models import ChurnAlert, WebhookEvent
from tests.factories_support import ChurnAlertFactory, RiskScoreFactory, event_body, sample
from tests.post_rows import EVERYONE, PostRow, allowed


def build(world: dict, personas: dict) -> None:
    body = event_body(
        event_id="matrix-held-1",
        ticket_id="77001",
        organization_id="999999",
        updated=timezone.now() - dt.timedelta(hours=1),
    )
    world["held_event"] = WebhookEvent.objects.create(
        event_id="matrix-held-1", body=body.decode(), status=EventStatus.UNMAPPED
    )
    world["risk_score"] = RiskScoreFactory(account=world["account"])
    world["other_alert"] = ChurnAlertFactory(account=world["other_account"], owner=world["other_rep"])


def _acknowledged(key: str):
    def check(world: dict, role: str) -> None:
        alert = ChurnAlert.objects.get(pk=world[key].pk)
        assert alert.acknowledged_by.username == role

    return check


POSTS: dict[str, PostRow] = {
    "support:unmapped_map": PostRow(
        allowed("data_steward"),
        kwargs=lambda w: {"pk": w["held_event"].pk},
        data=lambda w: {"account": w["account"].code, "reason": "POST matrix: their helpdesk org"},
    ),
    # The alert's owner (the sales rep), a sales manager or a steward acknowledges it.
    "support:alert_acknowledge": PostRow(
        allowed("sales_rep", "sales_manager", "data_steward"),
        kwargs=lambda w: {"pk": w["alert"].pk},
        data=lambda w: {"note": "Calling them tomorrow"},
        done=_acknowledged("alert"),
    ),
    "support:alert_acknowledge@another_reps_alert": PostRow(
        allowed("sales_manager", "data_steward"),
        kwargs=lambda w: {"pk": w["other_alert"].pk},
        data=lambda w: {"note": "Not my alert"},
        done=_acknowledged("other_alert"),
    ),
    "support:concern_add": PostRow(
        allowed("support_agent", "customer_relations", "data_steward"),
        kwargs=lambda w: {"code": w["account"].code},
        data=lambda w: {"message": "Seven tickets this month"},
    ),
    # A session is never enough: without a signature every caller gets 401.
    "support_api:webhook": PostRow(
        dict.fromkeys(EVERYONE, 401),
        content_type="application/json",
        data=lambda w: {"body": sample("zendesk_webhook_ticket_created.body.json")},
    ),
}

READ_ONLY = {"support:lookup", "support:unmapped_list", "support_api:lookup"}
