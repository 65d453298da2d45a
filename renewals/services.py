"""Every write about renewals: the nightly scan, outreach, outcomes and calendar tokens.

Each function is one atomic action with an explicit `actor` (the scan is the system
itself). Changes to the subscription go through `customers.services`, so its history names
the renewal case. Emails are sent after commit by `notifications.send_pending_notices`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from cloudcore_crm.lib import bulkload
from cloudcore_crm.roles import CUSTOMER_RELATIONS, DATA_STEWARD, SALES_MANAGER, has_role
from customers import services as customer_services
from customers.choices import ActivityKind, SubscriptionStatus
from customers.errors import DomainError, OwnershipError
from customers.models import Activity, Subscription
from renewals import choices
from renewals.choices import CaseStatus, NoticeKind
from renewals.models import CalendarToken, RenewalCase, RenewalNotice

SYSTEM_REASON = "Nightly renewal scan"
OUTCOME_ROLES = (CUSTOMER_RELATIONS, DATA_STEWARD)  # DESIGN.md: Customer Relations owns the case
OUTREACH_ROLES = (CUSTOMER_RELATIONS, SALES_MANAGER, DATA_STEWARD)  # besides the account owner
TEAM_FEED_ROLES = (CUSTOMER_RELATIONS, DATA_STEWARD)
INSERT_BATCH = 2000
LIVE_STATUSES = [SubscriptionStatus.ACTIVE, SubscriptionStatus.PENDING]


class RenewalError(DomainError):
    """A renewal action that cannot be done as asked (the case already has an outcome...)."""


# --- The nightly scan ------------------------------------------------------------------------


class Told(NamedTuple):
    """A notice the scan has just written: which case, what, to whom."""

    case_id: int
    kind: str
    recipient_id: int


@dataclass
class ScanResult:
    opened: int = 0
    moved: int = 0
    ended: int = 0
    lapsed: int = 0
    reminders: int = 0
    escalations: int = 0
    missing_dates: int = 0

    def summary(self) -> str:
        return (
            f"Renewals: {self.opened:,} case(s) opened, {self.reminders:,} reminder(s), "
            f"{self.escalations:,} escalation(s), {self.lapsed:,} lapsed, {self.moved:,} moved to a new date, "
            f"{self.ended:,} closed with their subscription; {self.missing_dates:,} live subscription(s) "
            "without a renewal date."
        )


def sales_manager_ids() -> list[int]:
    return list(
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__name=SALES_MANAGER) | Q(is_superuser=True))
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def missing_dates() -> QuerySet:
    """Live subscriptions with no renewal date: a data-quality finding for Customer Relations."""
    return (
        Subscription.objects.live()
        .filter(renewal_date__isnull=True)
        .select_related("account", "account__relations_coordinator", "product")
        .order_by("account__number", "pk")
    )


def nightly_scan(*, today: dt.date | None = None) -> ScanResult:
    """Open, remind, escalate and lapse, set-based, in one transaction; run twice, the
    second run finds nothing to do. Emails go out after commit."""
    today = today or timezone.localdate()
    now = timezone.now()
    result = ScanResult()
    with transaction.atomic():
        result.moved, result.ended = _reconcile(now)
        result.opened = _open_cases(today, now)
        lapsed = _lapse(today, now)
        result.lapsed = len(lapsed)
        managers = sales_manager_ids()
        created: list[Told] = []
        for days_from, days_to, kind in _reminder_windows():
            cases = RenewalCase.objects.open().filter(
                term_end__gt=today + dt.timedelta(days=days_from), term_end__lte=today + dt.timedelta(days=days_to)
            )
            created += _notify(kind, cases, people=("owner", "coordinator"), now=now)
        reminders = len(created)
        quiet = RenewalCase.objects.filter(
            status=CaseStatus.UPCOMING,
            term_end__gte=today,
            term_end__lte=today + dt.timedelta(days=choices.QUIET_ESCALATION_DAYS),
        )
        created += _notify(NoticeKind.ESCALATION_NO_OUTREACH, quiet, managers=managers, now=now)
        due = RenewalCase.objects.open().filter(term_end__lte=today)
        created += _notify(NoticeKind.ESCALATION_DUE, due, managers=managers, now=now)
        # Lapsed cases never announced (not every lapsed case: a new manager is not told of old ones).
        unannounced = RenewalCase.objects.filter(status=CaseStatus.LAPSED).exclude(
            Exists(RenewalNotice.objects.filter(case_id=OuterRef("pk"), kind=NoticeKind.LAPSED))
        )
        created += _notify(NoticeKind.LAPSED, unannounced, people=("owner", "coordinator"), managers=managers, now=now)
        result.reminders = reminders
        result.escalations = len(created) - reminders
        _timeline(created, now)
        # Also retries notices a dead worker left claimed but unsent.
        transaction.on_commit(_send_after_commit)
    result.missing_dates = missing_dates().count()
    return result


def _send_after_commit() -> None:
    from renewals import tasks

    tasks.send_renewal_notices.delay()


def _reminder_windows() -> list[tuple[int, int, str]]:
    """(days after today, exclusive; up to days, inclusive; kind): 30 -> [0, 30], 60 -> (30, 60]..."""
    windows, lower = [], -1
    for days, kind in choices.REMINDER_STAGES:
        windows.append((lower, days, kind))
        lower = days
    return windows


def _reconcile(now: dt.datetime) -> tuple[int, int]:
    """Open cases whose subscription changed on the customer page: a corrected renewal date
    moves the case; a subscription ended by Customer Relations closes it as lost."""
    moved = list(
        RenewalCase.objects.open()
        .filter(subscription__renewal_date__isnull=False)
        .exclude(subscription__renewal_date=F("term_end"))
        .filter(subscription__status__in=LIVE_STATUSES)
        # A case already exists for the new date (the subscription was renewed): leave both.
        .exclude(
            Exists(
                RenewalCase.objects.filter(
                    subscription_id=OuterRef("subscription_id"), term_end=OuterRef("subscription__renewal_date")
                )
            )
        )
        .select_related("subscription")
    )
    for case in moved:
        case.term_end = case.subscription.renewal_date
        case._change_reason = "The subscription's renewal date changed on the customer page"
    bulkload.update_with_history(moved, ["term_end"], date=now, default_reason=SYSTEM_REASON)
    ended = list(
        RenewalCase.objects.open().filter(
            subscription__status__in=[SubscriptionStatus.CANCELLED, SubscriptionStatus.LAPSED]
        )
    )
    for case in ended:
        case.status = CaseStatus.LOST
        case.lost_reason = choices.LostReason.OTHER
        case.outcome_note = "The subscription was ended on the customer page."
        case.closed_at = now
        case._change_reason = "The subscription was ended outside the renewal case"
    bulkload.update_with_history(
        ended, ["status", "lost_reason", "outcome_note", "closed_at"], date=now, default_reason=SYSTEM_REASON
    )
    return len(moved), len(ended)


def _open_cases(today: dt.date, now: dt.datetime) -> int:
    """A case for each live subscription renewing within 90 days (or overdue) that has
    none for its renewal date."""
    due = (
        Subscription.objects.live()
        .filter(renewal_date__isnull=False, renewal_date__lte=today + dt.timedelta(days=choices.OPEN_DAYS))
        .exclude(Exists(RenewalCase.objects.filter(subscription_id=OuterRef("pk"), term_end=OuterRef("renewal_date"))))
        .order_by("pk")
        .values_list("pk", "account_id", "renewal_date", "annual_value")
    )
    cases = [
        RenewalCase(
            subscription_id=pk,
            account_id=account_id,
            term_end=renewal_date,
            value_at_stake=value or Decimal("0.00"),
            status=CaseStatus.UPCOMING,
            opened_at=now,
        )
        for pk, account_id, renewal_date, value in due.iterator(chunk_size=INSERT_BATCH)
    ]
    for start in range(0, len(cases), INSERT_BATCH):
        bulkload.insert_with_history(
            cases[start : start + INSERT_BATCH], date=now, default_reason="Opened 90 days before the renewal date"
        )
    return len(cases)


def _lapse(today: dt.date, now: dt.datetime) -> list[RenewalCase]:
    """The day after its renewal date, a case with no outcome is lapsed (loudly)."""
    lapsed = list(RenewalCase.objects.open().filter(term_end__lt=today))
    for case in lapsed:
        case.status = CaseStatus.LAPSED
    bulkload.update_with_history(
        lapsed, ["status"], date=now, default_reason="Lapsed: the renewal date passed with no outcome"
    )
    return lapsed


def _notify(
    kind: str,
    cases: QuerySet,
    *,
    now: dt.datetime,
    people: tuple[str, ...] = (),
    managers: list[int] | None = None,
) -> list[Told]:
    """One notice of `kind` per case and person who has not had it yet, inserted together
    (as rows: a first night writes tens of thousands)."""
    wanted: set[tuple[int, int]] = set()
    fields = {"owner": "account__owner_id", "coordinator": "account__relations_coordinator_id"}
    for person in people:
        wanted.update(
            (case_id, user_id)
            for case_id, user_id in cases.filter(**{f"{fields[person]}__isnull": False}).values_list(
                "pk", fields[person]
            )
        )
    if managers:
        wanted.update((case_id, m) for case_id in cases.values_list("pk", flat=True) for m in managers)
    if not wanted:
        return []
    had = set(
        RenewalNotice.objects.filter(kind=kind, case__in=cases.values("pk")).values_list("case_id", "recipient_id")
    )
    told = [Told(case_id, kind, user_id) for case_id, user_id in sorted(wanted - had)]
    for start in range(0, len(told), INSERT_BATCH):
        bulkload.insert_rows(
            RenewalNotice,
            ((t.case_id, t.kind, t.recipient_id, now) for t in told[start : start + INSERT_BATCH]),
            names=["case_id", "kind", "recipient_id", "created_at"],
        )
    return told


TIMELINE_SUMMARY = {
    NoticeKind.REMINDER_90: "Renewal in 90 days: reminder sent",
    NoticeKind.REMINDER_60: "Renewal in 60 days: reminder sent",
    NoticeKind.REMINDER_30: "Renewal in 30 days: reminder sent",
    NoticeKind.ESCALATION_NO_OUTREACH: "Renewal escalated to sales management: due within 14 days, no outreach",
    NoticeKind.ESCALATION_DUE: "Renewal escalated to sales management: renewal date reached, no outcome",
    NoticeKind.LAPSED: "Renewal LAPSED: the renewal date passed with no outcome",
}


def _timeline(notices: list[Told], now: dt.datetime) -> None:
    """One timeline entry per case and kind of notice (not per person told)."""
    if not notices:
        return
    told: dict[tuple[int, str], list[int]] = {}
    for notice in notices:
        told.setdefault((notice.case_id, notice.kind), []).append(notice.recipient_id)
    case_ids = sorted({case_id for case_id, _ in told})
    cases: dict[int, tuple] = {}
    for start in range(0, len(case_ids), INSERT_BATCH):
        cases.update(
            (row[0], row[1:])
            for row in RenewalCase.objects.filter(pk__in=case_ids[start : start + INSERT_BATCH]).values_list(
                "pk", "account_id", "term_end", "subscription__product__name"
            )
        )
    users = {
        pk: f"{first} {last}".strip() or username
        for pk, first, last, username in get_user_model()
        .objects.filter(pk__in={u for ids in told.values() for u in ids})
        .values_list("pk", "first_name", "last_name", "username")
    }
    activities = []
    for (case_id, kind), recipients in sorted(told.items()):
        account_id, term_end, product = cases[case_id]
        names = ", ".join(users[u] for u in recipients)
        activities.append(
            Activity(
                account_id=account_id,
                kind=ActivityKind.ALERT if kind in NoticeKind.escalations() else ActivityKind.SYSTEM,
                summary=f"{TIMELINE_SUMMARY[kind]} ({product}, {term_end:%d %b %Y})",
                detail=f"Told: {names}.",
                occurred_at=now,
            )
        )
    for start in range(0, len(activities), INSERT_BATCH):
        customer_services.log_system_activities(
            activities=activities[start : start + INSERT_BATCH], reason="Renewal reminders and escalations"
        )


# --- People's actions -------------------------------------------------------------------------


def _locked(case: RenewalCase) -> RenewalCase:
    return RenewalCase.objects.select_for_update().select_related("account", "subscription__product").get(pk=case.pk)


def _save(case: RenewalCase, *, actor: AbstractBaseUser | None, reason: str) -> None:
    case._change_reason = reason
    case._history_user = actor
    case.full_clean()
    case.save()


def may_log_outreach(actor: AbstractBaseUser, case: RenewalCase) -> bool:
    return case.account.owner_id == actor.pk or has_role(actor, *OUTREACH_ROLES)


def may_record_outcome(actor: AbstractBaseUser) -> bool:
    return has_role(actor, *OUTCOME_ROLES)


def log_outreach(*, case: RenewalCase, actor: AbstractBaseUser, kind: str, note: str) -> RenewalCase:
    """The account owner (or Customer Relations) called, emailed or met the client about the
    renewal: on the timeline, and the case is in outreach (no more quiet escalation)."""
    if not may_log_outreach(actor, case):
        raise OwnershipError("Only the account owner or Customer Relations logs outreach on a renewal.", fields=[])
    note = (note or "").strip()
    if not note:
        raise OwnershipError("Say what was discussed.", fields=["note"])
    if kind not in choices.OutreachKind.values:
        raise OwnershipError("Choose a call, an email or a meeting.", fields=["kind"])
    with transaction.atomic():
        case = _locked(case)
        if not case.is_unresolved:
            raise RenewalError("This renewal already has an outcome.")
        now = timezone.now()
        case.last_outreach_at = now
        if case.status == CaseStatus.UPCOMING:
            case.status = CaseStatus.IN_OUTREACH
        _save(case, actor=actor, reason="Outreach logged")
        customer_services.log_activity(
            account=case.account,
            actor=actor,
            kind=kind,
            summary=f"Renewal outreach: {case.subscription.product.name} (renews {case.term_end:%d %b %Y})",
            detail=note,
            occurred_at=now,
            reason=f"Outreach on renewal case #{case.pk}",
        )
    return case


def _require_outcome_role(actor: AbstractBaseUser) -> None:
    if not may_record_outcome(actor):
        raise OwnershipError("Customer Relations records the outcome of a renewal.", fields=[])


def renew(
    *,
    case: RenewalCase,
    actor: AbstractBaseUser,
    new_term_end: dt.date,
    new_value: Decimal | None = None,
    note: str = "",
) -> RenewalCase:
    """Renewed: the subscription's renewal date moves to the new term end (and its value, if
    given and the actor owns it: Finance), with history naming the case."""
    _require_outcome_role(actor)
    with transaction.atomic():
        case = _locked(case)
        if not case.is_unresolved:
            raise RenewalError("This renewal already has an outcome.")
        if new_term_end <= case.term_end:
            raise OwnershipError("The new renewal date must be after the one being renewed.", fields=["new_term_end"])
        subscription = Subscription.objects.get(pk=case.subscription_id)
        changes: dict = {"renewal_date": new_term_end}
        if new_value is not None and new_value != subscription.annual_value:
            changes["annual_value"] = new_value
        reason = f"Renewed (renewal case #{case.pk})" + (f": {note.strip()}" if note.strip() else "")
        customer_services.update_subscription(
            subscription=subscription,
            changes=changes,
            expected_version=subscription.version,
            actor=actor,
            reason=reason,
        )
        case.status = CaseStatus.RENEWED
        case.new_term_end = new_term_end
        case.new_value = changes.get("annual_value", subscription.annual_value)
        case.outcome_note = note.strip()
        case.closed_at = timezone.now()
        case.closed_by = actor
        _save(case, actor=actor, reason="Renewed")
        customer_services.log_activity(
            account=case.account,
            actor=actor,
            kind=ActivityKind.SYSTEM,
            summary=f"Renewed: {case.subscription.product.name} to {new_term_end:%d %b %Y}",
            detail=note.strip(),
            reason=f"Renewal case #{case.pk} renewed",
        )
    return case


def lose(*, case: RenewalCase, actor: AbstractBaseUser, reason: str, note: str = "") -> RenewalCase:
    """Lost: the reason from the list, and the subscription ends (cancelled, with history
    naming the case)."""
    _require_outcome_role(actor)
    if reason not in choices.LostReason.values:
        raise OwnershipError("Choose why the renewal was lost.", fields=["reason"])
    if reason == choices.LostReason.OTHER and not note.strip():
        raise OwnershipError("Say why, in the note.", fields=["note"])
    with transaction.atomic():
        case = _locked(case)
        if not case.is_unresolved:
            raise RenewalError("This renewal already has an outcome.")
        subscription = Subscription.objects.get(pk=case.subscription_id)
        label = choices.LostReason(reason).label
        if subscription.status != SubscriptionStatus.CANCELLED:
            customer_services.update_subscription(
                subscription=subscription,
                changes={"status": SubscriptionStatus.CANCELLED},
                expected_version=subscription.version,
                actor=actor,
                reason=f"Lost at renewal (renewal case #{case.pk}): {label}",
            )
        case.status = CaseStatus.LOST
        case.lost_reason = reason
        case.outcome_note = note.strip()
        case.closed_at = timezone.now()
        case.closed_by = actor
        _save(case, actor=actor, reason=f"Lost: {label}")
        customer_services.log_activity(
            account=case.account,
            actor=actor,
            kind=ActivityKind.SYSTEM,
            summary=f"Renewal lost: {case.subscription.product.name} ({label})",
            detail=note.strip(),
            reason=f"Renewal case #{case.pk} lost",
        )
    return case


# --- Calendar tokens ----------------------------------------------------------------------------


def create_calendar_token(*, actor: AbstractBaseUser, team: bool = False) -> CalendarToken:
    if team and not has_role(actor, *TEAM_FEED_ROLES):
        raise OwnershipError("The team feed is for Customer Relations.", fields=[])
    return CalendarToken.objects.create(user=actor, team=team, token=secrets.token_urlsafe(32))


def revoke_calendar_token(*, token: CalendarToken, actor: AbstractBaseUser) -> CalendarToken:
    if token.user_id != actor.pk and not has_role(actor, DATA_STEWARD):
        raise OwnershipError("Only its owner revokes a calendar feed.", fields=[])
    CalendarToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db()
    return token
