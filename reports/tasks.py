"""Celery tasks of the reports app: one-line wrappers around services, idempotent."""

from __future__ import annotations

from celery import shared_task

from reports import digests, services


@shared_task
def freeze_last_month() -> str:
    """The 1st of each month: freeze the month just ended (a second run changes nothing)."""
    snapshot, written = services.freeze_month(month=services.last_complete_month())
    return f"{snapshot} {'frozen' if written else 'already frozen'}"


@shared_task
def send_weekly_digests() -> dict[str, int]:
    """Monday 07:00 Perth: each owner's digest, claimed once per person per week."""
    return digests.send_digests()
