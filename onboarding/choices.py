"""Statuses and reason codes of the onboarding flow (seed 002)."""

from django.db import models


class OrderStatus(models.TextChoices):
    """draft -> submitted -> validated -> provisioning -> active (or exception, cancelled)."""

    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    VALIDATED = "validated", "Validated"
    PROVISIONING = "provisioning", "Provisioning"
    ACTIVE = "active", "Active"
    EXCEPTION = "exception", "Exception"
    CANCELLED = "cancelled", "Cancelled"

    @classmethod
    def open_statuses(cls) -> list[str]:
        return [cls.SUBMITTED, cls.VALIDATED, cls.PROVISIONING, cls.EXCEPTION]

    @classmethod
    def in_flight(cls) -> list[str]:
        """Where an order can get stuck (the stuck-order scan looks at these)."""
        return [cls.SUBMITTED, cls.VALIDATED, cls.PROVISIONING]


class TaskStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    CLAIMED = "claimed", "In progress"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class FailureReason(models.TextChoices):
    """Why provisioning failed: the exception queue's reason codes."""

    REGION_CAPACITY = "region_capacity", "Region has no capacity"
    INVALID_TENANCY = "invalid_tenancy", "Tenancy requirements invalid"
    LICENCE_UNAVAILABLE = "licence_unavailable", "Licences unavailable"
    CUSTOMER_ACTION = "customer_action", "Waiting on the customer"
    VENDOR_ERROR = "vendor_error", "Vendor or platform error"
    STUCK = "stuck", "Stuck past the time limit"
    OTHER = "other", "Other"


class ExceptionResolution(models.TextChoices):
    RETRY = "retry", "Retried"
    CANCEL = "cancel", "Order cancelled"


class EventKind(models.TextChoices):
    """What a timeline entry on an order records."""

    TRANSITION = "transition", "Status change"
    OVERRIDE = "override", "Manual override"
    TASK = "task", "Provisioning task"
    EXCEPTION = "exception", "Exception"
    NOTE = "note", "Note"
    LINK = "link", "Status link"
    BILLING = "billing", "Billing hand-off"


class DataVaultRegion(models.TextChoices):
    PERTH = "perth", "Perth"
    SYDNEY = "sydney", "Sydney"
    MELBOURNE = "melbourne", "Melbourne"
