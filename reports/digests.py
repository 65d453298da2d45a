"""The weekly digest to each account owner (Celery beat, Monday 07:00 Perth).

For each owner: renewals due within 90 days, accounts whose churn risk rose over the week,
open alerts, open deals with no activity on their account in 30 days, and open billing
discrepancies (once billing_sync exists). Nothing is sent when there is nothing to say.
Each person's digest is claimed once per week (`DigestDelivery`, unique per person and
week), so a second run of the job sends nothing twice. Messages go out in batches over one
mail connection. Each digest carries a signed unsubscribe link.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, TextIO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from customers.models import Account, Activity, Opportunity, Subscription
from reports import sources
from reports.asof import states_as_of
from reports.choices import DigestStatus
from reports.models import DigestDelivery, DigestPreference

TOKEN_SALT = "reports.digest.unsubscribe"
RENEWAL_DAYS = 90
STALE_DAYS = 30
SHOWN = 20
BAND_ORDER = {"": 0, "low": 1, "medium": 2, "high": 3}


def token_for(user) -> str:
    return signing.dumps(user.pk, salt=TOKEN_SALT)


def user_for_token(token: str):
    try:
        pk = signing.loads(token, salt=TOKEN_SALT)
    except signing.BadSignature:
        return None
    return get_user_model().objects.filter(pk=pk, is_active=True).first()


def wants_digest(user) -> bool:
    choice = DigestPreference.objects.filter(user=user).values_list("weekly_digest", flat=True).first()
    return True if choice is None else choice


@transaction.atomic
def set_preference(*, user, weekly_digest: bool) -> DigestPreference:
    preference, _ = DigestPreference.objects.update_or_create(user=user, defaults={"weekly_digest": weekly_digest})
    return preference


def week_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@dataclass
class Digest:
    user: Any
    week: dt.date
    renewals: list = field(default_factory=list)
    risen: list = field(default_factory=list)
    alerts: list = field(default_factory=list)
    stale_deals: list = field(default_factory=list)
    discrepancies: list | None = None

    @property
    def items(self) -> int:
        return (
            len(self.renewals)
            + len(self.risen)
            + len(self.alerts)
            + len(self.stale_deals)
            + len(self.discrepancies or [])
        )

    @property
    def is_empty(self) -> bool:
        return self.items == 0


def recipients():
    """Active people with an email address who own accounts and have not unsubscribed."""
    owners = Account.objects.active_records().filter(owner__isnull=False).values("owner_id")
    opted_out = DigestPreference.objects.filter(weekly_digest=False).values("user_id")
    return (
        get_user_model()
        .objects.filter(pk__in=owners, is_active=True)
        .exclude(email="")
        .exclude(pk__in=opted_out)
        .order_by("pk")
    )


def risk_a_week_ago(now: dt.datetime) -> dict[int, dict]:
    """{account id: {"score", "band"}} as the churn-risk scores stood seven days before `now`."""
    from support_bridge.models import RiskScore

    states = states_as_of(RiskScore, now - dt.timedelta(days=7), ("account_id", "score", "band"), oldest=False)
    return {row["account_id"]: row for row in states.known.values()}


def build_digest(user, *, now: dt.datetime, before: dict[int, dict]) -> Digest:
    from support_bridge.models import ChurnAlert, RiskScore

    today = timezone.localdate(now)
    digest = Digest(user=user, week=week_of(today))
    digest.renewals = list(
        Subscription.objects.live()
        .filter(account__owner=user, account__merged_into__isnull=True, renewal_date__isnull=False)
        .filter(renewal_date__lte=today + dt.timedelta(days=RENEWAL_DAYS))
        .select_related("account", "product")
        .order_by("renewal_date", "pk")[:SHOWN]
    )
    risen = []
    for score in RiskScore.objects.filter(account__owner=user, account__merged_into__isnull=True).select_related(
        "account"
    ):
        earlier = before.get(score.account_id)
        if earlier is None:
            rose = score.band in ("medium", "high")
        else:
            rose = BAND_ORDER.get(score.band, 0) > BAND_ORDER.get(earlier["band"], 0)
        if rose:
            score.band_before = earlier["band"] if earlier else ""
            risen.append(score)
    digest.risen = sorted(risen, key=lambda s: -s.score)[:SHOWN]
    digest.alerts = list(ChurnAlert.objects.for_owner(user)[:SHOWN])
    cutoff = now - dt.timedelta(days=STALE_DAYS)
    # EXISTS per deal reads the (account, occurred_at) index; an exclude() across the
    # relation scanned every recent activity for each owner.
    recent = Activity.objects.filter(account_id=OuterRef("account_id"), occurred_at__gte=cutoff)
    digest.stale_deals = list(
        Opportunity.objects.open()
        .filter(owner=user, created_at__lt=cutoff)
        .filter(~Exists(recent))
        .select_related("account")
        .order_by("expected_close", "pk")[:SHOWN]
    )
    digest.discrepancies = sources.open_discrepancies_for_owner(user)
    return digest


def render_digest(digest: Digest) -> EmailMultiAlternatives:
    site = settings.SITE_URL.rstrip("/")
    context = {
        "digest": digest,
        "person": digest.user,
        "site": site,
        "unsubscribe": site + reverse("reports:digest_unsubscribe", args=[token_for(digest.user)]),
        "preferences": site + reverse("reports:digest_preference"),
    }
    subject = f"Your CloudCore week: {digest.items} thing{'s' if digest.items != 1 else ''} on your accounts"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("reports/email/digest.txt", context),
        to=[digest.user.email],
        headers={"List-Unsubscribe": f"<{context['unsubscribe']}>"},
    )
    message.attach_alternative(render_to_string("reports/email/digest.html", context), "text/html")
    return message


def send_digests(*, dry_run: bool = False, now: dt.datetime | None = None, out: TextIO | None = None) -> dict[str, int]:
    """Send this week's digests (or, with `dry_run`, print them and claim nothing)."""
    now = now or timezone.now()
    week = week_of(timezone.localdate(now))
    before = risk_a_week_ago(now)
    counts = {"sent": 0, "empty": 0, "already": 0, "failed": 0}
    batch: list[tuple[DigestDelivery, EmailMultiAlternatives]] = []
    connection = None if dry_run else get_connection()
    try:
        for user in recipients():
            if dry_run:
                digest = build_digest(user, now=now, before=before)
                if digest.is_empty:
                    counts["empty"] += 1
                    continue
                message = render_digest(digest)
                if out is not None:
                    out.write(f"--- To: {user.email} · {message.subject}\n{message.body}\n")
                counts["sent"] += 1
                continue
            delivery = _claim(user, week, now)
            if delivery is None:
                counts["already"] += 1
                continue
            digest = build_digest(user, now=now, before=before)
            if digest.is_empty:
                DigestDelivery.objects.filter(pk=delivery.pk).update(status=DigestStatus.EMPTY)
                counts["empty"] += 1
                continue
            delivery.items = digest.items
            batch.append((delivery, render_digest(digest)))
            if len(batch) >= settings.REPORTS_DIGEST_BATCH:
                _send(batch, connection, counts)
                batch = []
        if batch:
            _send(batch, connection, counts)
    finally:
        if connection is not None:
            connection.close()
    return counts


def _claim(user, week: dt.date, now: dt.datetime) -> DigestDelivery | None:
    try:
        with transaction.atomic():
            return DigestDelivery.objects.create(user=user, week=week, claimed_at=now)
    except IntegrityError:
        return None


def _send(batch, connection, counts: dict[str, int]) -> None:
    connection.open()
    try:
        connection.send_messages([message for _, message in batch])
    except Exception:
        # Release the claims so the next run tries these people again.
        DigestDelivery.objects.filter(pk__in=[d.pk for d, _ in batch]).delete()
        counts["failed"] += len(batch)
        raise
    sent_at = timezone.now()
    for delivery, _ in batch:
        DigestDelivery.objects.filter(pk=delivery.pk).update(
            status=DigestStatus.SENT, sent_at=sent_at, items=delivery.items
        )
    counts["sent"] += len(batch)
