"""Onboarding orders (seed 002): one validated order from a won deal to an active, billed
subscription, under one shared order ID (`ORD-2026-00042`).

Every write goes through `onboarding.services`; each status change leaves an `OrderEvent`
(who, when, why, and whether it was a manual override), the order's timeline.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from cloudcore_crm.lib.history import tracked_history
from onboarding import choices
from onboarding.querysets import ExceptionCaseQuerySet, OrderQuerySet, TaskQuerySet

ORDER_PREFIX = "ORD"


def format_order_id(year: int, number: int) -> str:
    return f"{ORDER_PREFIX}-{year:04d}-{number:05d}"


class Order(models.Model):
    """One client's order: who, what (its lines), tenancy needs, and where it stands.

    The client is an existing account, or (until Customer Relations validates the order)
    the details of a new one, created then through the customers services.
    """

    year = models.PositiveSmallIntegerField(editable=False)
    number = models.PositiveIntegerField(editable=False)
    order_id = models.CharField("order ID", max_length=20, unique=True, editable=False)
    status = models.CharField(max_length=12, choices=choices.OrderStatus.choices, default=choices.OrderStatus.DRAFT)
    account = models.ForeignKey(
        "customers.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="onboarding_orders"
    )
    opportunity = models.ForeignKey(
        "customers.Opportunity", null=True, blank=True, on_delete=models.SET_NULL, related_name="onboarding_orders"
    )
    new_client_name = models.CharField("new client's legal name", max_length=200, blank=True)
    new_client_abn = models.CharField("new client's ABN", max_length=14, blank=True)
    new_client_phone = models.CharField("new client's phone", max_length=20, blank=True)
    new_client_confirmed = models.BooleanField(
        "not a duplicate", default=False, help_text="The look-alike accounts were checked: this is a new client."
    )
    billing_contact_name = models.CharField("billing contact", max_length=200, blank=True)
    billing_contact_email = models.EmailField("billing contact email", blank=True)
    billing_contact_phone = models.CharField("billing contact phone", max_length=20, blank=True)
    technical_contact_name = models.CharField("technical contact", max_length=200, blank=True)
    technical_contact_email = models.EmailField("technical contact email", blank=True)
    technical_contact_phone = models.CharField("technical contact phone", max_length=20, blank=True)
    custom_requirements = models.TextField(
        blank=True, help_text="Anything non-standard. An order with custom requirements is provisioned by hand."
    )
    internal_notes = models.TextField(blank=True, help_text="For staff only; never shown to the customer.")
    auto_provision = models.BooleanField(default=False, editable=False)
    auto_provisioned = models.BooleanField(default=False, editable=False)
    expected_activation = models.DateField(null=True, blank=True, editable=False)
    status_token = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="onboarding_orders_started"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    status_changed_at = models.DateTimeField(default=timezone.now, editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    validated_at = models.DateTimeField(null=True, blank=True, editable=False)
    activated_at = models.DateTimeField(null=True, blank=True, editable=False)

    history = tracked_history()
    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "-number"]
        constraints = [models.UniqueConstraint(fields=["year", "number"], name="order_number_once_a_year")]
        indexes = [models.Index(fields=["status", "status_changed_at"]), models.Index(fields=["account", "status"])]

    def __str__(self) -> str:
        return self.order_id

    def get_absolute_url(self) -> str:
        return reverse("onboarding:order_detail", kwargs={"order_id": self.order_id})

    @property
    def client_name(self) -> str:
        return self.account.display_name if self.account_id else self.new_client_name

    @property
    def is_editable(self) -> bool:
        return self.status == choices.OrderStatus.DRAFT


class OrderLine(models.Model):
    """One product or service line on an order, with its tenancy requirements."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("customers.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    seats = models.PositiveIntegerField("seats or quantity", null=True, blank=True, validators=[MinValueValidator(1)])
    annual_value = models.DecimalField(
        "annual value (AUD)",
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    start_date = models.DateField(null=True, blank=True)
    term_months = models.PositiveSmallIntegerField(
        "term (months)", null=True, blank=True, validators=[MinValueValidator(1)]
    )
    datavault_region = models.CharField(
        "DataVault region", max_length=10, choices=choices.DataVaultRegion.choices, blank=True
    )
    datavault_quota_gb = models.PositiveIntegerField("DataVault quota (GB)", null=True, blank=True)
    workspace_name = models.CharField("Analytics Pro workspace name", max_length=100, blank=True)
    subscription = models.ForeignKey(
        "customers.Subscription", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    history = tracked_history()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.product or 'No product'} on {self.order_id}"


class OrderEvent(models.Model):
    """One entry on an order's timeline: a status change (or override), a task, a note.

    `actor` is empty when the system acted (automatic provisioning, IT's signed events).
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    order_ref = models.CharField("order ID", max_length=20, editable=False)
    kind = models.CharField(max_length=10, choices=choices.EventKind.choices, default=choices.EventKind.TRANSITION)
    from_status = models.CharField(max_length=12, choices=choices.OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=choices.OrderStatus.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    summary = models.CharField(max_length=300)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["order", "at"])]

    def __str__(self) -> str:
        return f"{self.order_ref}: {self.summary}"

    @property
    def is_override(self) -> bool:
        return self.kind == choices.EventKind.OVERRIDE


class ProvisioningTask(models.Model):
    """Provisioning work for one line of an order, in the provisioning team's queue.

    `reference` (`ORD-2026-00042-1`) carries the order ID into IT's tooling and emails.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="tasks")
    line = models.OneToOneField(OrderLine, on_delete=models.CASCADE, related_name="task")
    reference = models.CharField(max_length=30, unique=True, editable=False)
    status = models.CharField(max_length=10, choices=choices.TaskStatus.choices, default=choices.TaskStatus.PENDING)
    auto = models.BooleanField("automatic", default=False, help_text="Sent to the provisioning adapter.")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_automatically = models.BooleanField(default=False)
    tenancy_ref = models.CharField("tenancy reference", max_length=120, blank=True)
    failure_reason = models.CharField(max_length=20, choices=choices.FailureReason.choices, blank=True)
    failure_note = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    failures = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    history = tracked_history()
    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return self.reference


class ExceptionCase(models.Model):
    """A failed or stuck order waiting for the provisioning lead: reason code, owner, age.

    An order has at most one open case; resolving it retries or cancels the order.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="exceptions")
    order_ref = models.CharField("order ID", max_length=20, editable=False)
    task = models.ForeignKey(ProvisioningTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason_code = models.CharField(max_length=20, choices=choices.FailureReason.choices)
    note = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution = models.CharField(max_length=8, choices=choices.ExceptionResolution.choices, blank=True)
    resolution_note = models.TextField(blank=True)

    history = tracked_history()
    objects = ExceptionCaseQuerySet.as_manager()

    class Meta:
        ordering = ["opened_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["order"], condition=Q(resolved_at__isnull=True), name="one_open_exception")
        ]

    def __str__(self) -> str:
        return f"{self.order_ref}: {self.get_reason_code_display()}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    def age(self, now=None):
        return (self.resolved_at or now or timezone.now()) - self.opened_at


class BillingHandoff(models.Model):
    """What Finance is told when an order goes active: plan, pricing and start date, as
    on the order; the order ID is the reference for the Xero invoice."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="billing_handoff")
    order_ref = models.CharField("order ID", max_length=20, editable=False)
    lines = models.JSONField(default=list)  # [{product, seats, annual_value, start_date, term_months, renewal_date}]
    annual_total = models.DecimalField(max_digits=12, decimal_places=2)
    start_date = models.DateField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Billing hand-off for {self.order_ref}"


class InboundEvent(models.Model):
    """A signed event from IT's provisioning tooling (`POST /api/onboarding/events`),
    kept once by its id so a retried delivery changes nothing."""

    event_id = models.CharField(max_length=100, unique=True)
    received_at = models.DateTimeField(default=timezone.now)
    body = models.TextField()
    outcome = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return self.event_id
