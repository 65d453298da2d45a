"""The email an account owner gets when an alert is raised (sent after commit, by a task)."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from cloudcore_crm.lib.text import email_subject
from support_bridge.models import ChurnAlert


def notify_alert_owners(alert_ids: Iterable[int]) -> int:
    """Email each alert's owner, once; returns the emails sent.

    The alerts are claimed first (`notified_at`, outside history) by rows locked and
    re-checked, so a retried or doubled task sends nothing twice. A batch is read with one
    query and sent over one mail connection: a nightly run raising hundreds of alerts spent
    6 ms an alert on its own query and connection."""
    with transaction.atomic():
        claimed = list(
            ChurnAlert.objects.select_for_update()
            .filter(pk__in=sorted(set(alert_ids)), notified_at__isnull=True, owner__isnull=False)
            .values_list("pk", flat=True)
        )
        ChurnAlert.objects.filter(pk__in=claimed).update(notified_at=timezone.now())
    alerts = ChurnAlert.objects.select_related("account", "owner", "raised_by").filter(pk__in=claimed).order_by("pk")
    messages = [_message(alert) for alert in alerts if alert.owner.email]
    if messages:
        get_connection().send_messages(messages)
    return len(messages)


def _message(alert: ChurnAlert) -> EmailMessage:
    context = {"alert": alert, "base_url": settings.SITE_URL}
    return EmailMessage(
        subject=email_subject(f"[CloudCore CRM] {alert.get_kind_display()}: {alert.account}"),
        body=render_to_string("support_bridge/email/alert.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[alert.owner.email],
    )
