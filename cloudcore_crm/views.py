"""Pages of the project itself (not of one app): the person's profile, and the stewards'
login audit (built on django-axes' logs) with unlock."""

from __future__ import annotations

import datetime as dt
import logging

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from axes.utils import reset
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from cloudcore_crm.lib.text import single_line
from cloudcore_crm.roles import DATA_STEWARD, has_role

logger = logging.getLogger(__name__)
AUDIT_ROWS = 200


def _steward_only(request: HttpRequest) -> None:
    if not has_role(request.user, DATA_STEWARD):
        raise PermissionDenied("The login audit is for data stewards.")


def login_audit(request: HttpRequest) -> HttpResponse:
    """Successful and failed log-ins and lockouts, newest first, with where from."""
    _steward_only(request)
    since = timezone.now() - dt.timedelta(days=30)
    context = {
        "locked": AccessAttempt.objects.order_by("-attempt_time")[:AUDIT_ROWS],
        "failures": AccessFailureLog.objects.filter(attempt_time__gte=since).order_by("-attempt_time")[:AUDIT_ROWS],
        "logins": AccessLog.objects.filter(attempt_time__gte=since).order_by("-attempt_time")[:AUDIT_ROWS],
    }
    return render(request, "registration/login_audit.html", context)


@require_POST
def login_unlock(request: HttpRequest) -> HttpResponse:
    """A steward clears the failures of a username (from every address) or of an address."""
    _steward_only(request)
    username = str(single_line(request.POST.get("username", "")))[:255]
    address = str(single_line(request.POST.get("ip_address", "")))[:45]
    if not username and not address:
        messages.error(request, "Say which username or address to unlock.")
        return redirect("login_audit")
    cleared = reset(username=username or None, ip=address or None)
    logger.warning("Login lockout cleared by %s: username=%r address=%r", request.user.username, username, address)
    messages.success(request, f"Unlocked {username or address}: {cleared} failed attempt record(s) cleared.")
    return redirect("login_audit")


def profile(request: HttpRequest) -> HttpResponse:
    """The signed-in person: their roles, and what other apps show them here (the
    renewals calendar feeds, through the "profile" panel slot)."""
    return render(request, "profile.html")
