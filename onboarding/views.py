"""Onboarding pages, the provisioning queues, IT's signed events and the customer's
status page. Thin: parse, call a service or a read, render."""

from __future__ import annotations

import datetime as dt
import json
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cloudcore_crm.lib import signing as request_signing
from cloudcore_crm.roles import has_role
from customers.errors import DomainError
from customers.models import Account, Opportunity
from onboarding import kpis, services
from onboarding.choices import OrderStatus, TaskStatus
from onboarding.errors import DuplicateClientError, MissingFieldsError, NotAllowedError
from onboarding.forms import (
    CompleteTaskForm,
    FailTaskForm,
    LineFormSet,
    OrderForm,
    OverrideForm,
    ReasonForm,
    ResolveForm,
    ValidateForm,
)
from onboarding.models import BillingHandoff, ExceptionCase, Order, ProvisioningTask

logger = logging.getLogger(__name__)

LIST_LENGTH = 100
HANDOFFS_SHOWN = 10  # Finance's recent activations on the board
MAX_EVENT_BYTES = 64 * 1024


def _order(order_id: str, queryset=None) -> Order:
    return get_object_or_404(queryset if queryset is not None else Order.objects.all(), order_id=order_id.upper())


def _say(request: HttpRequest, error: Exception) -> None:
    if isinstance(error, NotAllowedError):
        raise PermissionDenied(str(error))
    messages.error(request, str(error))


# --- The board -----------------------------------------------------------------------------


@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """KPIs, then the orders (search by order ID, client code or name; filter by status)."""
    orders = Order.objects.for_list().search(request.GET.get("q", ""))
    status = request.GET.get("status", "")
    if status in OrderStatus.values:
        orders = orders.filter(status=status)
    context = {
        "orders": list(orders[:LIST_LENGTH]),
        "q": request.GET.get("q", ""),
        "status": status,
        "statuses": OrderStatus.choices,
        "can_start": services.can_start(request.user),
    }
    if request.htmx:
        return render(request, "onboarding/partials/order_table.html", context)
    context["kpis"] = kpis.board()
    context["handoffs"] = list(BillingHandoff.objects.select_related("order__account")[:HANDOFFS_SHOWN])
    return render(request, "onboarding/board.html", context)


# --- Intake --------------------------------------------------------------------------------


def _prefill(request: HttpRequest) -> tuple[dict, list[dict], Opportunity | None]:
    """Initial values from the won deal (?opportunity=<id>) or the account (?account=CC009)."""
    opportunity = None
    account = None
    if request.GET.get("opportunity", "").isdigit():
        opportunity = get_object_or_404(
            Opportunity.objects.select_related("account", "product"), pk=request.GET["opportunity"]
        )
        account = opportunity.account
    elif request.GET.get("account"):
        account = get_object_or_404(Account.objects.active_records(), code=request.GET["account"].upper())
    header: dict = {}
    line: dict = {"term_months": 12, "start_date": timezone.localdate() + dt.timedelta(days=1)}
    if account is not None:
        header["account_code"] = account.code
        contacts = list(account.contacts.active_records()[:20])
        billing = next((c for c in contacts if c.pk == account.billing_contact_id), None)
        technical = next((c for c in contacts if c.is_primary), contacts[0] if contacts else None)
        for prefix, contact in (("billing_contact", billing), ("technical_contact", technical)):
            if contact is not None:
                header[f"{prefix}_name"] = contact.full_name
                header[f"{prefix}_email"] = contact.email
                header[f"{prefix}_phone"] = contact.phone
    if opportunity is not None:
        line["product"] = opportunity.product_id
        line["annual_value"] = opportunity.amount
        if opportunity.expected_close and opportunity.expected_close > timezone.localdate():
            line["start_date"] = opportunity.expected_close
    return header, [line], opportunity


