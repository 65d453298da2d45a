"""Statuses, stages, outcomes and windows of renewal cases."""

from __future__ import annotations

from django.db import models


class CaseStatus(models.TextChoices):
    UPCOMING = "upcoming", "Upcoming"
    IN_OUTREACH = "outreach", "In outreach"
    RENEWED = "renewed", "Renewed"
    LOST = "lost", "Lost"
    LAPSED = "lapsed", "Lapsed"

    @classmethod
    def open_values(cls) -> list[str]:
        """No outcome yet: the nightly scan still watches these."""
        return [cls.UPCOMING, cls.IN_OUTREACH]

    @classmethod
    def unresolved_values(cls) -> list[str]:
        """No outcome recorded: a lapsed case may still be renewed (late) or lost."""
        return [cls.UPCOMING, cls.IN_OUTREACH, cls.LAPSED]


class NoticeKind(models.TextChoices):
    """What a person is told about a case, once each (unique per case, kind and person)."""

    REMINDER_90 = "remind_90", "90-day reminder"
    REMINDER_60 = "remind_60", "60-day reminder"
    REMINDER_30 = "remind_30", "30-day reminder"
    ESCALATION_NO_OUTREACH = "esc_quiet", "Escalation: due within 14 days, no outreach logged"
    ESCALATION_DUE = "esc_due", "Escalation: renewal date reached with no outcome"
    LAPSED = "lapsed", "Lapsed: the renewal date passed with no outcome"

    @classmethod
    def escalations(cls) -> list[str]:
        return [cls.ESCALATION_NO_OUTREACH, cls.ESCALATION_DUE, cls.LAPSED]


# Reminder stages: (days before the renewal date, notice kind), latest stage first.
REMINDER_STAGES: tuple[tuple[int, str], ...] = (
    (30, NoticeKind.REMINDER_30),
    (60, NoticeKind.REMINDER_60),
    (90, NoticeKind.REMINDER_90),
)
OPEN_DAYS = 90  # a case opens this many days before the renewal date
QUIET_ESCALATION_DAYS = 14  # escalate when this close with no outreach logged


class LostReason(models.TextChoices):
    PRICE = "price", "Price"
    COMPETITOR = "competitor", "Moved to a competitor"
    NO_LONGER_NEEDED = "not_needed", "No longer needed"
    SERVICE = "service", "Unhappy with the service"
    BUSINESS_CLOSED = "closed", "Business closed or acquired"
    CONSOLIDATED = "consolidated", "Consolidated into another subscription"
    OTHER = "other", "Other (see note)"


class OutreachKind(models.TextChoices):
    CALL = "call", "Call"
    EMAIL = "email", "Email"
    MEETING = "meeting", "Meeting"


class Window(models.TextChoices):
    """Due windows on the board, by days until the renewal date."""

    OVERDUE = "overdue", "Overdue"
    DAYS_30 = "30", "Within 30 days"
    DAYS_60 = "60", "31-60 days"
    DAYS_90 = "90", "61-90 days"
    LATER = "later", "Later"
