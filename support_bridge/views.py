"""Support pages and the helpdesk's endpoints. Thin: parse, call a service or a read, render."""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db import DataError, IntegrityError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cloudcore_crm.roles import DATA_STEWARD, has_role
from customers.errors import DomainError
from customers.models import Account
from support_bridge import lookup, services, signing
from support_bridge.forms import AcknowledgeForm, ConcernForm, MapEventForm
from support_bridge.models import ChurnAlert, WebhookEvent
from support_bridge.payloads import PayloadError
from support_bridge.services import CONCERN_ROLES

logger = logging.getLogger(__name__)

MAX_WEBHOOK_BYTES = 1024 * 1024


# --- Agent lookup ---------------------------------------------------------------------------


def lookup_page(request: HttpRequest) -> HttpResponse:
    result = lookup.find(request.GET.get("q", ""))
    context = {
        "result": result,
        "lookup_q": result.query,
        "can_raise_concern": has_role(request.user, *CONCERN_ROLES),
        "concern_form": ConcernForm(),
    }
    template = "support_bridge/partials/lookup_result.html" if request.htmx else "support_bridge/lookup.html"
    return render(request, template, context)


def _token_ok(request: HttpRequest) -> bool:
    """`Authorization: Token <token>` or `Bearer <token>`; a session alone never counts."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() not in ("token", "bearer") or not token.strip():
        return False
    given = token.strip().encode()
    matched = False
    for allowed in settings.SUPPORT_LOOKUP_API_TOKENS:
        matched |= hmac.compare_digest(allowed.encode(), given)
    return matched


@login_not_required
@require_GET
def api_lookup(request: HttpRequest) -> JsonResponse:
    if not _token_ok(request):
        response = JsonResponse({"detail": "A valid API token is required."}, status=401)
        response["WWW-Authenticate"] = 'Token realm="support lookup"'
        return response
    return JsonResponse(lookup.as_json(lookup.find(request.GET.get("q", ""))))


# --- Webhook --------------------------------------------------------------------------------


def _problem(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


@login_not_required
@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> JsonResponse:
    """Ticket events from the helpdesk, signed with a shared secret (see README)."""
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        return _problem(400, "Content-Length is not a number.")
    if declared > MAX_WEBHOOK_BYTES:
        return _problem(413, "The body is larger than 1 MB.")
    body = request.read(MAX_WEBHOOK_BYTES + 1)
    if len(body) > MAX_WEBHOOK_BYTES:
        return _problem(413, "The body is larger than 1 MB.")
    if request.content_type != "application/json":
        return _problem(400, "The body must be sent as application/json.")
    if not signing.verify(
        secrets=settings.SUPPORT_WEBHOOK_SECRETS,
        timestamp=request.headers.get("X-Signature-Timestamp"),
        signature=request.headers.get("X-Signature"),
        body=body,
        now=timezone.now(),
    ):
        return _problem(401, "Missing or bad signature, or a timestamp outside five minutes.")
    try:
        delivery = _receive(body)
    except PayloadError as error:
        return _problem(400, str(error))
    except DataError as error:
        # A value the database cannot store: retrying the same body would never succeed.
        logger.warning("Webhook refused: %s", error)
        return _problem(400, "A value in the event cannot be stored.")
    except (OperationalError, InterfaceError):
        # The database is down or unreachable: the helpdesk retries on a 5xx; nothing is lost.
        logger.exception("Webhook could not be stored")
        response = _problem(503, "The CRM database is unavailable; retry later.")
        response["Retry-After"] = "60"
        return response
    event = delivery.event
    return JsonResponse(
        {"event": event.event_id, "status": event.status, "duplicate": delivery.duplicate},
        status=200 if delivery.duplicate else 202 if event.status == "unmapped" else 200,
    )


def _receive(body: bytes) -> services.Delivery:
    """The delivery applied; a rare unique-constraint race (two deliveries of one event
    id at once) is simply retried, and the retry finds the stored event."""
    for attempt in range(3):
        try:
            return services.receive_webhook(body=body)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


# --- Steward: events whose client is not known ------------------------------------------


def _require_steward(request: HttpRequest) -> None:
    if not has_role(request.user, DATA_STEWARD):
        raise PermissionDenied("Mapping helpdesk organisations is for data stewards.")


@require_GET
def unmapped_list(request: HttpRequest) -> HttpResponse:
    _require_steward(request)
    events = list(WebhookEvent.objects.unmapped()[:200])
    return render(request, "support_bridge/unmapped_list.html", {"events": events, "form": MapEventForm()})


@require_POST
def unmapped_map(request: HttpRequest, pk: int) -> HttpResponse:
    _require_steward(request)
    event = get_object_or_404(WebhookEvent.objects.unmapped(), pk=pk)
    form = MapEventForm(request.POST)
    if form.is_valid():
        try:
            applied = services.map_unmapped_event(
                event=event,
                account=form.cleaned_data["account"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except (DomainError, PayloadError) as error:
            messages.error(request, str(error))
        else:
            account = form.cleaned_data["account"]
            messages.success(request, f"Mapped to {account.code}; applied {len(applied)} held event(s).")
            return redirect("support:unmapped_list")
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    events = list(WebhookEvent.objects.unmapped()[:200])
    context = {"events": events, "form": MapEventForm(), "failed": event.pk, "failed_form": form}
    return render(request, "support_bridge/unmapped_list.html", context, status=400)


# --- Alerts -------------------------------------------------------------------------------


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


@require_POST
def alert_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(ChurnAlert.objects.select_related("account"), pk=pk)
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Add a note to acknowledge the alert.")
    else:
        try:
            services.acknowledge_alert(alert=alert, actor=request.user, note=form.cleaned_data["note"])
        except DomainError as error:
            raise PermissionDenied(str(error)) from error
        messages.success(request, f"Acknowledged the alert on {alert.account.code}.")
    return redirect(_back(request, "/"))


@require_http_methods(["GET", "POST"])
def concern_add(request: HttpRequest, code: str) -> HttpResponse:
    if not has_role(request.user, *CONCERN_ROLES):
        raise PermissionDenied("Raising a concern is for support and customer relations.")
    account = get_object_or_404(Account.objects.select_related("owner"), code__iexact=code)
    form = ConcernForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.raise_concern(account=account, actor=request.user, message=form.cleaned_data["message"])
        owner = account.owner.get_full_name() if account.owner else "the account owner"
        messages.success(request, f"Sent your concern to {owner}; it is on the timeline too.")
        return redirect(_back(request, account.get_absolute_url()))
    status = 400 if request.method == "POST" else 200
    return render(request, "support_bridge/concern_form.html", {"account": account, "form": form}, status=status)