def _intake(request: HttpRequest, *, order: Order | None) -> HttpResponse:
    """The guided form: "Save draft" keeps whatever is there; "Submit" saves, then checks
    every required field (a missing one blocks submission, and all are listed)."""
    opportunity = order.opportunity if order else None
    missing: list[str] = []
    matches: list = []
    status = 200
    if request.method == "POST":
        form = OrderForm(request.POST, instance=order or Order())
        lines = LineFormSet(request.POST, prefix="lines")
        if request.POST.get("opportunity", "").isdigit() and order is None:
            opportunity = Opportunity.objects.filter(pk=request.POST["opportunity"]).first()
        if form.is_valid() and lines.is_valid():
            try:
                order = services.save_draft(
                    order=order,
                    actor=request.user,
                    values=form.values(),
                    lines=[f.cleaned_data for f in lines.forms if f.cleaned_data],
                    opportunity=opportunity,
                )
                if request.POST.get("action") == "submit":
                    services.submit_order(order=order, actor=request.user, reason=request.POST.get("reason", ""))
                    messages.success(request, f"Submitted {order.order_id} for validation.")
                else:
                    messages.success(request, f"Saved {order.order_id} as a draft.")
                return redirect(order.get_absolute_url())
            except MissingFieldsError as error:
                missing = error.missing
            except DuplicateClientError as error:
                matches = error.matches
            except NotAllowedError as error:
                raise PermissionDenied(str(error)) from error
            except (DomainError, ValidationError) as error:
                form.add_error(None, "; ".join(getattr(error, "messages", [str(error)])))
        status = 400
    else:
        if order is None:
            header, line_initial, opportunity = _prefill(request)
            form = OrderForm(initial=header, instance=Order())
            lines = LineFormSet(prefix="lines", initial=line_initial)
        else:
            form = OrderForm(instance=order)
            initial = [
                {name: getattr(line, f"{name}_id" if name == "product" else name) for name in services.LINE_FIELDS}
                for line in order.lines.all()
            ]
            lines = LineFormSet(prefix="lines", initial=initial or None)
    context = {
        "form": form,
        "lines": lines,
        "order": order,
        "opportunity": opportunity,
        "missing": missing,
        "matches": matches,
    }
    return render(request, "onboarding/order_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
def order_add(request: HttpRequest) -> HttpResponse:
    if not services.can_start(request.user):
        raise PermissionDenied("Starting an order is for sales, Customer Relations and stewards.")
    return _intake(request, order=None)


@require_http_methods(["GET", "POST"])
def order_edit(request: HttpRequest, order_id: str) -> HttpResponse:
    order = _order(order_id, Order.objects.select_related("account", "opportunity"))
    if not services.can_edit(request.user, order):
        raise PermissionDenied(f"{order.order_id} cannot be edited by you in its present state.")
    return _intake(request, order=order)


# --- The order page and its actions -----------------------------------------------------


@require_GET
def order_detail(request: HttpRequest, order_id: str) -> HttpResponse:
    order = _order(order_id, Order.objects.for_detail())
    user = request.user
    link = services.status_link_path(order)
    context = {
        "order": order,
        "lines": list(order.lines.all()),
        "events": list(order.events.all()),
        "tasks": list(order.tasks.all()),
        "exceptions": list(order.exceptions.all()),
        "status_link": request.build_absolute_uri(link) if link else "",
        "can_edit": services.can_edit(user, order),
        "can_validate": has_role(user, *services.VALIDATE_ROLES) and order.status == OrderStatus.SUBMITTED,
        "can_cancel": services.can_cancel(user, order),
        "can_override": has_role(user, *services.OVERRIDE_ROLES) and order.status != OrderStatus.ACTIVE,
        "can_link": services.can_manage_link(user, order),
        "can_work_tasks": has_role(user, *services.PROVISIONING_ROLES),
        "matches": services.client_matches(order) if order.status == OrderStatus.SUBMITTED else [],
        "override_form": OverrideForm(),
    }
    return render(request, "onboarding/order_detail.html", context)


@require_POST
def order_validate(request: HttpRequest, order_id: str) -> HttpResponse:
    order = _order(order_id)
    if not has_role(request.user, *services.VALIDATE_ROLES):
        raise PermissionDenied("Validating orders is for Customer Relations.")
    form = ValidateForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(order.get_absolute_url())
    try:
        services.validate_order(
            order=order,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            use_account=form.cleaned_data["use_account"],
        )
    except (DomainError, ValidationError) as error:
        _say(request, error)
    else:
        messages.success(request, f"Validated {order.order_id}; its provisioning tasks are queued.")
    return redirect(order.get_absolute_url())


def _transition_with_reason(request: HttpRequest, order_id: str, service, done: str) -> HttpResponse:
    """A transition whose only input is a reason (return to sales, cancel): one code path."""
    order = _order(order_id)
    form = ReasonForm(request.POST)
    form.is_valid()
    try:
        service(order=order, actor=request.user, reason=form.cleaned_data.get("reason", ""))
    except DomainError as error:
        _say(request, error)
    else:
        messages.success(request, done.format(order_id=order.order_id))
    return redirect(order.get_absolute_url())


@require_POST
def order_return(request: HttpRequest, order_id: str) -> HttpResponse:
    return _transition_with_reason(
        request, order_id, services.return_to_sales, "Returned {order_id} to sales as a draft."
    )


@require_POST
def order_cancel(request: HttpRequest, order_id: str) -> HttpResponse:
    return _transition_with_reason(request, order_id, services.cancel_order, "Cancelled {order_id}.")


@require_POST
def order_override(request: HttpRequest, order_id: str) -> HttpResponse:
    order = _order(order_id)
    if not has_role(request.user, *services.OVERRIDE_ROLES):
        raise PermissionDenied("Overriding an order's status is for Customer Relations and stewards.")
    form = OverrideForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a status and say why.")
        return redirect(order.get_absolute_url())
    try:
        services.override_status(
            order=order,
            actor=request.user,
            to_status=form.cleaned_data["to_status"],
            reason=form.cleaned_data["reason"],
        )
    except (DomainError, ValidationError) as error:
        _say(request, error)
    else:
        messages.success(request, f"{order.order_id} set to {OrderStatus(form.cleaned_data['to_status']).label}.")
    return redirect(order.get_absolute_url())


@require_POST
def order_status_link(request: HttpRequest, order_id: str) -> HttpResponse:
    order = _order(order_id, Order.objects.select_related("account"))
    try:
        if request.POST.get("action") == "revoke":
            services.revoke_status_link(order=order, actor=request.user)
            messages.success(request, "The customer's status link no longer works.")
        else:
            services.issue_status_link(order=order, actor=request.user)
            messages.success(request, "A new status link is ready to send to the customer.")
    except DomainError as error:
        _say(request, error)
    return redirect(order.get_absolute_url())


# --- Provisioning: tasks and exceptions ---------------------------------------------------


@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    tasks = ProvisioningTask.objects.for_queue()
    shown = request.GET.get("show", "open")
    if shown == "mine":
        tasks = tasks.filter(assignee=request.user, status=TaskStatus.CLAIMED)
    elif shown == "done":
        tasks = tasks.filter(status__in=[TaskStatus.DONE, TaskStatus.CANCELLED]).order_by("-completed_at", "-pk")
    else:
        tasks = tasks.open()
    context = {
        "tasks": list(tasks[:LIST_LENGTH]),
        "show": shown,
        "can_work": has_role(request.user, *services.PROVISIONING_ROLES),
        "now": timezone.now(),
    }
    return render(request, "onboarding/task_list.html", context)


def _task(pk: int) -> ProvisioningTask:
    return get_object_or_404(ProvisioningTask.objects.for_queue(), pk=pk)


def _require_provisioning(request: HttpRequest) -> None:
    if not has_role(request.user, *services.PROVISIONING_ROLES):
        raise PermissionDenied("Provisioning tasks are worked by the provisioning team.")


@require_POST
def task_claim(request: HttpRequest, pk: int) -> HttpResponse:
    _require_provisioning(request)
    task = _task(pk)
    try:
        services.claim_task(task=task, actor=request.user)
    except DomainError as error:
        _say(request, error)
    else:
        messages.success(request, f"{task.reference} is yours.")
    return redirect("onboarding:task_list")


@require_http_methods(["GET", "POST"])
def task_complete(request: HttpRequest, pk: int) -> HttpResponse:
    _require_provisioning(request)
    task = _task(pk)
    form = CompleteTaskForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.complete_task(
                task=task,
                actor=request.user,
                tenancy_ref=form.cleaned_data["tenancy_ref"],
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            _say(request, error)
        else:
            messages.success(request, f"Completed {task.reference}.")
            return redirect("onboarding:task_list")
    status = 400 if request.method == "POST" else 200
    context = {"task": task, "form": form, "action": "complete"}
    return render(request, "onboarding/task_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
def task_fail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_provisioning(request)
    task = _task(pk)
    form = FailTaskForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.fail_task(
                task=task,
                actor=request.user,
                reason_code=form.cleaned_data["reason_code"],
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            _say(request, error)
        else:
            messages.success(request, f"{task.reference} failed; {task.order.order_id} is in the exception queue.")
            return redirect("onboarding:task_list")
    status = 400 if request.method == "POST" else 200
    context = {"task": task, "form": form, "action": "fail"}
    return render(request, "onboarding/task_form.html", context, status=status)


@require_GET
def exception_list(request: HttpRequest) -> HttpResponse:
    shown = request.GET.get("show", "open")
    cases = ExceptionCase.objects.for_queue()
    resolved = cases.filter(resolved_at__isnull=False).order_by("-resolved_at")
    cases = resolved if shown == "resolved" else cases.open()
    context = {
        "cases": list(cases[:LIST_LENGTH]),
        "show": shown,
        "now": timezone.now(),
        "can_resolve": has_role(request.user, *services.PROVISIONING_ROLES),
        "form": ResolveForm(),
    }
    return render(request, "onboarding/exception_list.html", context)


@require_POST
def exception_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    _require_provisioning(request)
    case = get_object_or_404(ExceptionCase.objects.select_related("order"), pk=pk)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose retry or cancel, and say why.")
    else:
        try:
            services.resolve_exception(
                case=case,
                actor=request.user,
                resolution=form.cleaned_data["resolution"],
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            _say(request, error)
        else:
            messages.success(request, f"Resolved the exception on {case.order_ref}.")
    return redirect("onboarding:exception_list")


# --- IT's signed events ---------------------------------------------------------------------


def _problem(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


@login_not_required
@csrf_exempt
@require_POST
def inbound_event(request: HttpRequest) -> JsonResponse:
    """`POST /api/onboarding/events`: IT's tooling reports a task's result, signed like the
    helpdesk webhook (X-Signature, X-Signature-Timestamp; ONBOARDING_EVENT_SECRETS)."""
    body = request.read(MAX_EVENT_BYTES + 1)
    if len(body) > MAX_EVENT_BYTES:
        return _problem(413, "The body is larger than 64 KB.")
    if not request_signing.verify(
        secrets=settings.ONBOARDING_EVENT_SECRETS,
        timestamp=request.headers.get("X-Signature-Timestamp"),
        signature=request.headers.get("X-Signature"),
        body=body,
        now=timezone.now(),
    ):
        return _problem(401, "Missing or bad signature, or a timestamp outside five minutes.")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _problem(400, "The body is not JSON.")
    if not isinstance(payload, dict) or not str(payload.get("event_id") or "").strip():
        return _problem(400, "The event needs an event_id.")
    try:
        outcome = services.receive_event(
            event_id=str(payload["event_id"]).strip()[:100], body=body.decode(), payload=payload
        )
    except DomainError as error:
        return _problem(409, str(error))
    except DatabaseError:
        logger.exception("Onboarding event could not be stored")
        response = _problem(503, "The CRM database is unavailable; retry later.")
        response["Retry-After"] = "60"
        return response
    return JsonResponse({"detail": outcome.detail, "duplicate": outcome.duplicate}, status=outcome.status)


# --- The customer's status page -------------------------------------------------------------


STAGES = (
    (OrderStatus.SUBMITTED, "Order received"),
    (OrderStatus.VALIDATED, "Details checked"),
    (OrderStatus.PROVISIONING, "Setting up your services"),
    (OrderStatus.ACTIVE, "Active"),
)
STAGE_ORDER = [s for s, _ in STAGES]


def public_status(order: Order) -> dict:
    """What the customer may see: stages, products and the expected date. Nothing internal
    (no notes, reasons, staff names, values or failure codes)."""
    status = order.status
    if status == OrderStatus.EXCEPTION:
        reached = STAGE_ORDER.index(OrderStatus.PROVISIONING)
    elif status in STAGE_ORDER:
        reached = STAGE_ORDER.index(status)
    else:
        reached = -1
    stages = [
        {
            "label": label,
            "state": "done" if i < reached or status == OrderStatus.ACTIVE else "current" if i == reached else "todo",
        }
        for i, (_, label) in enumerate(STAGES)
    ]
    headline = {
        OrderStatus.DRAFT: "We are preparing your order.",
        OrderStatus.SUBMITTED: "We have your order and are checking the details.",
        OrderStatus.VALIDATED: "Your order is confirmed; setting up your services is next.",
        OrderStatus.PROVISIONING: "We are setting up your services.",
        OrderStatus.EXCEPTION: "Setting up is taking longer than planned; our team is on it and will contact you.",
        OrderStatus.ACTIVE: "Your services are active.",
        OrderStatus.CANCELLED: "This order was cancelled. Please contact your account manager.",
    }[status]
    return {
        "order_id": order.order_id,
        "client": order.client_name,
        "headline": headline,
        "stages": stages,
        "products": [(line.product.name if line.product else "", line.seats) for line in order.lines.all()],
        "expected": order.expected_activation if status not in (OrderStatus.ACTIVE, OrderStatus.CANCELLED) else None,
        "activated": order.activated_at,
        "is_final": status in (OrderStatus.ACTIVE, OrderStatus.CANCELLED),
    }


@login_not_required
@require_GET
def customer_status(request: HttpRequest, signed: str) -> HttpResponse:
    order = services.order_for_link(signed)
    if order is None:
        raise Http404("This status link is not valid (it may have been replaced or withdrawn).")
    context = {
        "status": public_status(order),
        "refresh_seconds": settings.ONBOARDING_STATUS_REFRESH_SECONDS,
        "path": request.path,
    }
    template = "onboarding/partials/customer_status.html" if request.htmx else "onboarding/customer_status.html"
    response = render(request, template, context)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
