"""Every write of the onboarding flow.

Each function is one atomic action with an explicit `actor` (None when the system acts:
the provisioning adapter's worker, IT's signed events, the stuck-order scan) and a
`reason` where the timeline needs one. Every status change goes through `_move`, which
writes the order's `OrderEvent` (who, when, why; overrides marked as such) and its
history row. Client records and subscriptions are written only through the customers
services, so ownership, validation and per-field history apply there too.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from cloudcore_crm.roles import (
    CUSTOMER_RELATIONS,
    DATA_STEWARD,
    FINANCE,
    PROVISIONING,
    SALES_MANAGER,
    SALES_REP,
    has_role,
)
from customers import services as customer_services
from customers.choices import ActivityKind, LifecycleStatus, SubscriptionStatus
from customers.dedupe import find_matches
from customers.models import Account, Contact, Subscription
from onboarding.choices import EventKind, ExceptionResolution, FailureReason, OrderStatus, TaskStatus
from onboarding.errors import DuplicateClientError, MissingFieldsError, NotAllowedError, OnboardingError
from onboarding.models import (
    BillingHandoff,
    ExceptionCase,
    InboundEvent,
    Order,
    OrderEvent,
    OrderLine,
    ProvisioningTask,
    format_order_id,
)

logger = logging.getLogger(__name__)

# Who may do what (DESIGN.md: sales reps start orders for their accounts; Customer
# Relations validates; Provisioning works tasks and exceptions; everyone reads an order).
INTAKE_ROLES = (SALES_REP, SALES_MANAGER, CUSTOMER_RELATIONS, DATA_STEWARD)
VALIDATE_ROLES = (CUSTOMER_RELATIONS, DATA_STEWARD)
PROVISIONING_ROLES = (PROVISIONING, DATA_STEWARD)
CANCEL_ROLES = (CUSTOMER_RELATIONS, SALES_MANAGER, PROVISIONING, DATA_STEWARD)
OVERRIDE_ROLES = (CUSTOMER_RELATIONS, DATA_STEWARD)

ALLOWED: dict[str, set[str]] = {
    OrderStatus.DRAFT: {OrderStatus.SUBMITTED, OrderStatus.CANCELLED},
    OrderStatus.SUBMITTED: {OrderStatus.VALIDATED, OrderStatus.DRAFT, OrderStatus.CANCELLED},
    OrderStatus.VALIDATED: {OrderStatus.PROVISIONING, OrderStatus.EXCEPTION, OrderStatus.CANCELLED},
    OrderStatus.PROVISIONING: {OrderStatus.ACTIVE, OrderStatus.EXCEPTION, OrderStatus.CANCELLED},
    OrderStatus.EXCEPTION: {OrderStatus.PROVISIONING, OrderStatus.CANCELLED},
    OrderStatus.ACTIVE: set(),
    OrderStatus.CANCELLED: set(),
}
# Fields of the order a draft may set (the form's header; lines come separately).
ORDER_FIELDS = (
    "account",
    "new_client_name",
    "new_client_abn",
    "new_client_phone",
    "new_client_confirmed",
    "billing_contact_name",
    "billing_contact_email",
    "billing_contact_phone",
    "technical_contact_name",
    "technical_contact_email",
    "technical_contact_phone",
    "custom_requirements",
    "internal_notes",
)
LINE_FIELDS = (
    "product",
    "seats",
    "annual_value",
    "start_date",
    "term_months",
    "datavault_region",
    "datavault_quota_gb",
    "workspace_name",
)
# Tenancy requirements each product needs before its order can be submitted.
TENANCY_REQUIRED = {
    "datavault": ("datavault_region", "datavault_quota_gb"),
    "analytics-pro": ("workspace_name",),
}
TENANCY_PREFIX = {"datavault": "DV", "cloudsync": "CS", "analytics-pro": "AP"}
STATUS_LINK_SALT = "onboarding.status-link"


# --- Helpers --------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (the month's last day when it is shorter)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def system_user() -> AbstractBaseUser:
    """The account the automation writes customer records as (a steward, always with a
    reason naming the order). It cannot log in."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=settings.ONBOARDING_SYSTEM_USERNAME,
        defaults={"first_name": "Onboarding", "last_name": "automation", "email": ""},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    if not has_role(user, DATA_STEWARD):
        user.groups.add(Group.objects.get(name=DATA_STEWARD))
        user.__dict__.pop("_cloudcore_roles", None)  # roles_of() cached the roles before
    return user


def provisioning_lead() -> AbstractBaseUser | None:
    """The exception queue's owner: the user named by ONBOARDING_PROVISIONING_LEAD, else
    the first provisioning user."""
    User = get_user_model()
    lead = User.objects.filter(username=settings.ONBOARDING_PROVISIONING_LEAD, is_active=True).first()
    if lead is None:
        lead = User.objects.filter(groups__name=PROVISIONING, is_active=True).order_by("pk").first()
    return lead


