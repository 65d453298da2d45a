"""Churn risk: a 0-100 score, a band and the reasons in words, for the account owner.

Factors (weights in `settings.CHURN_RISK_WEIGHTS`, bands in `CHURN_RISK_BANDS`):
ticket volume against peers in the same segment, satisfaction level and trend, open
high-priority tickets, a renewal within 90 days, an open billing discrepancy (when the
billing app is installed) and no relationship activity in 90 days.

`gather` reads the facts for many accounts at once: a handful of aggregate queries
whatever the number of accounts. `assess` is pure arithmetic on those facts.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.db.models import Count, F, Min, Q, QuerySet, Sum
from django.utils import timezone

from customers.choices import ActivityKind, LifecycleStatus
from customers.models import Account, Activity, Subscription
from support_bridge.choices import RiskBand, TicketPriority, TicketStatus
from support_bridge.lookups import OneOf
from support_bridge.models import PeerBaseline, Ticket

RECENT_DAYS = 180
PREVIOUS_DAYS = 365  # the trend compares the last 180 days with the year before them
RENEWAL_DAYS = 90
CONTACT_DAYS = 90
MIN_RATINGS = 2
SCORED_STATUSES = (LifecycleStatus.ACTIVE, LifecycleStatus.ONBOARDING)
RELATIONSHIP_KINDS = (ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.MEETING, ActivityKind.NOTE)
FACTORS = (
    "ticket_volume",
    "satisfaction_level",
    "satisfaction_trend",
    "open_high_priority",
    "renewal_soon",
    "billing_discrepancy",
    "no_recent_contact",
)


@dataclass
class Facts:
    """What the score is computed from, for one account."""

    account_id: int
    segment: str
    owner_id: int | None
    recent_tickets: int = 0
    recent_rating_sum: int = 0
    recent_ratings: int = 0
    previous_rating_sum: int = 0
    previous_ratings: int = 0
    open_high: int = 0
    renewal_date: dt.date | None = None
    recent_contact: bool = False
    billing_discrepancy: bool = False

    @property
    def recent_satisfaction(self) -> float | None:
        return self.recent_rating_sum / self.recent_ratings if self.recent_ratings >= MIN_RATINGS else None

    @property
    def previous_satisfaction(self) -> float | None:
        return self.previous_rating_sum / self.previous_ratings if self.previous_ratings >= MIN_RATINGS else None


@dataclass
class Assessment:
    account_id: int
    score: int
    band: str
    reasons: list[str] = field(default_factory=list)


def weights() -> dict[str, float]:
    configured = settings.CHURN_RISK_WEIGHTS
    return {name: float(configured.get(name, 0)) for name in FACTORS}


def band_for(score: int) -> str:
    bands = settings.CHURN_RISK_BANDS
    if score >= bands["high"]:
        return RiskBand.HIGH
    if score >= bands["medium"]:
        return RiskBand.MEDIUM
    return RiskBand.LOW


def scored_accounts() -> QuerySet:
    """Accounts that get a score: current clients (not prospects, not churned)."""
    return Account.objects.filter(lifecycle_status__in=SCORED_STATUSES)


def _open_discrepancy_accounts(accounts: QuerySet | None) -> set[int]:
    """Accounts with an open billing discrepancy, read through billing_sync's queryset.

    The billing app may not be installed yet; then the factor simply does not apply.
    """
    if not apps.is_installed("billing_sync"):
        return set()
    try:
        model = apps.get_model("billing_sync", "Discrepancy")
    except LookupError:
        return set()
    queryset = model._default_manager.all()
    if callable(getattr(queryset, "open", None)):
        queryset = queryset.open()
    if accounts is not None:
        queryset = queryset.filter(account__in=accounts)
    return set(queryset.values_list("account_id", flat=True))


def gather(*, account_ids: Iterable[int] | None = None, now: dt.datetime | None = None) -> dict[int, Facts]:
    """Facts for every scored account (or just `account_ids`): four aggregate queries
    (five once the billing app is installed), whatever the number of accounts."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    recent_start = now - dt.timedelta(days=RECENT_DAYS)
    previous_start = recent_start - dt.timedelta(days=PREVIOUS_DAYS)
    accounts = scored_accounts()
    scope = None
    if account_ids is not None:
        scope = list(account_ids)
        accounts = accounts.filter(OneOf(F("pk"), scope))

    # One array of ids on PostgreSQL, not thousands of placeholders (the import's rescore
    # names every client its tickets touched).
    def scoped(queryset: QuerySet) -> QuerySet:
        return queryset.filter(OneOf(F("account_id"), scope)) if scope is not None else queryset

    facts = {
        pk: Facts(account_id=pk, segment=segment, owner_id=owner)
        for pk, segment, owner in accounts.values_list("pk", "segment", "owner_id")
    }
    recent = Q(opened_at__gte=recent_start)
    previous = Q(opened_at__gte=previous_start, opened_at__lt=recent_start)
    is_open = Q(status__in=TicketStatus.open_values())
    tickets = (
        scoped(Ticket.objects.filter(Q(opened_at__gte=previous_start) | is_open))
        .values("account_id")
        .annotate(
            recent=Count("pk", filter=recent),
            recent_sum=Sum("satisfaction", filter=recent),
            recent_n=Count("satisfaction", filter=recent),
            previous_sum=Sum("satisfaction", filter=previous),
            previous_n=Count("satisfaction", filter=previous),
            open_high=Count("pk", filter=is_open & Q(priority__in=TicketPriority.high_values())),
        )
        .order_by()
    )
    for row in tickets:
        fact = facts.get(row["account_id"])
        if fact is None:
            continue
        fact.recent_tickets = row["recent"]
        fact.recent_rating_sum, fact.recent_ratings = row["recent_sum"] or 0, row["recent_n"]
        fact.previous_rating_sum, fact.previous_ratings = row["previous_sum"] or 0, row["previous_n"]
        fact.open_high = row["open_high"]
    renewals = (
        scoped(Subscription.objects.live())
        .filter(renewal_date__gte=today, renewal_date__lte=today + dt.timedelta(days=RENEWAL_DAYS))
        .values("account_id")
        .annotate(first=Min("renewal_date"))
        .order_by()
    )
    for row in renewals:
        if row["account_id"] in facts:
            facts[row["account_id"]].renewal_date = row["first"]
    contacted = (
        scoped(Activity.objects.all())
        .filter(occurred_at__gte=now - dt.timedelta(days=CONTACT_DAYS), kind__in=RELATIONSHIP_KINDS)
        .values_list("account_id", flat=True)
        .distinct()
        .order_by()
    )
    for pk in contacted:
        if pk in facts:
            facts[pk].recent_contact = True
    for pk in _open_discrepancy_accounts(accounts if scope is not None else None):
        if pk in facts:
            facts[pk].billing_discrepancy = True
    return facts


