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
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Window
from django.db.models.functions import RowNumber
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
    today: dt.date | None = None
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
    """One person's digest (the weekly job builds everyone's at once with `build_digests`)."""
    return build_digests([user], now=now, before=before)[user.pk]


def _first_per_owner(queryset, owner: str, order: list[str]) -> list:
    """At most SHOWN rows per owner, in `order`, in one query (a window, not a query each)."""
    ordering = [F(name[1:]).desc() if name.startswith("-") else F(name).asc() for name in order]
    numbered = queryset.annotate(row_number=Window(RowNumber(), partition_by=[F(owner)], order_by=ordering))
    return list(numbered.filter(row_number__lte=SHOWN).order_by(owner, *order))


def build_digests(people: list, *, now: dt.datetime, before: dict[int, dict]) -> dict[int, Digest]:
    """Everyone's digest in five queries, whatever the number of people."""
    from support_bridge.models import ChurnAlert, RiskScore

    today = timezone.localdate(now)
    ids = [person.pk for person in people]
    digests = {person.pk: Digest(user=person, week=week_of(today), today=today) for person in people}
    renewals = (
        Subscription.objects.live()
        .filter(account__owner_id__in=ids, account__merged_into__isnull=True, renewal_date__isnull=False)
        .filter(renewal_date__lte=today + dt.timedelta(days=RENEWAL_DAYS))
        .select_related("account", "product")
    )
    for sub in _first_per_owner(renewals, "account__owner_id", ["renewal_date", "pk"]):
        digests[sub.account.owner_id].renewals.append(sub)
    scores = RiskScore.objects.filter(
        account__owner_id__in=ids, account__merged_into__isnull=True, band__in=["medium", "high"]
    ).select_related("account")
    for score in scores.order_by("-score", "pk"):
        earlier = before.get(score.account_id)
        if earlier is not None and BAND_ORDER.get(score.band, 0) <= BAND_ORDER.get(earlier["band"], 0):
            continue
        score.band_before = earlier["band"] if earlier else ""
        risen = digests[score.account.owner_id].risen
        if len(risen) < SHOWN:
            risen.append(score)
    alerts = ChurnAlert.objects.open().filter(owner_id__in=ids).select_related("account", "raised_by")
    for alert in _first_per_owner(alerts, "owner_id", ["-created_at", "-pk"]):
        digests[alert.owner_id].alerts.append(alert)
    cutoff = now - dt.timedelta(days=STALE_DAYS)
    # EXISTS per deal reads the (account, occurred_at) index; an exclude() across the
    # relation scanned every recent activity for each owner.
    recent = Activity.objects.filter(account_id=OuterRef("account_id"), occurred_at__gte=cutoff)
    stale = (
        Opportunity.objects.open()
        .filter(owner_id__in=ids, created_at__lt=cutoff)
        .filter(~Exists(recent))
        .select_related("account")
    )
    for deal in _first_per_owner(stale, "owner_id", ["expected_close", "pk"]):
        digests[deal.owner_id].stale_deals.append(deal)
    for person in people:
        digests[person.pk].discrepancies = sources.open_discrepancies_for_owner(person)
    return digests


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
    """Send this week's digests (or, with `dry_run`, print them and claim nothing).

    People are taken a batch at a time: the batch is claimed (one insert; the unique
    person-and-week row decides who sends), its digests are built in five queries, and
    the non-empty ones are sent over the one connection.
    """
    now = now or timezone.now()
    week = week_of(timezone.localdate(now))
    before = risk_a_week_ago(now)
    counts = {"sent": 0, "empty": 0, "already": 0, "failed": 0}
    connection = None if dry_run else get_connection()
    people = list(recipients())
    size = settings.REPORTS_DIGEST_BATCH
    try:
        for start in range(0, len(people), size):
            batch = people[start : start + size]
            if not dry_run:
                claimed = _claim_batch(batch, week, now)
                counts["already"] += len(batch) - len(claimed)
                batch = [person for person in batch if person.pk in claimed]
            built = build_digests(batch, now=now, before=before)
            empty = [pk for pk, digest in built.items() if digest.is_empty]
            counts["empty"] += len(empty)
            messages = [(built[p.pk], render_digest(built[p.pk])) for p in batch if not built[p.pk].is_empty]
            if dry_run:
                for _, message in messages:
                    if out is not None:
                        out.write(f"--- To: {message.to[0]} · {message.subject}\n{message.body}\n")
                counts["sent"] += len(messages)
                continue
            DigestDelivery.objects.filter(week=week, user_id__in=empty).update(status=DigestStatus.EMPTY)
            if messages:
                _send(week, messages, connection, counts)
    finally:
        if connection is not None:
            connection.close()
    return counts


def _claim_batch(people: list, week: dt.date, now: dt.datetime) -> set[int]:
    """Claim each person's digest for the week; returns whose this run may send.

    The unique (person, week) row decides: rows already there (an earlier or a concurrent
    run) are left alone, and only the rows this run wrote (its `claimed_at`) are its own.
    """
    DigestDelivery.objects.bulk_create(
        [DigestDelivery(user=person, week=week, claimed_at=now) for person in people], ignore_conflicts=True
    )
    mine = DigestDelivery.objects.filter(
        week=week, user_id__in=[p.pk for p in people], claimed_at=now, status=DigestStatus.CLAIMED
    )
    return set(mine.values_list("user_id", flat=True))


def _send(week: dt.date, messages: list, connection, counts: dict[str, int]) -> None:
    ids = [digest.user.pk for digest, _ in messages]
    connection.open()
    try:
        connection.send_messages([message for _, message in messages])
    except Exception:
        # Release the claims so the next run tries these people again.
        DigestDelivery.objects.filter(week=week, user_id__in=ids).delete()
        counts["failed"] += len(messages)
        raise
    sent_at = timezone.now()
    DigestDelivery.objects.filter(week=week, user_id__in=ids).update(status=DigestStatus.SENT, sent_at=sent_at)
    counts["sent"] += len(messages)