def _require(actor: AbstractBaseUser | None, roles: Iterable[str], action: str) -> None:
    """`actor=None` is the system itself and is always allowed."""
    if actor is not None and not has_role(actor, *roles):
        raise NotAllowedError(f"You cannot {action}.")


def _reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise OnboardingError(f"Say why you are {what}.")
    return reason


def _lock(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


def _save(instance, *, actor: AbstractBaseUser | None, reason: str) -> None:
    instance._change_reason = reason
    instance._history_user = actor
    instance.save()


def _event(
    order: Order,
    *,
    actor: AbstractBaseUser | None,
    summary: str,
    kind: str = EventKind.NOTE,
    reason: str = "",
    from_status: str = "",
    to_status: str = "",
) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order,
        order_ref=order.order_id,
        kind=kind,
        actor=actor,
        summary=summary[:300],
        reason=reason,
        from_status=from_status,
        to_status=to_status,
    )


def _timeline(order: Order, summary: str, detail: str = "") -> None:
    """An entry on the client's timeline, carrying the order ID."""
    if order.account_id:
        customer_services.log_activity(
            account=order.account,
            actor=None,
            kind=ActivityKind.SYSTEM,
            summary=f"{order.order_id}: {summary}"[:300],
            detail=detail,
            reason=f"Onboarding order {order.order_id}",
        )


def _move(
    order: Order,
    to: str,
    *,
    actor: AbstractBaseUser | None,
    reason: str = "",
    summary: str = "",
    override: bool = False,
) -> OrderEvent:
    """The one place an order's status changes: checked against ALLOWED (unless an
    override), stamped, saved with history, and written on the order's timeline."""
    before = order.status
    if to == before:
        raise OnboardingError(f"{order.order_id} is already {order.get_status_display().lower()}.")
    if not override and to not in ALLOWED[before]:
        raise OnboardingError(
            f"{order.order_id} cannot go from {OrderStatus(before).label.lower()} to {OrderStatus(to).label.lower()}."
        )
    now = timezone.now()
    order.status, order.status_changed_at = to, now
    if to == OrderStatus.SUBMITTED:
        order.submitted_at = now
    elif to == OrderStatus.VALIDATED and order.validated_at is None:
        order.validated_at = now
    elif to == OrderStatus.ACTIVE:
        order.activated_at = now
    label = f"{OrderStatus(before).label} → {OrderStatus(to).label}"
    _save(order, actor=actor, reason=f"{order.order_id}: {label}" + (f" ({reason})" if reason else ""))
    return _event(
        order,
        actor=actor,
        kind=EventKind.OVERRIDE if override else EventKind.TRANSITION,
        summary=summary or (f"Override: {label}" if override else label),
        reason=reason,
        from_status=before,
        to_status=to,
    )


# --- Order IDs and drafts ---------------------------------------------------------------


def _new_order(*, actor: AbstractBaseUser, opportunity=None) -> Order:
    """An empty draft with the next order ID of the year (ORD-2026-00001, ...)."""
    year = timezone.localdate().year
    for attempt in range(5):
        try:
            with transaction.atomic():
                number = (Order.objects.filter(year=year).aggregate(top=Max("number"))["top"] or 0) + 1
                order = Order(
                    year=year,
                    number=number,
                    order_id=format_order_id(year, number),
                    created_by=actor,
                    opportunity=opportunity,
                )
                _save(order, actor=actor, reason="Order started")
                return order
        except IntegrityError:
            if attempt == 4:  # two people took the same number; the loser takes the next
                raise
    raise AssertionError("unreachable")


def can_start(user: AbstractBaseUser, account: Account | None = None) -> bool:
    """Reps start orders for their own accounts (or new clients); managers, Customer
    Relations and stewards for anyone."""
    if has_role(user, SALES_MANAGER, CUSTOMER_RELATIONS, DATA_STEWARD):
        return True
    return has_role(user, SALES_REP) and (account is None or account.owner_id == user.pk)


def can_edit(user: AbstractBaseUser, order: Order) -> bool:
    if not order.is_editable:
        return False
    if has_role(user, SALES_MANAGER, CUSTOMER_RELATIONS, DATA_STEWARD):
        return True
    return has_role(user, SALES_REP) and (
        order.created_by_id == user.pk or (order.account_id is not None and order.account.owner_id == user.pk)
    )


