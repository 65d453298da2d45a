"""The helpdesk webhook: signed, replay-safe, idempotent, never drops an event."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from unittest import mock

import pytest
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from customers.choices import AliasKind
from customers.models import AccountAlias
from support_bridge import signing
from support_bridge.choices import EventStatus, Resolution, TicketStatus
from support_bridge.models import Ticket, WebhookEvent
from tests.factories import AccountFactory
from tests.factories_support import OLD_SECRET, SECRET, event_body, iso, post_event, sample, signed_headers

pytestmark = pytest.mark.django_db
URL = "/api/support/webhook"


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.SUPPORT_WEBHOOK_SECRETS = [SECRET, OLD_SECRET]


@pytest.fixture
def bluegum():
    account = AccountFactory(number=15, code="CC015", legal_name="Bluegum Logistics Pty Ltd")
    AccountAlias.objects.create(account=account, kind=AliasKind.HELPDESK_ORG, value="9500000000444")
    return account


def nothing_written() -> bool:
    return not WebhookEvent.objects.exists() and not Ticket.objects.exists()


def test_the_webhook_url_is_the_one_design_md_names():
    assert reverse("support_api:webhook") == URL


def test_a_signed_sample_event_creates_the_ticket_on_the_mapped_account(client, bluegum):
    response = post_event(client, sample("zendesk_webhook_ticket_created.body.json"))

    assert response.status_code == 200, response.content
    ticket = Ticket.objects.get()
    assert (ticket.external_id, ticket.account, ticket.status, ticket.priority) == ("35436", bluegum, "open", "high")
    assert ticket.subject == "Backup job failed - warehouse NAS"
    event = WebhookEvent.objects.get()
    assert (event.status, event.resolution, event.ticket) == (EventStatus.APPLIED, Resolution.ORGANIZATION, ticket)
    assert ticket.history.get().history_change_reason == "Helpdesk webhook"


def test_the_solved_sample_after_the_created_one_solves_the_ticket(client, bluegum):
    post_event(client, sample("zendesk_webhook_ticket_created.body.json"))
    post_event(client, sample("zendesk_webhook_ticket_solved.body.json"))

    ticket = Ticket.objects.get()
    assert ticket.status == TicketStatus.SOLVED
    assert ticket.resolution_hours == Decimal("6.42")  # 06:55:00 -> 13:20:19


def test_the_sample_signature_matches_zendesks_documented_algorithm():
    # The shared sample headers were made with Zendesk's secret; the same algorithm must agree.
    body = sample("zendesk_webhook_ticket_created.body.json")
    assert signing.sign("dev-zendesk-webhook-secret", "2025-08-12T13:20:21Z", body) == (
        "8kXIXW6kpn+aSB03I8HhvYuSt8vsjuNLsYa3RJQ6ah8="
    )


@pytest.mark.parametrize(
    "headers",
    [
        # A fresh timestamp, so only the signature can be what refuses it.
        pytest.param(
            lambda: {"HTTP_X_SIGNATURE": "bm9wZQ==", "HTTP_X_SIGNATURE_TIMESTAMP": iso(timezone.now())},
            id="bad signature",
        ),
        pytest.param(dict, id="missing both headers"),
        pytest.param(lambda: {"HTTP_X_SIGNATURE_TIMESTAMP": iso(timezone.now())}, id="missing signature"),
    ],
)
def test_a_bad_or_missing_signature_gets_401_and_nothing_is_written(client, bluegum, headers):
    body = sample("zendesk_webhook_ticket_created.body.json")
    response = client.post(URL, data=body, content_type="application/json", **headers())

    assert response.status_code == 401
    assert nothing_written()


def test_a_signature_made_with_another_secret_gets_401(client, bluegum):
    response = post_event(client, sample("zendesk_webhook_ticket_created.body.json"), secret="someone-else")
    assert response.status_code == 401
    assert nothing_written()


def test_a_body_changed_after_signing_gets_401(client, bluegum):
    body = sample("zendesk_webhook_ticket_created.body.json")
    headers = signed_headers(body)
    response = client.post(URL, data=body.replace(b"HIGH", b"LOW"), content_type="application/json", **headers)
    assert response.status_code == 401
    assert nothing_written()


@pytest.mark.parametrize("minutes", [-6, 6])
def test_a_timestamp_more_than_five_minutes_off_gets_401_even_with_a_good_signature(client, bluegum, minutes):
    stale = iso(timezone.now() + dt.timedelta(minutes=minutes))
    response = post_event(client, sample("zendesk_webhook_ticket_created.body.json"), timestamp=stale)
    assert response.status_code == 401
    assert nothing_written()


def test_the_samples_own_old_timestamp_is_a_replay_and_gets_401(client, bluegum):
    response = post_event(client, sample("zendesk_webhook_ticket_created.body.json"), timestamp="2025-08-12T13:20:21Z")
    assert response.status_code == 401
    assert nothing_written()


@pytest.mark.parametrize("secret", [SECRET, OLD_SECRET])
def test_both_secrets_are_accepted_during_a_rotation(client, bluegum, secret):
    response = post_event(client, sample("zendesk_webhook_ticket_created.body.json"), secret=secret)
    assert response.status_code == 200
    assert Ticket.objects.count() == 1


def test_with_no_secret_configured_every_delivery_is_refused(client, bluegum, settings):
    settings.SUPPORT_WEBHOOK_SECRETS = []
    assert post_event(client, sample("zendesk_webhook_ticket_created.body.json")).status_code == 401
    assert nothing_written()


def test_a_body_over_one_megabyte_gets_413(client, bluegum):
    body = b'{"padding":"' + b"x" * (1024 * 1024) + b'"}'
    response = post_event(client, body)
    assert response.status_code == 413
    assert nothing_written()


def test_a_body_longer_than_its_content_length_header_says_still_gets_413(rf, bluegum):
    from support_bridge.views import webhook

    body = b"x" * (1024 * 1024 + 10)
    request = rf.post(URL, data=body, content_type="application/json", **signed_headers(body))
    request.META["CONTENT_LENGTH"] = str(len(body))  # honest length: the read itself is capped
    request.user = mock.Mock(is_authenticated=False)
    assert webhook(request).status_code == 413


def test_a_signed_body_that_is_not_a_ticket_event_gets_400_and_nothing_is_written(client, bluegum):
    response = post_event(client, b'{"hello": "world"}')
    assert response.status_code == 400
    assert nothing_written()


def test_get_is_not_allowed(client):
    assert client.get(URL).status_code == 405


def test_a_redelivered_event_changes_nothing_twice(client, bluegum):
    body = sample("zendesk_webhook_ticket_created.body.json")
    post_event(client, body)
    again = post_event(client, body)

    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert Ticket.objects.count() == 1 and WebhookEvent.objects.count() == 1
    assert Ticket.history.count() == 1


def test_an_older_event_arriving_late_does_not_roll_the_ticket_back(client, bluegum):
    post_event(client, sample("zendesk_webhook_ticket_solved.body.json"))
    late = post_event(client, sample("zendesk_webhook_ticket_created.body.json"))

    assert late.json()["status"] == EventStatus.STALE
    assert Ticket.objects.get().status == TicketStatus.SOLVED
    assert Ticket.history.count() == 1


def test_the_customer_code_in_external_id_or_a_tag_finds_the_account(client):
    meridian = AccountFactory(number=9, code="CC009")
    now = timezone.now()
    post_event(client, event_body(event_id="e1", ticket_id="1", updated=now, external_id="CC009", organization_id=""))
    post_event(client, event_body(event_id="e2", ticket_id="2", updated=now, tags=["backup", "cc009"]))

    assert set(Ticket.objects.values_list("account", flat=True)) == {meridian.pk}
    assert list(WebhookEvent.objects.order_by("event_id").values_list("resolution", flat=True)) == [
        Resolution.CODE,
        Resolution.TAG,
    ]


def test_an_event_for_an_unknown_organisation_is_kept_for_a_steward_and_mapping_applies_it(
    client, client_for, personas
):
    account = AccountFactory(number=15, code="CC015")
    body = sample("zendesk_webhook_ticket_created.body.json")
    response = post_event(client, body)

    assert response.status_code == 202
    event = WebhookEvent.objects.get()
    assert event.status == EventStatus.UNMAPPED and event.body == body.decode()
    assert not Ticket.objects.exists()

    steward = client_for("data_steward")
    page = steward.get(reverse("support:unmapped_list"))
    assert b"9500000000444" in page.content
    mapped = steward.post(
        reverse("support:unmapped_map", args=[event.pk]), {"account": "cc015", "reason": "Bluegum's helpdesk org"}
    )

    assert mapped.status_code == 302
    event.refresh_from_db()
    assert (event.status, event.resolution, event.account) == (EventStatus.APPLIED, Resolution.STEWARD, account)
    assert Ticket.objects.get().account == account
    alias = AccountAlias.objects.get(kind=AliasKind.HELPDESK_ORG)
    assert (alias.account, alias.value) == (account, "9500000000444")
    assert alias.history.get().history_user == personas["data_steward"]
    # The next event from that organisation finds the account by itself.
    client.logout()
    post_event(client, sample("zendesk_webhook_ticket_solved.body.json"))
    assert Ticket.objects.get().status == TicketStatus.SOLVED


def test_only_a_steward_may_map_an_unmapped_event(client, client_for):
    AccountFactory(number=15, code="CC015")
    post_event(client, sample("zendesk_webhook_ticket_created.body.json"))
    event = WebhookEvent.objects.get()
    response = client_for("support_agent").post(
        reverse("support:unmapped_map", args=[event.pk]), {"account": "CC015", "reason": "guess"}
    )
    assert response.status_code == 403
    assert WebhookEvent.objects.get().status == EventStatus.UNMAPPED


def test_when_the_database_is_down_the_helpdesk_gets_a_5xx_so_it_retries(client, bluegum):
    with mock.patch("support_bridge.services.receive_webhook", side_effect=OperationalError("server closed")):
        response = post_event(client, sample("zendesk_webhook_ticket_created.body.json"))
    assert response.status_code >= 500
    assert response.status_code == 503


def _history_of_events(rng: random.Random, tickets: int, per_ticket: int) -> list[bytes]:
    """Each ticket's life as a series of full snapshots, each newer than the last."""
    start = timezone.now() - dt.timedelta(days=3)
    bodies = []
    statuses = ["NEW", "OPEN", "PENDING", "OPEN", "SOLVED", "CLOSED"]
    for t in range(tickets):
        created = start + dt.timedelta(minutes=t)
        rating = None
        for step in range(per_ticket):
            if step == per_ticket - 2:
                rating = rng.randint(0, 10)  # rated once solved; later snapshots carry the rating
            bodies.append(
                event_body(
                    event_id=f"evt-{t}-{step}",
                    ticket_id=str(7000 + t),
                    created=created,
                    updated=created + dt.timedelta(minutes=10 * step + 1),
                    status=statuses[min(step, len(statuses) - 1)],
                    priority=rng.choice(["LOW", "NORMAL", "HIGH", "URGENT"]),
                    subject=f"Ticket {t} step {step}",
                    tags=["cc015"] if t % 2 else [],
                    satisfaction=rating,
                )
            )
    return bodies


def _end_state() -> list[tuple]:
    return list(
        Ticket.objects.order_by("external_id").values_list(
            "external_id", "account_id", "status", "priority", "subject", "satisfaction", "source_updated_at"
        )
    )


def test_a_thousand_events_shuffled_with_duplicates_end_as_if_each_came_once_in_order(client, bluegum):
    rng = random.Random(5)
    bodies = _history_of_events(rng, tickets=200, per_ticket=5)
    assert len(bodies) == 1000
    for body in bodies:
        assert post_event(client, body).status_code == 200
    expected = _end_state()
    expected_history = Ticket.history.count()

    Ticket.history.all().delete()
    Ticket.objects.all().delete()
    WebhookEvent.objects.all().delete()
    deliveries = bodies + rng.sample(bodies, 300)  # 30% delivered twice
    rng.shuffle(deliveries)
    for body in deliveries:
        assert post_event(client, body).status_code == 200

    assert _end_state() == expected
    assert WebhookEvent.objects.count() == 1000
    assert Ticket.objects.count() == 200
    # Each event changed the ticket at most once; stale ones changed nothing.
    assert Ticket.history.count() <= expected_history
