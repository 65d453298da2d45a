"""Login lockout policy (django-axes callables), session timeouts and security headers.

Lockout: failures are counted per username and address together, and per address across
usernames (password spraying). A lock is for that pair (or that address) only, so someone
who knows a colleague's username cannot lock them out from another address; behind a TLS
proxy the address comes from the proxy's header (`TRUSTED_PROXY_COUNT`, `client_address`).
Each further lockout of the same pair within a day doubles the wait (15 min, 30, 60 ... up
to a day). A data steward can unlock a username on the login audit page.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import time

from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.contrib.auth import logout
from django.db.models import Sum
from django.shortcuts import redirect
from django.utils import timezone

NEVER = 10**9
MAX_COOLOFF = dt.timedelta(hours=24)


def _username(request, credentials=None) -> str:
    credentials = credentials or getattr(request, "axes_credentials", None) or {}
    username = credentials.get("username") if isinstance(credentials, dict) else None
    if username is None and request is not None and request.method == "POST":
        username = request.POST.get("username")
    return (username or "")[:255]


def _valid(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_address(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the address the nearest trusted proxy saw. With N trusted
    proxies each appending to X-Forwarded-For, the client is the N-th entry from the right;
    anything further left was sent by the client and is ignored."""
    remote = _valid(request.META.get("REMOTE_ADDR", ""))
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies or (settings.TRUSTED_PROXY_IPS and remote not in settings.TRUSTED_PROXY_IPS):
        return remote
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < proxies:
        return remote
    return _valid(forwarded[-proxies]) or remote


def _address(request) -> str | None:
    address = getattr(request, "axes_ip_address", None)
    return address if address is not None else client_address(request)


def _failures(**lookup) -> int:
    return AccessAttempt.objects.filter(**lookup).aggregate(n=Sum("failures_since_start"))["n"] or 0


def failure_limit(request, credentials) -> int:
    """AXES_FAILURE_LIMIT: axes compares the largest failure count of its lockout
    parameters with one limit, so the two limits are decided here: 1 (locked) when the
    pair or the address is over its own limit, else never."""
    address = _address(request)
    pair = _failures(username=_username(request, credentials), ip_address=address)
    if pair >= settings.LOGIN_FAILURE_LIMIT:
        return 1
    if address is not None and _failures(ip_address=address) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
        return 1
    return NEVER


def cooloff(request=None) -> dt.timedelta:
    """AXES_COOLOFF_TIME: the base wait, doubled for each earlier lockout of this username
    from this address in the last day."""
    base = dt.timedelta(minutes=settings.LOGIN_COOLOFF_MINUTES)
    if request is None:
        return base
    since = timezone.now() - dt.timedelta(hours=24)
    lockouts = AccessFailureLog.objects.filter(
        username=_username(request), ip_address=_address(request), locked_out=True, attempt_time__gte=since
    ).count()
    # The attempt that locks is logged locked out; each later lockout adds at least one more.
    earlier = max(0, lockouts // settings.LOGIN_FAILURE_LIMIT)
    return min(base * (2**earlier), MAX_COOLOFF)


SESSION_LOGIN_AT = "cloudcore_login_at"
SESSION_SEEN_AT = "cloudcore_seen_at"
TOUCH_EVERY = 60  # seconds between writes of "last seen" (not one session write per request)


def start_session_clock(sender, request, user, **kwargs) -> None:
    """On login (a `user_logged_in` receiver): when the session began and was last used."""
    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[SESSION_LOGIN_AT] = now
        request.session[SESSION_SEEN_AT] = now


class SessionTimeoutMiddleware:
    """Logs a user out after SESSION_IDLE_TIMEOUT_MINUTES without a request, and
    SESSION_ABSOLUTE_TIMEOUT_HOURS after logging in, whatever happens."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = time.time()
            login_at = request.session.get(SESSION_LOGIN_AT)
            if login_at is None:  # a session from before the clock existed: start it now
                login_at = request.session[SESSION_LOGIN_AT] = now
            seen_at = request.session.get(SESSION_SEEN_AT, now)
            idle = now - seen_at > settings.SESSION_IDLE_TIMEOUT_MINUTES * 60
            expired = now - login_at > settings.SESSION_ABSOLUTE_TIMEOUT_HOURS * 3600
            if idle or expired:
                logout(request)
                return redirect(f"{settings.LOGIN_URL_PATH}?next={request.get_full_path()}")
            if now - seen_at >= TOUCH_EVERY or SESSION_SEEN_AT not in request.session:
                request.session[SESSION_SEEN_AT] = now  # at most one session write a minute
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Permissions-Policy on every response; `Cache-Control: no-store` on pages for a
    logged-in user when NO_STORE_FOR_USERS (production)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if settings.NO_STORE_FOR_USERS and user is not None and user.is_authenticated:
            response["Cache-Control"] = "no-store, private"
        return response
