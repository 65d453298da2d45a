"""Webhook edges: races on a new ticket, hostile values, and what counts as an outage."""

from __future__ import annotations

import datetime as dt
import json
import threading
from unittest import mock

import pytest
from django.db import IntegrityError, OperationalError, connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from customers.choices import AliasKind
from customers.models import AccountAlias
from support_bridge.models import Ticket, WebhookEvent
from tests.conftest import is_postgres
from tests.factories import AccountFactory
from tests.factories_support import SECRET, event_body, post_event, signed_headers

pytestmark = pytest.mark.django_db
URL = "/api/support/webhook"


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.SUPPORT_WEBHOOK_SECRETS = [SECRET]


def _bluegum():
    account = AccountFactory(number=15, code="CC015", legal_name="Bluegum Logistics Pty Ltd")
    AccountAlias.objects.create(account=account, kind=AliasKind.HELPDESK_ORG, value="9500000000444")
    return account


@pytest.fixture
def bluegum():
    return _bluegum()


def _payload(**overrides) -> dict:
    body = json.loads(event_body(event_id="evt-1", ticket_id="7001", updated=timezone.now()))
    for key, value in overrides.items():
        if key.startswith("detail_"):
            body["detail"][key.removeprefix("detail_")] = value
        else:
            body[key] = value
    return body


def _post(client, payload: dict):
    return post_event(client, json.dumps(payload).encode())


def nothing_written() -> bool:
    return not WebhookEvent.objects.exists() and not Ticket.objects.exists()


# --- Hostile values: 400, never a 5xx the helpdesk would retry forever --------------------


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"detail_id": {"$gt": ""}}, id="ticket id an object"),
        pytest.param({"detail_id": ["7001"]}, id="ticket id a list"),
        pytest.param({"detail_id": True}, id="ticket id a boolean"),
        pytest.param({"detail_id": "70\u000001"}, id="ticket id with NUL"),
        pytest.param({"detail_id": "7001\r\nX-Injected: 1"}, id="ticket id with CRLF"),
        pytest.param({"detail_id": "x" * 65}, id="ticket id too long"),
        pytest.param({"id": {"a": 1}}, id="event id an object"),
        pytest.param({"id": "evt\u00001"}, id="event id with NUL"),
        pytest.param({"type": "zen:event-type:ticket.status_changed\u0000"}, id="type with NUL"),
        pytest.param({"detail_status": "EXPLODED"}, id="unknown status"),
        pytest.param({"detail_status": {"x": 1}}, id="status an object"),
        pytest.param({"extra": json.loads("[" * 100 + "]" * 100)}, id="JSON 100 deep"),
    ],
)
def test_hostile_values_get_400_and_nothing_is_written(client, bluegum, overrides):
    response = _post(client, _payload(**overrides))
    assert response.status_code == 400, response.content
    assert nothing_written()


def test_json_nested_far_beyond_the_parsers_recursion_gets_400(client, bluegum):
    body = b'{"id":"evt-1","detail":' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    response = post_event(client, body)
    assert response.status_code == 400
    assert nothing_written()


def test_a_body_sent_as_anything_but_json_gets_400(client, bluegum):
    body = event_body(event_id="evt-1", ticket_id="7001", updated=timezone.now())
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        response = client.post(URL, data=body, content_type=content_type, **signed_headers(body))
        assert response.status_code == 400, content_type
    assert nothing_written()


def test_nul_and_control_characters_in_text_fields_are_cleaned(client, bluegum):
    response = _post(
        client,
        _payload(detail_subject="Backup\u0000 failed\r\nBcc: everyone@example.com\t!", detail_tags=["vip\u0000"]),
    )
    assert response.status_code == 200, response.content
    ticket = Ticket.objects.get()
    assert ticket.subject == "Backup failed Bcc: everyone@example.com !"


def test_a_numeric_ticket_id_is_accepted(client, bluegum):
    assert _post(client, _payload(detail_id=7001)).status_code == 200
    assert Ticket.objects.get().external_id == "7001"


# --- Outages: 503 only when the database is down ------------------------------------------


def test_503_when_the_database_is_down(client, bluegum):
    with mock.patch("support_bridge.services.receive_webhook", side_effect=OperationalError("connection refused")):
        response = _post(client, _payload())
    assert response.status_code == 503
    assert response["Retry-After"] == "60"


def test_a_constraint_race_is_retried_not_answered_as_an_outage(client, bluegum):
    from support_bridge import services

    real = services.receive_webhook
    calls = []

    def first_loses_the_race(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise IntegrityError("duplicate key value violates unique constraint")
        return real(**kwargs)

    with mock.patch("support_bridge.services.receive_webhook", side_effect=first_loses_the_race):
        response = _post(client, _payload())
    assert response.status_code == 200
    assert Ticket.objects.count() == 1


# --- A late rating ---------------------------------------------------------------------------


def test_a_rated_event_older_than_the_mirror_still_applies_its_rating(client, bluegum):
    now = timezone.now()
    solved = event_body(event_id="evt-solved", ticket_id="7001", status="SOLVED", updated=now)
    rated = json.loads(
        event_body(
            event_id="evt-rated",
            ticket_id="7001",
            status="SOLVED",
            updated=now - dt.timedelta(minutes=5),
            event_type="zen:event-type:ticket.rated",
        )
    )
    rated["event"] = {"current": 3}
    assert post_event(client, solved).status_code == 200
    assert _post(client, rated).status_code == 200

    ticket = Ticket.objects.get()
    assert ticket.satisfaction == 3
    assert ticket.status == "solved"  # the late event's snapshot is still not applied


# --- Two events for a ticket not mirrored yet, at once --------------------------------------


@pytest.mark.skipif(not is_postgres(), reason="real concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_events_for_a_new_ticket_arriving_together_both_apply_40_times(settings):
    settings.SUPPORT_WEBHOOK_SECRETS = [SECRET]
    _bluegum()
    now = timezone.now()
    statuses: list[int] = []
    for round_ in range(40):
        ticket_id = str(80000 + round_)
        bodies = [
            event_body(event_id=f"race-{round_}-open", ticket_id=ticket_id, status="OPEN", updated=now),
            event_body(
                event_id=f"race-{round_}-pending",
                ticket_id=ticket_id,
                status="PENDING",
                updated=now + dt.timedelta(seconds=1),
            ),
        ]
        barrier = threading.Barrier(2)

        def send(body: bytes, barrier=barrier):
            try:
                barrier.wait(timeout=10)
                response = Client().post(
                    reverse("support_api:webhook"), data=body, content_type="application/json", **signed_headers(body)
                )
                statuses.append(response.status_code)
            finally:
                connection.close()

        threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert Ticket.objects.get(external_id=ticket_id).status == "pending"

    assert len(statuses) == 80
    assert [s for s in statuses if s >= 500] == []
    assert (
        WebhookEvent.objects.filter(status="applied").count() + WebhookEvent.objects.filter(status="stale").count()
        == 80
    )
