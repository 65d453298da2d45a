"""Renewal emails (HTML and text), sent after commit by a task, each notice once.

A batch of notices is claimed (`claimed_at`) by rows locked and re-checked, so two workers
never take the same notice; each email is marked `sent_at` as soon as it is handed to the
mail server. A worker that dies mid-batch leaves the rest claimed but unsent: after
`CLAIM_TIMEOUT` the next run takes them again, and the ones already sent stay sent.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from renewals.models import RenewalNotice

NOTIFY_BATCH = 200  # notices per claim: one query to read them and one mail connection
CLAIM_TIMEOUT = dt.timedelta(minutes=30)


def _claim(now: dt.datetime, batch: int) -> list[int]:
    stale = now - CLAIM_TIMEOUT
    pending = Q(sent_at__isnull=True) & (Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
    with transaction.atomic():
        ids = list(
            RenewalNotice.objects.select_for_update(skip_locked=True)
            .filter(pending)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        RenewalNotice.objects.filter(pending, pk__in=ids).update(claimed_at=now)
    return ids


def send_pending_notices(*, batch: int = NOTIFY_BATCH) -> int:
    """Email every notice not sent yet; returns the emails sent."""
    sent = 0
    while True:
        now = timezone.now()
        ids = _claim(now, batch)
        if not ids:
            return sent
        notices = (
            RenewalNotice.objects.filter(pk__in=ids, claimed_at=now)
            .select_related("recipient", "case__account__owner", "case__subscription__product")
            .order_by("pk")
        )
        connection = get_connection()
        for notice in notices:
            if notice.recipient.email:
                connection.send_messages([message(notice)])
                sent += 1
            # Marked one by one: a crash after this point resends nothing already sent.
            RenewalNotice.objects.filter(pk=notice.pk).update(sent_at=timezone.now())


def message(notice: RenewalNotice) -> EmailMultiAlternatives:
    case = notice.case
    context = {"notice": notice, "case": case, "account": case.account, "base_url": settings.SITE_URL}
    subject = (
        f"[CloudCore CRM] {notice.get_kind_display()}: {case.account.code} {case.account.display_name} "
        f"- {case.subscription.product.name}, renews {case.term_end:%d %b %Y}"
    )
    email = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("renewals/email/notice.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notice.recipient.email],
    )
    email.attach_alternative(render_to_string("renewals/email/notice.html", context), "text/html")
    return email
