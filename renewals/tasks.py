"""Celery tasks: one-line, idempotent wrappers around the services."""

from __future__ import annotations

from celery import shared_task

from renewals import notifications, services


@shared_task
def nightly_scan() -> str:
    """Nightly: open cases, remind, escalate, lapse (a rerun changes nothing)."""
    return services.nightly_scan().summary()


@shared_task
def send_renewal_notices() -> int:
    return notifications.send_pending_notices()