@transaction.atomic
def save_draft(
    *,
    actor: AbstractBaseUser,
    values: dict[str, Any],
    lines: list[dict[str, Any]],
    order: Order | None = None,
    opportunity=None,
) -> Order:
    """Create or change a draft: the header's values and its lines (replaced whole).

    Nothing is required yet; `submit_order` checks completeness.
    """
    unknown = set(values) - set(ORDER_FIELDS)
    if unknown:
        raise OnboardingError(f"Unknown order fields: {', '.join(sorted(unknown))}.")
    account = values.get("account", order.account if order else None)
    if not can_start(actor, account):
        raise NotAllowedError("Sales reps start orders only for their own accounts.")
    if order is None:
        order = _new_order(actor=actor, opportunity=opportunity)
        _event(order, actor=actor, summary="Order started" + (f" from the deal “{opportunity}”" if opportunity else ""))
    else:
        order = _lock(order)
        if not can_edit(actor, order):
            raise NotAllowedError(
                f"{order.order_id} is {order.get_status_display().lower()}; it can no longer be edited."
            )
    for name, value in values.items():
        setattr(order, name, value.strip() if isinstance(value, str) else value)
    if order.account_id:
        order.new_client_name = order.new_client_abn = order.new_client_phone = ""
    order.full_clean(exclude=["created_by", "status_token"])
    _save(order, actor=actor, reason="Draft saved")
    kept = [line for line in lines if any(line.get(f) not in (None, "") for f in LINE_FIELDS)]
    for line in order.lines.all():
        line._change_reason, line._history_user = "Draft saved", actor
        line.delete()
    for values_of_line in kept:
        line = OrderLine(order=order, **{k: v for k, v in values_of_line.items() if k in LINE_FIELDS})
        line.full_clean(exclude=["order"])
        _save(line, actor=actor, reason="Draft saved")
    return order


def _line_label(index: int, line: OrderLine) -> str:
    return f"Line {index}" + (f" ({line.product.name})" if line.product_id else "")


def missing_fields(order: Order) -> list[str]:
    """Every required field the order lacks, in words, in form order."""
    missing = []
    if not order.account_id and not order.new_client_name.strip():
        missing.append("Client: choose an existing account or give the new client's legal name")
    for name in ("billing_contact_name", "billing_contact_email", "technical_contact_name", "technical_contact_email"):
        if not getattr(order, name).strip():
            label = str(Order._meta.get_field(name).verbose_name)
            missing.append(label[:1].upper() + label[1:])
    lines = list(order.lines.select_related("product"))
    if not lines:
        missing.append("At least one product or service line")
    for index, line in enumerate(lines, start=1):
        needed = ["product", "seats", "annual_value", "start_date", "term_months"]
        if line.product_id:
            needed += TENANCY_REQUIRED.get(line.product.code, ())
        for name in needed:
            if getattr(line, name) in (None, ""):
                missing.append(f"{_line_label(index, line)}: {OrderLine._meta.get_field(name).verbose_name}")
    return missing


def client_matches(order: Order) -> list:
    """Existing accounts that look like the order's new client (the duplicate check)."""
    if order.account_id or not order.new_client_name.strip():
        return []
    return find_matches(name=order.new_client_name, abn=order.new_client_abn, phone=order.new_client_phone)


@transaction.atomic
def submit_order(*, order: Order, actor: AbstractBaseUser, reason: str = "") -> Order:
    """Draft -> submitted, when nothing required is missing (else `MissingFieldsError`
    names every missing field) and a new client is not a look-alike of an existing one."""
    order = _lock(order)
    if not can_edit(actor, order):
        raise NotAllowedError(f"You cannot submit {order.order_id}.")
    missing = missing_fields(order)
    if missing:
        raise MissingFieldsError(missing)
    if not order.new_client_confirmed:
        matches = client_matches(order)
        if matches:
            raise DuplicateClientError(matches)
    starts = [line.start_date for line in order.lines.all()]
    soonest = timezone.localdate() + dt.timedelta(days=settings.ONBOARDING_TARGET_DAYS)
    order.expected_activation = max(soonest, min(starts)) if starts else soonest
    _move(order, OrderStatus.SUBMITTED, actor=actor, reason=reason.strip())
    _timeline(order, "order submitted for validation")
    return order


@transaction.atomic
def return_to_sales(*, order: Order, actor: AbstractBaseUser, reason: str) -> Order:
    """Submitted -> draft: Customer Relations sends it back with what to fix."""
    _require(actor, VALIDATE_ROLES, "return orders to sales")
    order = _lock(order)
    _move(order, OrderStatus.DRAFT, actor=actor, reason=_reason(reason, "returning the order"))
    return order


def is_auto_eligible(order: Order) -> bool:
    """Standard products only and no custom requirements (ONBOARDING_AUTO_PRODUCTS)."""
    lines = list(order.lines.select_related("product"))
    return (
        bool(lines)
        and not order.custom_requirements.strip()
        and all(line.product.code in settings.ONBOARDING_AUTO_PRODUCTS for line in lines)
    )


def _create_client(order: Order, actor: AbstractBaseUser) -> Account:
    """The new client, through the customers services: Customer Relations creates the
    record; the rep who started the order becomes its owner."""
    account = customer_services.create_account(
        actor=actor,
        reason=f"New client from order {order.order_id}",
        legal_name=order.new_client_name,
        abn=order.new_client_abn,
        phone=order.new_client_phone,
        lifecycle_status=LifecycleStatus.ONBOARDING,
    )
    if has_role(order.created_by, SALES_REP):
        account = customer_services.update_account(
            account=account,
            changes={"owner": order.created_by},
            expected_version=account.version,
            actor=system_user(),
            reason=f"Owner: the sales rep who started order {order.order_id}",
        )
    return account


