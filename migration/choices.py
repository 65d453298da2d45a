"""Stores, statuses and actions of legacy imports."""

from django.db import models


class Store(models.TextChoices):
    """The legacy stores of seed 000 (`IMPORT_ORDER` below is the order of precedence)."""

    CLIENT_MASTER = "d1", "D1 client master"
    HELPDESK = "d2", "D2 helpdesk ticket export"
    TRIAGE = "d2t", "D2 support triage sheet"
    PIPELINE = "d3", "D3 sales pipeline"
    XERO = "d4", "D4 Xero sales invoices"
    CONTACTS = "d5", "D5 Outlook contacts"
    CALENDAR = "d7", "D7 Outlook renewal calendar"


# D1 defines the clients; D5's contacts come before D2, whose tickets find their client by
# the requester's email; D2's tickets hang off the clients and change no account field, so
# they come last, the helpdesk export before the triage sheet that enriches its tickets.
IMPORT_ORDER = [
    Store.CLIENT_MASTER,
    Store.XERO,
    Store.CALENDAR,
    Store.PIPELINE,
    Store.CONTACTS,
    Store.HELPDESK,
    Store.TRIAGE,
]


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


# What happened to rows: the columns of every run report. A store's own counts ("values
# updated", "renewals missing from calendar") are listed after them.
REPORT_COLUMNS = ("created", "updated", "unchanged", "rejected", "held for review", "skipped")


class HeldKind(models.TextChoices):
    """Values in one cell that the import could not map: held for a steward to map once."""

    PRODUCT = "product", "Product"
    STAFF = "staff", "Staff name"
    SURVEY = "survey", "Survey label"
    STAGE = "stage", "Pipeline stage"


class HeldStatus(models.TextChoices):
    OPEN = "open", "Waiting for a steward"
    MAPPED = "mapped", "Mapped"


class EvidenceStatus(models.TextChoices):
    """What Customer Relations said of a subscription the import created from Xero or calendar evidence."""

    OPEN = "open", "Waiting for Customer Relations"
    CONFIRMED = "confirmed", "Confirmed"
    CORRECTED = "corrected", "Corrected"
    DISMISSED = "dismissed", "Dismissed"


class ConflictKind(models.TextChoices):
    """What a conflict is about, for the team that settles it."""

    STORES = "stores", "Stores disagree"
    DRIFT = "drift", "Contract value drift (Finance)"
    UNTOLD = "untold", "Xero's history cannot tell the value (Finance)"