def peer_medians(facts: Iterable[Facts]) -> dict[str, dict[str, float]]:
    """Median recent tickets per account in each segment (accounts without tickets count)."""
    by_segment: dict[str, list[int]] = {}
    for fact in facts:
        by_segment.setdefault(fact.segment, []).append(fact.recent_tickets)
    return {
        segment: {"median": float(statistics.median(counts)), "accounts": len(counts)}
        for segment, counts in by_segment.items()
    }


def stored_medians() -> dict[str, float]:
    return dict(PeerBaseline.objects.values_list("segment", "median_tickets"))


def _number(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() else f"{value:.1f}"


def assess(fact: Facts, *, peer_median: float, today: dt.date, weight: dict[str, float]) -> Assessment:
    """The score, band and reasons for one account. Reasons are listed heaviest first."""
    points: list[tuple[float, str]] = []
    baseline = max(peer_median, 1.0)
    ratio = fact.recent_tickets / baseline
    if fact.recent_tickets >= 3 and ratio >= 2:
        share = min(1.0, (ratio - 1) / 3)
        points.append(
            (
                weight["ticket_volume"] * share,
                f"{fact.recent_tickets} tickets in {RECENT_DAYS} days; peer median {_number(peer_median)}",
            )
        )
    recent, previous = fact.recent_satisfaction, fact.previous_satisfaction
    trend_reason = ""
    # A fall matters when it ends below "satisfied": 10 -> 8.5 is noise, 7.9 -> 4.2 is not.
    if recent is not None and previous is not None and previous - recent >= 1 and recent < 7.5:
        share = min(1.0, (previous - recent) / 3)
        trend_reason = f"satisfaction fell from {previous:.1f} to {recent:.1f}"
        points.append((weight["satisfaction_trend"] * share, trend_reason))
    if recent is not None and recent < 7:
        share = min(1.0, (7 - recent) / 3)
        # The trend sentence already names the level; don't say it twice.
        reason = "" if trend_reason else f"average satisfaction {recent:.1f}/10 over {RECENT_DAYS} days"
        points.append((weight["satisfaction_level"] * share, reason))
    if fact.open_high:
        share = min(1.0, fact.open_high / 2)
        noun = "ticket" if fact.open_high == 1 else "tickets"
        points.append((weight["open_high_priority"] * share, f"{fact.open_high} open high-priority {noun}"))
    if fact.renewal_date is not None:
        days = (fact.renewal_date - today).days
        points.append(
            (weight["renewal_soon"], f"renewal due in {days} days ({fact.renewal_date.day} {fact.renewal_date:%b %Y})")
        )
    if fact.billing_discrepancy:
        points.append((weight["billing_discrepancy"], "open billing discrepancy"))
    if not fact.recent_contact:
        points.append((weight["no_recent_contact"], f"no call, email, meeting or note in {CONTACT_DAYS} days"))
    score = min(100, round(sum(p for p, _ in points)))
    reasons = [reason for p, reason in sorted(points, key=lambda item: -item[0]) if reason and p > 0]
    return Assessment(account_id=fact.account_id, score=score, band=band_for(score), reasons=reasons)


def assess_all(facts: dict[int, Facts], medians: dict[str, float], *, now: dt.datetime) -> list[Assessment]:
    today, weight = timezone.localdate(now), weights()
    return [
        assess(fact, peer_median=medians.get(fact.segment, 1.0), today=today, weight=weight) for fact in facts.values()
    ]
