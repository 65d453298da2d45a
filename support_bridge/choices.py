"""Statuses, priorities, sources and bands of the support bridge."""

from __future__ import annotations

from django.db import models


class TicketSource(models.TextChoices):
    ZENDESK = "zendesk", "Helpdesk (Zendesk shape)"
    FRESHDESK = "freshdesk", "Helpdesk export (Freshdesk shape)"
    TRIAGE_SHEET = "triage_sheet", "Triage sheet"


class TicketStatus(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"
    ON_HOLD = "hold", "On hold"
    SOLVED = "solved", "Solved"
    CLOSED = "closed", "Closed"

    @classmethod
    def open_values(cls) -> list[str]:
        return [cls.NEW, cls.OPEN, cls.PENDING, cls.ON_HOLD]


class TicketPriority(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"

    @classmethod
    def high_values(cls) -> list[str]:
        return [cls.HIGH, cls.URGENT]


class EventStatus(models.TextChoices):
    """What became of one webhook delivery in the inbox."""

    APPLIED = "applied", "Applied to the ticket"
    STALE = "stale", "Older than the ticket (ignored)"
    UNMAPPED = "unmapped", "Held: account not known"


class Resolution(models.TextChoices):
    """How an event's account was found."""

    CODE = "code", "Customer code on the ticket"
    TAG = "tag", "Customer code tag"
    ORGANIZATION = "organization", "Helpdesk organisation alias"
    STEWARD = "steward", "Mapped by a data steward"
    NONE = "none", "Not resolved"


class RiskBand(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class AlertKind(models.TextChoices):
    RISK = "risk", "Churn risk rose to high"
    CONCERN = "concern", "Concern raised by support"