@transaction.atomic
def validate_order(
    *, order: Order, actor: AbstractBaseUser, reason: str = "", use_account: Account | None = None
) -> Order:
    """Submitted -> validated by Customer Relations: the client is settled (an existing
    account, or a new one created now), one provisioning task per line is queued, and an
    eligible order goes straight on to automatic provisioning."""
    _require(actor, VALIDATE_ROLES, "validate orders")
    order = _lock(order)
    if order.status != OrderStatus.SUBMITTED:
        raise OnboardingError(f"{order.order_id} is {order.get_status_display().lower()}, not submitted.")
    missing = missing_fields(order)
    if missing:
        raise MissingFieldsError(missing)
    if use_account is not None:
        order.account = use_account
        order.new_client_name = order.new_client_abn = order.new_client_phone = ""
    elif order.account_id is None:
        order.account = _create_client(order, actor)
    order.auto_provision = is_auto_eligible(order)
    _move(order, OrderStatus.VALIDATED, actor=actor, reason=reason.strip())
    _timeline(order, f"order validated by {actor.get_full_name() or actor.get_username()}")
    tasks = []
    for index, line in enumerate(order.lines.select_related("product"), start=1):
        task = ProvisioningTask(
            order=order, line=line, reference=f"{order.order_id}-{index}", auto=order.auto_provision
        )
        _save(task, actor=actor, reason=f"Queued for {order.order_id}")
        tasks.append(task)
    _event(order, actor=actor, kind=EventKind.TASK, summary=f"{len(tasks)} provisioning task(s) queued")
    if order.auto_provision:
        _move(order, OrderStatus.PROVISIONING, actor=None, summary="Automatic provisioning started")
        _dispatch(tasks)
    return order


def _dispatch(tasks: list[ProvisioningTask]) -> None:
    from onboarding.adapters import get_adapter

    adapter = get_adapter()
    for task in tasks:
        adapter.start(task)


# --- Tasks -------------------------------------------------------------------------------


def _lock_task(task: ProvisioningTask) -> tuple[ProvisioningTask, Order]:
    order = Order.objects.select_for_update().get(pk=task.order_id)
    task = ProvisioningTask.objects.select_for_update(of=("self",)).select_related("line__product").get(pk=task.pk)
    return task, order


def _task_label(task: ProvisioningTask) -> str:
    return f"{task.reference} ({task.line.product.name})"


@transaction.atomic
def claim_task(*, task: ProvisioningTask, actor: AbstractBaseUser) -> ProvisioningTask:
    """A provisioning officer takes a waiting task (exactly one wins a race)."""
    _require(actor, PROVISIONING_ROLES, "claim provisioning tasks")
    task, order = _lock_task(task)
    if task.status != TaskStatus.PENDING:
        raise OnboardingError(f"{task.reference} is {task.get_status_display().lower()}; it cannot be claimed.")
    task.status, task.assignee, task.claimed_at = TaskStatus.CLAIMED, actor, timezone.now()
    _save(task, actor=actor, reason=f"Claimed {task.reference}")
    if order.status == OrderStatus.VALIDATED:
        _move(order, OrderStatus.PROVISIONING, actor=actor, summary="Provisioning started")
    _event(order, actor=actor, kind=EventKind.TASK, summary=f"Claimed {_task_label(task)}")
    return task


@transaction.atomic
def complete_task(
    *, task: ProvisioningTask, actor: AbstractBaseUser | None, tenancy_ref: str, note: str = "", via: str = ""
) -> ProvisioningTask:
    """The task is done, with its tenancy reference; when it was the order's last one,
    the order goes active. `actor=None`: the adapter or IT's tooling (`via` says which)."""
    _require(actor, PROVISIONING_ROLES, "complete provisioning tasks")
    tenancy_ref = (tenancy_ref or "").strip()
    if not tenancy_ref:
        raise OnboardingError("Give the tenancy reference the platform returned.")
    task, order = _lock_task(task)
    if task.status not in (TaskStatus.PENDING, TaskStatus.CLAIMED):
        raise OnboardingError(f"{task.reference} is {task.get_status_display().lower()}; it cannot be completed.")
    if order.status not in (OrderStatus.VALIDATED, OrderStatus.PROVISIONING, OrderStatus.EXCEPTION):
        raise OnboardingError(f"{order.order_id} is {order.get_status_display().lower()}.")
    task.status, task.completed_at, task.tenancy_ref = TaskStatus.DONE, timezone.now(), tenancy_ref
    task.completed_automatically = actor is None
    if actor is not None and task.assignee_id is None:
        task.assignee, task.claimed_at = actor, task.completed_at
    _save(task, actor=actor, reason=f"Completed {task.reference}")
    if order.status == OrderStatus.VALIDATED:
        _move(order, OrderStatus.PROVISIONING, actor=actor, summary="Provisioning started")
    _event(
        order,
        actor=actor,
        kind=EventKind.TASK,
        summary=f"Completed {_task_label(task)}: tenancy {tenancy_ref}" + (f" ({via})" if via else ""),
        reason=note,
    )
    _activate_if_done(order, actor=actor)
    return task


