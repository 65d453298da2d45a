"""Celery tasks: one-line, idempotent wrappers around the services. They take primary keys."""

from __future__ import annotations

from celery import shared_task

from support_bridge import notifications, services


@shared_task
def recompute_risk_nightly() -> str:
    return services.recompute_risk().summary()


@shared_task
def recompute_account_risk(account_id: int) -> int:
    return services.recompute_risk(account_ids={account_id}).accounts


@shared_task
def recompute_accounts_risk(account_ids: list[int]) -> int:
    return services.recompute_risk(account_ids=set(account_ids)).accounts


@shared_task
def notify_alert_owners(alert_ids: list[int]) -> int:
    return notifications.notify_alert_owners(alert_ids)
