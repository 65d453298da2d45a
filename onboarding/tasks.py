"""Celery tasks: one-line, idempotent wrappers around the services. They take primary keys."""

from __future__ import annotations

from celery import shared_task

from onboarding import services


@shared_task
def auto_provision(task_id: int) -> str:
    return services.auto_provision(task_id)


@shared_task
def notify_finance(handoff_id: int) -> int:
    return services.notify_finance(handoff_id)


@shared_task
def scan_stuck_orders() -> int:
    return services.scan_stuck_orders()
