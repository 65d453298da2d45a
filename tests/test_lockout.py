"""Lockout that cannot be used against staff: username and address together, the address
from a trusted proxy's header, a per-address limit against spraying, a rising wait, a
steward's unlock and audit; sessions that end when idle or after a working day."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from axes.models import AccessFailureLog
from django.urls import reverse

from cloudcore_crm.lib import security
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PROXY = "10.0.0.1"
ATTACKER, VICTIM = "203.0.113.9", "198.51.100.7"


def _login(client, username, password, *, forwarded=None, remote=PROXY):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_IPS = [PROXY]


def test_behind_a_proxy_an_attacker_cannot_lock_out_a_colleague(client, personas, behind_proxy):
    for _ in range(8):
        _login(client, "finance", "guess", forwarded=ATTACKER)
    assert _login(client, "finance", "cloudcore-demo", forwarded=ATTACKER).status_code == 429

    response = _login(client, "finance", "cloudcore-demo", forwarded=VICTIM)
    assert response.status_code == 302


def test_a_spoofed_forwarded_header_does_not_move_the_lock_onto_the_victim(client, personas, behind_proxy):
    # The proxy appends the real address; the attacker's own header only adds to the left.
    for _ in range(6):
        _login(client, "finance", "guess", forwarded=f"{VICTIM}, {ATTACKER}")
    assert _login(client, "finance", "cloudcore-demo", forwarded=VICTIM).status_code == 302


def test_without_a_trusted_proxy_a_client_sent_header_is_ignored(client, personas):
    for _ in range(5):
        _login(client, "finance", "guess", forwarded=VICTIM, remote=ATTACKER)
    # Locked for the attacker's real address, whatever header it sends...
    assert _login(client, "finance", "cloudcore-demo", forwarded="192.0.2.1", remote=ATTACKER).status_code == 429
    # ...and not for the colleague at another address.
    assert _login(client, "finance", "cloudcore-demo", remote=VICTIM).status_code == 302


def test_a_forwarded_header_from_an_untrusted_address_is_ignored(rf, behind_proxy):
    request = rf.get("/", REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=VICTIM)
    assert security.client_address(request) == ATTACKER
    assert security.client_address(rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="junk")) == PROXY


def test_password_spraying_from_one_address_locks_that_address(client, personas, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 10
    users = [UserFactory(username=f"sprayed{n}") for n in range(10)]
    for user in users[:-1]:
        assert _login(client, user.username, "Summer2026!", remote=ATTACKER).status_code == 200
    assert _login(client, users[-1].username, "Summer2026!", remote=ATTACKER).status_code == 429  # the 10th locks
    assert _login(client, "finance", "cloudcore-demo", remote=ATTACKER).status_code == 429
    assert _login(client, "finance", "cloudcore-demo", remote=VICTIM).status_code == 302


def test_each_lockout_of_the_same_pair_waits_longer(rf, personas, settings):
    request = rf.post(reverse("login"), {"username": "finance"}, REMOTE_ADDR=ATTACKER)
    first = security.cooloff(request)
    assert first == dt.timedelta(minutes=settings.LOGIN_COOLOFF_MINUTES)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        AccessFailureLog.objects.create(username="finance", ip_address=ATTACKER, locked_out=True)
    assert security.cooloff(request) == first * 2
    assert security.cooloff(rf.post("/", {"username": "finance"}, REMOTE_ADDR=VICTIM)) == first


def test_every_lockout_is_logged_with_where_from(client, personas):
    for _ in range(6):
        _login(client, "finance", "guess", remote=ATTACKER)
    locked = AccessFailureLog.objects.filter(username="finance", locked_out=True)
    assert locked.exists()
    assert set(locked.values_list("ip_address", flat=True)) == {ATTACKER}


def test_a_steward_unlocks_a_locked_username(client, client_for, personas):
    for _ in range(5):
        _login(client, "finance", "guess", remote=ATTACKER)
    assert _login(client, "finance", "cloudcore-demo", remote=ATTACKER).status_code == 429

    steward = client_for("data_steward")
    page = steward.get(reverse("login_audit")).content.decode()
    assert ATTACKER in page
    assert "Locked out" in page
    assert steward.post(reverse("login_unlock"), {"username": "finance"}).status_code == 302
    steward.logout()

    assert _login(client, "finance", "cloudcore-demo", remote=ATTACKER).status_code == 302


def test_only_a_steward_unlocks(client_for, personas):
    response = client_for("sales_manager").post(reverse("login_unlock"), {"username": "finance"})
    assert response.status_code == 403


def test_an_idle_session_is_logged_out(client_for):
    client = client_for("finance")
    assert client.get(reverse("home")).status_code == 200
    session = client.session
    session[security.SESSION_SEEN_AT] = time.time() - 31 * 60
    session.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_session_ends_eight_hours_after_logging_in_even_when_busy(client_for):
    client = client_for("finance")
    client.get(reverse("home"))
    session = client.session
    session[security.SESSION_LOGIN_AT] = time.time() - 8 * 3600 - 60
    session[security.SESSION_SEEN_AT] = time.time()
    session.save()
    assert client.get(reverse("home")).status_code == 302


def test_an_active_session_carries_on(client_for):
    client = client_for("finance")
    client.get(reverse("home"))
    session = client.session
    session[security.SESSION_SEEN_AT] = time.time() - 29 * 60
    session.save()
    assert client.get(reverse("home")).status_code == 200