@transaction.atomic
def fail_task(
    *, task: ProvisioningTask, actor: AbstractBaseUser | None, reason_code: str, note: str = "", via: str = ""
) -> ExceptionCase:
    """The task failed for a listed reason: the order goes to the exception queue (one
    open case per order, owned by the provisioning lead)."""
    _require(actor, PROVISIONING_ROLES, "fail provisioning tasks")
    if reason_code not in FailureReason.values:
        raise OnboardingError(f"Unknown failure reason {reason_code!r}.")
    task, order = _lock_task(task)
    if task.status not in (TaskStatus.PENDING, TaskStatus.CLAIMED):
        raise OnboardingError(f"{task.reference} is {task.get_status_display().lower()}; it cannot fail now.")
    task.status, task.failure_reason, task.failure_note = TaskStatus.FAILED, reason_code, (note or "").strip()
    task.failures += 1
    _save(task, actor=actor, reason=f"Failed {task.reference}: {FailureReason(reason_code).label}")
    _event(
        order,
        actor=actor,
        kind=EventKind.TASK,
        summary=f"Failed {_task_label(task)}: {FailureReason(reason_code).label}" + (f" ({via})" if via else ""),
        reason=task.failure_note,
    )
    return _open_exception(order, task=task, reason_code=reason_code, note=task.failure_note, actor=actor)


def _open_exception(
    order: Order, *, task: ProvisioningTask | None, reason_code: str, note: str, actor: AbstractBaseUser | None
) -> ExceptionCase:
    case = ExceptionCase.objects.open().filter(order=order).first()
    if order.status != OrderStatus.EXCEPTION:
        _move(
            order,
            OrderStatus.EXCEPTION,
            actor=actor,
            reason=note,
            summary=f"Exception: {FailureReason(reason_code).label}",
        )
    if case is not None:
        return case  # one open case per order; the new failure is on the timeline
    case = ExceptionCase(
        order=order, order_ref=order.order_id, task=task, reason_code=reason_code, note=note, owner=provisioning_lead()
    )
    _save(case, actor=actor, reason=f"Exception opened on {order.order_id}")
    owner = case.owner.get_full_name() if case.owner else "nobody (set ONBOARDING_PROVISIONING_LEAD)"
    _event(order, actor=actor, kind=EventKind.EXCEPTION, summary=f"Exception case opened, owner {owner}", reason=note)
    _timeline(order, f"provisioning exception ({FailureReason(reason_code).label})", note)
    return case


@transaction.atomic
def resolve_exception(*, case: ExceptionCase, actor: AbstractBaseUser, resolution: str, note: str) -> ExceptionCase:
    """Retry (failed tasks go back to the queue, or to the adapter) or cancel the order."""
    _require(actor, PROVISIONING_ROLES, "resolve exceptions")
    note = _reason(note, "resolving the exception")
    order = _lock(case.order)
    case = ExceptionCase.objects.select_for_update().get(pk=case.pk)
    if not case.is_open:
        raise OnboardingError(f"This exception on {case.order_ref} was already resolved.")
    if resolution not in ExceptionResolution.values:
        raise OnboardingError(f"Unknown resolution {resolution!r}.")
    case.resolved_at, case.resolved_by, case.resolution, case.resolution_note = timezone.now(), actor, resolution, note
    _save(case, actor=actor, reason=f"Exception resolved: {ExceptionResolution(resolution).label}")
    _event(
        order,
        actor=actor,
        kind=EventKind.EXCEPTION,
        summary=f"Exception resolved: {ExceptionResolution(resolution).label}",
        reason=note,
    )
    if resolution == ExceptionResolution.CANCEL:
        _cancel(order, actor=actor, reason=note)
        return case
    _retry(order, actor=actor, reason=note)
    return case


def _retry(order: Order, *, actor: AbstractBaseUser | None, reason: str) -> None:
    retried = []
    for task in order.tasks.filter(status=TaskStatus.FAILED):
        task.status, task.assignee, task.claimed_at = TaskStatus.PENDING, None, None
        task.attempts += 1
        _save(task, actor=actor, reason=f"Retry of {task.reference}: {reason}")
        retried.append(task)
    if order.status == OrderStatus.EXCEPTION:
        _move(order, OrderStatus.PROVISIONING, actor=actor, reason=reason, summary="Provisioning retried")
    waiting = [t for t in order.tasks.filter(status=TaskStatus.PENDING, auto=True)]
    _dispatch(waiting)
    _activate_if_done(order, actor=actor)


def _cancel(order: Order, *, actor: AbstractBaseUser | None, reason: str, override: bool = False) -> None:
    for task in order.tasks.exclude(status__in=[TaskStatus.DONE, TaskStatus.CANCELLED]):
        task.status = TaskStatus.CANCELLED
        _save(task, actor=actor, reason=f"{order.order_id} cancelled")
    for case in ExceptionCase.objects.open().filter(order=order):
        case.resolved_at, case.resolved_by = timezone.now(), actor
        case.resolution, case.resolution_note = ExceptionResolution.CANCEL, reason
        _save(case, actor=actor, reason=f"{order.order_id} cancelled")
    _move(order, OrderStatus.CANCELLED, actor=actor, reason=reason, override=override)
    _timeline(order, "order cancelled", reason)


