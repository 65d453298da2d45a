"""Factories and helpers for the support bridge tests (kept apart from tests/factories.py)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import factory
from django.urls import reverse
from django.utils import timezone

from support_bridge import signing
from support_bridge.choices import AlertKind, RiskBand, TicketPriority, TicketSource, TicketStatus
from support_bridge.models import ChurnAlert, RiskScore, Ticket
from tests.factories import AccountFactory

SAMPLES = Path(__file__).parent / "samples"
SECRET = "test-webhook-secret"
OLD_SECRET = "test-webhook-secret-being-rotated-out"
API_TOKEN = "test-lookup-token"


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    source = TicketSource.ZENDESK
    external_id = factory.Sequence(lambda n: str(50000 + n))
    account = factory.SubFactory(AccountFactory)
    subject = factory.Sequence(lambda n: f"Printer problem {n}")
    status = TicketStatus.CLOSED
    priority = TicketPriority.MEDIUM
    opened_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=30))


class RiskScoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RiskScore

    account = factory.SubFactory(AccountFactory)
    score = 80
    band = RiskBand.HIGH
    reasons = factory.LazyFunction(
        lambda: ["7 tickets in 180 days; peer median 1", "satisfaction fell from 7.9 to 4.2"]
    )


class ChurnAlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChurnAlert

    account = factory.SubFactory(AccountFactory)
    owner = factory.LazyAttribute(lambda a: a.account.owner)
    kind = AlertKind.RISK
    score = 80
    band = RiskBand.HIGH
    reasons = factory.LazyFunction(lambda: ["7 tickets in 180 days; peer median 1"])


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_body(
    *,
    event_id: str,
    ticket_id: str,
    status: str = "OPEN",
    priority: str = "HIGH",
    updated: dt.datetime,
    created: dt.datetime | None = None,
    external_id: str = "",
    tags: list[str] | None = None,
    organization_id: str = "9500000000444",
    subject: str = "Backup job failed",
    satisfaction: int | None = None,
    event_type: str = "zen:event-type:ticket.status_changed",
) -> bytes:
    """A ticket event in the shape of the shared Zendesk samples."""
    detail = {
        "created_at": iso(created or updated),
        "external_id": external_id,
        "id": ticket_id,
        "organization_id": organization_id,
        "priority": priority,
        "status": status,
        "subject": subject,
        "tags": tags or [],
        "updated_at": iso(updated),
        "via": {"channel": "email"},
    }
    if satisfaction is not None:
        detail["satisfaction_score"] = satisfaction
    payload = {
        "account_id": 12514403,
        "detail": detail,
        "event": {},
        "id": event_id,
        "subject": f"zen:ticket:{ticket_id}",
        "time": iso(updated),
        "type": event_type,
        "zendesk_event_version": "2022-11-06",
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def signed_headers(body: bytes, *, secret: str = SECRET, timestamp: str | None = None) -> dict[str, str]:
    timestamp = timestamp or iso(timezone.now())
    return {
        "HTTP_X_SIGNATURE_TIMESTAMP": timestamp,
        "HTTP_X_SIGNATURE": signing.sign(secret, timestamp, body),
    }


def post_event(client, body: bytes, **headers):
    return client.post(
        reverse("support_api:webhook"), data=body, content_type="application/json", **signed_headers(body, **headers)
    )
