"""Celery tasks: one-line, idempotent wrappers around the services. They take primary keys."""

from __future__ import annotations

from celery import shared_task

from billing_sync import services


@shared_task
def run_xero_import(run_id: int) -> int | None:
    run = services.run_queued(run_id)
    return run.pk if run else None


@shared_task
def reconcile_nightly() -> dict:
    return services.reconcile(reason="Nightly reconciliation").as_dict()