def can_cancel(user: AbstractBaseUser, order: Order) -> bool:
    if order.status in (OrderStatus.ACTIVE, OrderStatus.CANCELLED):
        return False
    return has_role(user, *CANCEL_ROLES) or (order.status == OrderStatus.DRAFT and can_edit(user, order))


@transaction.atomic
def cancel_order(*, order: Order, actor: AbstractBaseUser, reason: str) -> Order:
    order = _lock(order)
    if not can_cancel(actor, order):
        raise NotAllowedError(f"You cannot cancel {order.order_id}.")
    _cancel(order, actor=actor, reason=_reason(reason, "cancelling the order"))
    return order


@transaction.atomic
def override_status(*, order: Order, actor: AbstractBaseUser, to_status: str, reason: str) -> Order:
    """A manual correction by Customer Relations or a steward, recorded as an override:
    the order is set to `to_status` whatever the normal path, with the same side effects
    (tasks queued, exception opened, activation, cancellation)."""
    _require(actor, OVERRIDE_ROLES, "override an order's status")
    reason = _reason(reason, "overriding the status")
    order = _lock(order)
    if order.status == OrderStatus.ACTIVE:
        raise OnboardingError(f"{order.order_id} is active; change its subscriptions on the customer page instead.")
    if to_status not in OrderStatus.values or to_status in (OrderStatus.DRAFT, order.status):
        raise OnboardingError("Choose another status than the present one (not draft).")
    if to_status == OrderStatus.CANCELLED:
        _cancel(order, actor=actor, reason=reason, override=True)
        return order
    if order.account_id is None and to_status != OrderStatus.SUBMITTED:
        raise OnboardingError("Validate the order first: its new client has no account yet.")
    if to_status == OrderStatus.EXCEPTION:
        _move(order, to_status, actor=actor, reason=reason, override=True)
        _open_exception(order, task=None, reason_code=FailureReason.OTHER, note=reason, actor=actor)
        return order
    for index, line in enumerate(order.lines.all(), start=1):
        if not hasattr(line, "task"):
            task = ProvisioningTask(order=order, line=line, reference=f"{order.order_id}-{index}")
            _save(task, actor=actor, reason=f"Queued by override of {order.order_id}")
    for case in ExceptionCase.objects.open().filter(order=order):
        case.resolved_at, case.resolved_by = timezone.now(), actor
        case.resolution, case.resolution_note = ExceptionResolution.RETRY, f"Override: {reason}"
        _save(case, actor=actor, reason=f"Override of {order.order_id}")
    if to_status == OrderStatus.ACTIVE:
        for task in order.tasks.exclude(status=TaskStatus.DONE):
            task.status = TaskStatus.CANCELLED
            _save(task, actor=actor, reason=f"Closed by override of {order.order_id}: {reason}")
        _activate(order, actor=actor, reason=reason, override=True)
        return order
    _move(order, to_status, actor=actor, reason=reason, override=True)
    return order


# --- Activation and the billing hand-off ----------------------------------------------


def _activate_if_done(order: Order, *, actor: AbstractBaseUser | None) -> None:
    statuses = set(order.tasks.values_list("status", flat=True))
    if order.status == OrderStatus.PROVISIONING and statuses == {TaskStatus.DONE}:
        _activate(order, actor=actor, reason="Every provisioning task is done")


def _split_name(name: str) -> tuple[str, str]:
    first, _, last = name.strip().partition(" ")
    return first, (last.strip() or "-")


def _ensure_contact(order: Order, account: Account, bot, *, name: str, email: str, phone: str, title: str):
    if not email:
        return None
    existing = Contact.objects.filter(account=account, email__iexact=email).first()
    if existing is not None:
        return existing
    first, last = _split_name(name or email)
    try:
        return customer_services.create_contact(
            account=account,
            actor=bot,
            reason=f"{title} from order {order.order_id}",
            first_name=first,
            last_name=last,
            email=email,
            phone=phone,
            title=title,
        )
    except ValidationError as error:  # a phone the contact record refuses: add it by hand
        _event(order, actor=None, summary=f"{title} not added to the client: {'; '.join(error.messages)}")
        return None


