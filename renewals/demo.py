"""Renewal cases for the demo world (`manage.py seed_demo_renewals`, after `seed_demo`).

The nightly scan is run as it would have run over the last 90 days (a night a week, and
the last three nights), so the world has cases opened, reminders sent at 90, 60 and 30
days, escalations to sales management and the lapses nobody noticed before the CRM (the
subscriptions past their renewal date and still active). Then people act: the owners log
outreach on some cases, Customer Relations renews some and records one as lost. The
demo's emails are marked sent, never sent.
"""

from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from cloudcore_crm.roles import CUSTOMER_RELATIONS
from renewals import services
from renewals.choices import CaseStatus, LostReason, NoticeKind, OutreachKind
from renewals.models import RenewalCase, RenewalNotice

DEFAULT_SEED = 2026


def seed_demo_renewals(*, seed: int = DEFAULT_SEED, today: dt.date | None = None) -> list[str]:
    today = today or timezone.localdate()
    if RenewalCase.objects.exists():
        return ["Renewal cases already exist: nothing to do."]
    rng = random.Random(seed)
    coordinator = get_user_model().objects.filter(groups__name=CUSTOMER_RELATIONS).order_by("pk").first()
    with transaction.atomic():
        nights = sorted({today - dt.timedelta(days=d) for d in (*range(91, 2, -7), 2, 1)})
        for night in nights:
            services.nightly_scan(today=night)
        # Outreach on about a third of the cases due in the next 60 days, by their owners.
        soon = list(
            RenewalCase.objects.open()
            .filter(term_end__gt=today, term_end__lte=today + dt.timedelta(days=60), account__owner__isnull=False)
            .select_related("account__owner")
            .order_by("term_end", "pk")
        )
        for case in soon:
            if rng.random() < 0.35:
                services.log_outreach(
                    case=case,
                    actor=case.account.owner,
                    kind=rng.choice(OutreachKind.values),
                    note=rng.choice(
                        [
                            "Spoke to the office manager: renewal on the agenda for their next board meeting.",
                            "Sent the renewal quote; they asked about adding seats.",
                            "Met the IT lead: happy with the service, wants a three-year term.",
                        ]
                    ),
                )
        if coordinator is not None:
            in_outreach = list(RenewalCase.objects.filter(status=CaseStatus.IN_OUTREACH).order_by("term_end", "pk"))
            for case in in_outreach[: max(1, len(in_outreach) // 4)]:
                services.renew(
                    case=case,
                    actor=coordinator,
                    new_term_end=case.term_end.replace(year=case.term_end.year + 1),
                    note="Signed for another year",
                )
            lapsed = list(RenewalCase.objects.filter(status=CaseStatus.LAPSED).order_by("-value_at_stake", "pk"))
            if len(lapsed) >= 2:  # keep at least one lapse to show
                services.lose(
                    case=lapsed[-1],
                    actor=coordinator,
                    reason=LostReason.COMPETITOR,
                    note="Moved to a competitor after the renewal lapsed unnoticed.",
                )
        now = timezone.now()
        RenewalNotice.objects.filter(sent_at__isnull=True).update(claimed_at=now, sent_at=now)
    counts = {s.label: RenewalCase.objects.filter(status=s).count() for s in CaseStatus}
    notices = {k.label: RenewalNotice.objects.filter(kind=k).count() for k in NoticeKind}
    return [
        "Renewal cases: " + ", ".join(f"{n:,} {label.lower()}" for label, n in counts.items()) + ".",
        "Notices (marked sent): " + ", ".join(f"{n:,} {label.lower()}" for label, n in notices.items() if n) + ".",
        f"Live subscriptions without a renewal date: {services.missing_dates().count():,}.",
    ]
