"""Celery tasks for the golden record: one-line wrappers around services, idempotent."""

from __future__ import annotations

from celery import shared_task

from customers import services


@shared_task
def scan_duplicates() -> str:
    """Nightly: refresh the duplicate review queue (a rerun changes nothing)."""
    return services.scan_duplicates().summary()
