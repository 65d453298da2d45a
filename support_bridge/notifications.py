"""The email an account owner gets when an alert is raised (sent after commit, by a task)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone

from support_bridge.models import ChurnAlert


def notify_alert_owner(alert_id: int) -> bool:
    """Email the owner about an alert, once: the alert is claimed with a conditional update
    (`notified_at`, outside history), so a retried task sends nothing twice."""
    claimed = ChurnAlert.objects.filter(pk=alert_id, notified_at__isnull=True, owner__isnull=False).update(
        notified_at=timezone.now()
    )
    if not claimed:
        return False
    alert = ChurnAlert.objects.select_related("account", "owner", "raised_by").get(pk=alert_id)
    if not alert.owner.email:
        return False
    context = {"alert": alert, "base_url": settings.SITE_URL}
    send_mail(
        subject=f"[CloudCore CRM] {alert.get_kind_display()}: {alert.account}",
        message=render_to_string("support_bridge/email/alert.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[alert.owner.email],
    )
    return True
