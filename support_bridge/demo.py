"""Helpdesk tickets for the demo world (`manage.py seed_demo_tickets`, after `seed_demo`).

Two years of tickets, about 6,000 a year, drawn from `random.Random(seed)` relative to
today. Most clients rarely call; enterprise clients with a thousand seats call every
week. CC009 (Meridian Health) tells seed 001's story: 7 tickets in the last six months,
satisfaction down from 7.9 to 4.2, a renewal inside 90 days, and an upsell in proposal.
The churn-risk run at the end puts it in the high band and alerts its owner.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from customers.choices import LifecycleStatus, SubscriptionStatus
from customers.models import Account, Contact, Subscription
from support_bridge import services
from support_bridge.choices import TicketPriority, TicketSource, TicketStatus
from support_bridge.models import Ticket

DEFAULT_SEED = 2026
DAYS = 730
FIRST_TICKET_NUMBER = 1000
REASON = "Demo world (seed_demo_tickets)"
MERIDIAN_CODE = "CC009"
PERTH = ZoneInfo("Australia/Perth")
# Tickets a year per client, before each client's own lognormal multiplier: a small or
# mid-market client calls about twice a year (some far more), a 1,000-seat client a few
# times a week.
YEARLY_RATE = {"small": 2.0, "mid": 2.4, "enterprise": 160.0}
RATE_SPREAD = {"small": 0.8, "mid": 0.8, "enterprise": 0.4}
PRIORITY_WEIGHTS = {
    TicketPriority.LOW: 25,
    TicketPriority.MEDIUM: 50,
    TicketPriority.HIGH: 20,
    TicketPriority.URGENT: 5,
}
RESOLUTION_HOURS = {TicketPriority.LOW: 30, TicketPriority.MEDIUM: 14, TicketPriority.HIGH: 6, TicketPriority.URGENT: 3}
RATED_SHARE = 0.45
SUBJECTS = (
    "Outlook keeps asking for a password",
    "Cannot connect to the VPN from home",
    "New starter needs an account and laptop",
    "Backup job failed overnight",
    "Printer offline at reception",
    "Shared drive is very slow",
    "Phishing email reported by staff",
    "MFA reset for a user who changed phones",
    "Wi-Fi drops in the meeting room",
    "Teams calls breaking up",
    "Request to restore a deleted folder",
    "Licence needed for a new user",
    "Laptop will not boot after update",
    "Firewall blocking a supplier portal",
    "Leaver: disable account and forward email",
    "CloudSync not syncing on one PC",
    "Quote request for extra seats",
    "Website certificate expiring",
)

# CC009: (days ago, ticket number, subject, priority, satisfaction, status). The six-month
# ratings average 25/6 = 4.2; the year before, 63/8 = 7.9.
MERIDIAN_RECENT = (
    (172, "2231", "Outlook keeps asking for passwords after the CloudSync update", "high", None, "closed"),
    (151, "2307", "DataVault backup failed overnight at the Joondalup clinic", "high", 7, "closed"),
    (118, "2415", "Practice software slow at the Subiaco clinic every morning", "medium", 6, "closed"),
    (93, "2488", "Restore from backup took three days; patient files unavailable", "urgent", 3, "closed"),
    (61, "2590", "Phones and internet down at the Midland clinic for four hours", "urgent", 4, "closed"),
    (33, "2671", "Two new doctors still without accounts after a week", "medium", 3, "solved"),
    (9, "2734", "Backup failed again; practice manager asks for an escalation", "high", 2, "open"),
)
MERIDIAN_EARLIER = (
    (205, "1988", "New printer for the Subiaco front desk", "low", 8),
    (248, "1902", "Add two receptionists to the practice system", "medium", 8),
    (290, "1820", "VPN for the medical director's home office", "medium", 9),
    (333, "1741", "Slow Wi-Fi in the Joondalup waiting room", "medium", 7),
    (377, "1655", "Restore an overwritten referral letter", "high", 8),
    (421, "1570", "Email signature for the new clinic", "low", 8),
    (466, "1488", "Backup alert emails going to an old address", "medium", 7),
    (512, "1402", "Set up the Midland clinic's new PCs", "medium", 8),
)


def _moment(now: dt.datetime, days_ago: float) -> dt.datetime:
    return now - dt.timedelta(days=days_ago)


def _hours(rng: random.Random, priority: str) -> Decimal:
    return Decimal(RESOLUTION_HOURS[priority] * rng.lognormvariate(0, 0.7)).quantize(Decimal("0.01"))


def _meridian(account_id: int, contact_ids: list[int], now: dt.datetime, rng: random.Random) -> list[Ticket]:
    tickets = []
    rows = [(d, n, s, p, r, "closed") for d, n, s, p, r in MERIDIAN_EARLIER] + list(MERIDIAN_RECENT)
    for days_ago, number, subject, priority, rating, status in rows:
        opened = _moment(now, days_ago + rng.random() / 3)
        resolved = None
        if status in (TicketStatus.SOLVED, TicketStatus.CLOSED):
            resolved = opened + dt.timedelta(hours=float(_hours(rng, priority)) * (4 if rating == 3 else 1))
        tickets.append(
            Ticket(
                source=TicketSource.ZENDESK,
                external_id=number,
                account_id=account_id,
                contact_id=contact_ids[int(number) % len(contact_ids)] if contact_ids else None,
                subject=subject,
                status=status,
                priority=priority,
                opened_at=opened,
                resolved_at=resolved,
                resolution_hours=(
                    Decimal((resolved - opened).total_seconds() / 3600).quantize(Decimal("0.01")) if resolved else None
                ),
                satisfaction=rating,
                helpdesk_org_id="9500000000009",
                source_updated_at=resolved or opened,
                source_event_at=resolved or opened,
                provenance="demo world",
            )
        )
    return tickets


def plan_tickets(*, seed: int = DEFAULT_SEED, now: dt.datetime | None = None) -> list[Ticket]:
    """Unsaved tickets for every client of the demo world (the same seed and day, the same tickets)."""
    now = now or timezone.now()
    accounts = list(
        Account.objects.exclude(lifecycle_status=LifecycleStatus.PROSPECT)
        .order_by("number")
        .values_list("pk", "code", "number", "segment", "lifecycle_status")
    )
    contacts: dict[int, list[int]] = defaultdict(list)
    for pk, account_id in Contact.objects.order_by("pk").values_list("pk", "account_id"):
        contacts[account_id].append(pk)
    products: dict[int, list[int]] = defaultdict(list)
    live = Subscription.objects.filter(status__in=[SubscriptionStatus.ACTIVE, SubscriptionStatus.PENDING])
    for account_id, product_id in live.order_by("pk").values_list("account_id", "product_id"):
        products[account_id].append(product_id)
    priorities, priority_weights = list(PRIORITY_WEIGHTS), list(PRIORITY_WEIGHTS.values())
    reserved = {n for _, n, *_ in MERIDIAN_RECENT} | {n for _, n, *_ in MERIDIAN_EARLIER}
    planned: list[tuple[dt.datetime, Ticket]] = []
    special: list[Ticket] = []
    for account_id, code, number, segment, lifecycle in accounts:
        # A generator per client: its tickets do not shift when another client changes.
        rng = random.Random(f"{seed}-{number}")
        if code == MERIDIAN_CODE:
            special = _meridian(account_id, contacts[account_id], now, rng)
            continue
        rate = YEARLY_RATE.get(segment, 2.0) * rng.lognormvariate(0, RATE_SPREAD.get(segment, 0.8))
        happiness = min(9.6, max(5.5, rng.gauss(8.2, 0.7)))
        # One client in twenty has had a bad run over the last four months.
        slump = rng.random() < 0.05
        oldest = 200 if lifecycle == LifecycleStatus.CHURNED else 0  # churned clients stopped calling
        days_ago = DAYS
        while True:
            days_ago -= rng.expovariate(rate / 365)
            if days_ago <= oldest:
                break
            priority = rng.choices(priorities, priority_weights)[0]
            opened = _moment(now, days_ago)
            age_hours = (now - opened).total_seconds() / 3600
            hours = _hours(rng, priority)
            solved = float(hours) < age_hours and rng.random() < 0.97
            resolved = opened + dt.timedelta(hours=float(hours)) if solved else None
            status = (
                (TicketStatus.CLOSED if age_hours > 24 * 7 else TicketStatus.SOLVED)
                if solved
                else rng.choice([TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.OPEN, TicketStatus.PENDING])
            )
            mood = happiness - (3.0 if slump and days_ago < 120 else 0)
            rating = max(0, min(10, round(rng.gauss(mood, 1.2)))) if solved and rng.random() < RATED_SHARE else None
            account_contacts, account_products = contacts[account_id], products[account_id]
            ticket = Ticket(
                source=TicketSource.ZENDESK,
                account_id=account_id,
                contact_id=rng.choice(account_contacts) if account_contacts and rng.random() < 0.8 else None,
                product_id=rng.choice(account_products) if account_products and rng.random() < 0.6 else None,
                subject=rng.choice(SUBJECTS),
                status=status,
                priority=priority,
                opened_at=opened,
                resolved_at=resolved,
                resolution_hours=hours if solved else None,
                satisfaction=rating,
                helpdesk_org_id=f"95000000{number:05d}",
                source_updated_at=resolved or opened,
                source_event_at=resolved or opened,
                provenance="demo world",
            )
            planned.append((opened, ticket))
    planned.sort(key=lambda item: item[0])
    number = FIRST_TICKET_NUMBER
    for _, ticket in planned:
        while str(number) in reserved:
            number += 1
        ticket.external_id = str(number)
        number += 1
    return [ticket for _, ticket in planned] + special


def seed_demo_tickets(*, seed: int = DEFAULT_SEED, now: dt.datetime | None = None) -> list[str]:
    """Load the demo tickets once, then score churn risk. Returns lines for the console."""
    if not Account.objects.exists():
        return ["No customers yet: run `manage.py seed_demo` first."]
    lines = []
    if Ticket.objects.exists():
        lines.append(f"Tickets already present ({Ticket.objects.count():,}); demo tickets are not loaded again.")
    else:
        loaded = services.load_tickets(tickets=plan_tickets(seed=seed, now=now), reason=REASON)
        lines.append(f"Loaded {loaded:,} demo helpdesk tickets over {DAYS} days (seed {seed}).")
    run = services.recompute_risk(now=now)
    lines.append(
        f"Churn risk: {run.accounts:,} clients scored, {run.high:,} high, {run.alerts:,} new alert(s) for owners."
    )
    meridian = Account.objects.filter(code=MERIDIAN_CODE).select_related("risk_score").first()
    score = getattr(meridian, "risk_score", None) if meridian else None
    if score is not None:
        lines.append(f"{MERIDIAN_CODE}: {score.score}/100 ({score.band}): " + "; ".join(score.reasons) + ".")
    return lines