def _activate(order: Order, *, actor: AbstractBaseUser | None, reason: str, override: bool = False) -> None:
    """Active: the subscriptions are created or updated through the customers services
    (renewal date = start + term), the contacts land on the client, and Finance is told
    the plan, pricing and start date, exactly as on the order."""
    bot = system_user()
    why = f"Order {order.order_id} activated"
    plan = []
    for line in order.lines.select_related("product", "task"):
        renewal = add_months(line.start_date, line.term_months)
        task = getattr(line, "task", None)
        values = {
            "seats": line.seats,
            "annual_value": line.annual_value,
            "start_date": line.start_date,
            "term_months": line.term_months,
            "renewal_date": renewal,
            "status": SubscriptionStatus.ACTIVE,
            "tenancy_ref": task.tenancy_ref if task is not None else "",
            "order_ref": order.order_id,
        }
        live = Subscription.objects.live().filter(account=order.account_id, product=line.product_id).first()
        if live is not None:
            subscription = customer_services.update_subscription(
                subscription=live, changes=values, expected_version=live.version, actor=bot, reason=why
            )
        else:
            subscription = customer_services.create_subscription(
                account=order.account, actor=bot, reason=why, product=line.product, **values
            )
        line.subscription = subscription
        _save(line, actor=actor, reason=why)
        plan.append(
            {
                "product": line.product.name,
                "seats": line.seats,
                "annual_value": str(line.annual_value),
                "start_date": line.start_date.isoformat(),
                "term_months": line.term_months,
                "renewal_date": renewal.isoformat(),
                "subscription_id": subscription.pk,
            }
        )
    account = Account.objects.get(pk=order.account_id)
    billing = _ensure_contact(
        order,
        account,
        bot,
        name=order.billing_contact_name,
        email=order.billing_contact_email,
        phone=order.billing_contact_phone,
        title="Billing contact",
    )
    _ensure_contact(
        order,
        account,
        bot,
        name=order.technical_contact_name,
        email=order.technical_contact_email,
        phone=order.technical_contact_phone,
        title="Technical contact",
    )
    changes: dict[str, Any] = {}
    if billing is not None and account.billing_contact_id is None:
        changes["billing_contact"] = billing
    if account.lifecycle_status in (LifecycleStatus.PROSPECT, LifecycleStatus.ONBOARDING):
        changes["lifecycle_status"] = LifecycleStatus.ACTIVE
    if changes:
        customer_services.update_account(
            account=account, changes=changes, expected_version=account.version, actor=bot, reason=why
        )
    tasks = list(order.tasks.all())
    order.auto_provisioned = bool(tasks) and all(t.completed_automatically for t in tasks)
    _move(
        order,
        OrderStatus.ACTIVE,
        actor=actor,
        reason=reason,
        override=override,
        summary=("Override: " if override else "") + "Active: subscriptions started, Finance told",
    )
    total = sum((Decimal(p["annual_value"]) for p in plan), Decimal("0"))
    start = min(line.start_date for line in order.lines.all())
    handoff = BillingHandoff.objects.create(
        order=order, order_ref=order.order_id, lines=plan, annual_total=total, start_date=start
    )
    summary = ", ".join(f"{p['product']}, {p['seats']} seats at ${Decimal(p['annual_value']):,.2f}/yr" for p in plan)
    _event(order, actor=None, kind=EventKind.BILLING, summary=f"Finance told: billing from {start:%d %b %Y}: {summary}")
    _timeline(order, f"active; billing starts {start:%d %b %Y} (reference {order.order_id})", summary)
    from onboarding.tasks import notify_finance

    transaction.on_commit(lambda: notify_finance.delay(handoff.pk))


def notify_finance(handoff_id: int) -> int:
    """Email Finance the hand-off (once): plan, pricing, start date and the order ID to
    put on the Xero invoice. Returns the number of recipients."""
    with transaction.atomic():
        handoff = (
            BillingHandoff.objects.select_for_update(of=("self",)).select_related("order__account").get(pk=handoff_id)
        )
        if handoff.notified_at is not None:
            return 0
        User = get_user_model()
        recipients = sorted(
            set(
                User.objects.filter(groups__name=FINANCE, is_active=True)
                .exclude(email="")
                .values_list("email", flat=True)
            )
        )
        lines = "\n".join(
            f"- {p['product']}: {p['seats']} seats, ${Decimal(p['annual_value']):,.2f} a year, "
            f"from {p['start_date']} for {p['term_months']} months (renews {p['renewal_date']})"
            for p in handoff.lines
        )
        account = handoff.order.account
        body = (
            f"Order {handoff.order_ref} for {account.code} {account.display_name} is active.\n\n"
            f"Start billing from {handoff.start_date:%d %b %Y}:\n{lines}\n\n"
            f"Annual total: ${handoff.annual_total:,.2f}\n"
            f"Put {handoff.order_ref} as the reference on the Xero invoice.\n"
            f"{settings.SITE_URL}{handoff.order.get_absolute_url()}\n"
        )
        if recipients:
            send_mail(f"[CloudCore CRM] Start billing {handoff.order_ref}", body, None, recipients)
        handoff.notified_at = timezone.now()
        handoff.save(update_fields=["notified_at"])
        return len(recipients)


# --- Automatic provisioning, IT's events, stuck orders --------------------------------


def auto_tenancy_ref(task: ProvisioningTask) -> str:
    line = task.line
    prefix = TENANCY_PREFIX.get(line.product.code, line.product.code[:2].upper())
    region = (line.datavault_region or "std")[:3].upper()
    return f"{prefix}-{region}-{task.reference.removeprefix('ORD-')}"


