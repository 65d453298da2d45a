"""Stores, statuses and actions of legacy imports."""

from django.db import models


class Store(models.TextChoices):
    """The legacy stores of seed 000, in the order they are imported (precedence)."""

    CLIENT_MASTER = "d1", "D1 client master"
    PIPELINE = "d3", "D3 sales pipeline"
    XERO = "d4", "D4 Xero sales invoices"
    CALENDAR = "d7", "D7 Outlook renewal calendar"


IMPORT_ORDER = [Store.CLIENT_MASTER, Store.XERO, Store.CALENDAR, Store.PIPELINE]


class RunStatus(models.TextChoices):
    PENDING = "pending", "Waiting to start"
    RUNNING = "running", "Running"
    PREVIEWED = "previewed", "Dry run done"
    SUCCEEDED = "succeeded", "Imported"
    FAILED = "failed", "Failed"


class FileStatus(models.TextChoices):
    IMPORTED = "imported", "Imported"
    PREVIEWED = "previewed", "Previewed (dry run)"
    REFUSED = "refused", "Refused"
    FAILED = "failed", "Failed"


class ConflictStatus(models.TextChoices):
    OPEN = "open", "Open"
    KEPT = "kept", "Kept current value"
    APPLIED = "applied", "Applied other value"


class ReviewStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