def auto_provision(task_id: int) -> str:
    """The default adapter's work, on a worker: complete a waiting automatic task
    (idempotent: a task no longer waiting is left alone)."""
    task = ProvisioningTask.objects.select_related("line__product", "order").filter(pk=task_id).first()
    if task is None or task.status != TaskStatus.PENDING:
        return "skipped"
    try:
        complete_task(task=task, actor=None, tenancy_ref=auto_tenancy_ref(task), via="automatic provisioning")
    except OnboardingError as error:
        logger.info("Automatic provisioning of %s skipped: %s", task.reference, error)
        return "skipped"
    return "done"


@dataclass
class EventOutcome:
    status: int
    detail: str
    duplicate: bool = False


def receive_event(*, event_id: str, body: str, payload: dict[str, Any]) -> EventOutcome:
    """A signed event from IT's tooling: `task.completed` (with `tenancy_ref`) or
    `task.failed` (with `reason_code`, `note`), naming the task by its reference.
    A repeated `event_id` changes nothing."""
    kind = payload.get("type")
    reference = str(payload.get("task") or "")
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = InboundEvent.objects.create(event_id=event_id, body=body)
        except IntegrityError:
            return EventOutcome(200, "Already received.", duplicate=True)
        task = ProvisioningTask.objects.filter(reference=reference).first()
        if task is None:
            raise OnboardingError(f"No provisioning task {reference!r}.")
        via = f"IT event {event_id}"
        if kind == "task.completed":
            complete_task(task=task, actor=None, tenancy_ref=str(payload.get("tenancy_ref") or ""), via=via)
        elif kind == "task.failed":
            fail_task(
                task=task,
                actor=None,
                reason_code=str(payload.get("reason_code") or FailureReason.OTHER),
                note=str(payload.get("note") or ""),
                via=via,
            )
        else:
            raise OnboardingError("type must be task.completed or task.failed.")
        event.outcome = f"{kind} {reference}"
        event.save(update_fields=["outcome"])
    return EventOutcome(200, event.outcome)


def scan_stuck_orders(*, now: dt.datetime | None = None) -> int:
    """Orders validated or provisioning with no change for ONBOARDING_STUCK_HOURS go to
    the exception queue (reason: stuck). Returns how many."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(hours=settings.ONBOARDING_STUCK_HOURS)
    stuck = Order.objects.filter(
        status__in=[OrderStatus.VALIDATED, OrderStatus.PROVISIONING], status_changed_at__lt=cutoff
    ).values_list("pk", flat=True)
    opened = 0
    for pk in list(stuck):
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=pk)
            if order.status not in (OrderStatus.VALIDATED, OrderStatus.PROVISIONING):
                continue
            hours = int((now - order.status_changed_at).total_seconds() // 3600)
            _open_exception(
                order, task=None, reason_code=FailureReason.STUCK, note=f"No progress for {hours} hours", actor=None
            )
            opened += 1
    return opened


# --- The customer's status link -------------------------------------------------------


def status_link_path(order: Order) -> str | None:
    if not order.status_token:
        return None
    from django.urls import reverse

    signed = signing.Signer(salt=STATUS_LINK_SALT).sign(order.status_token)
    return reverse("onboarding_status", kwargs={"signed": signed})


def order_for_link(signed: str) -> Order | None:
    try:
        token = signing.Signer(salt=STATUS_LINK_SALT).unsign(signed)
    except signing.BadSignature:
        return None
    return Order.objects.select_related("account").filter(status_token=token).first()


def can_manage_link(user: AbstractBaseUser, order: Order) -> bool:
    return has_role(user, SALES_MANAGER, CUSTOMER_RELATIONS, DATA_STEWARD) or (
        has_role(user, SALES_REP)
        and (order.created_by_id == user.pk or (order.account_id is not None and order.account.owner_id == user.pk))
    )


@transaction.atomic
def issue_status_link(*, order: Order, actor: AbstractBaseUser | None) -> Order:
    """A new unguessable link for the customer (any earlier link stops working)."""
    if actor is not None and not can_manage_link(actor, order):
        raise NotAllowedError("You cannot share this order's status link.")
    order = _lock(order)
    order.status_token = secrets.token_urlsafe(24)
    _save(order, actor=actor, reason="Status link issued")
    _event(order, actor=actor, kind=EventKind.LINK, summary="Customer status link issued")
    return order


@transaction.atomic
def revoke_status_link(*, order: Order, actor: AbstractBaseUser) -> Order:
    if not can_manage_link(actor, order):
        raise NotAllowedError("You cannot revoke this order's status link.")
    order = _lock(order)
    if not order.status_token:
        raise OnboardingError("This order has no status link to revoke.")
    order.status_token = None
    _save(order, actor=actor, reason="Status link revoked")
    _event(order, actor=actor, kind=EventKind.LINK, summary="Customer status link revoked")
    return order
