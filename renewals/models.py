"""Renewal cases: one per subscription term, from 90 days before its renewal date to an
outcome (renewed, lost) or a lapse; the notices people were sent about each case; and the
calendar-feed tokens people subscribe to in Outlook.

Writes go through `renewals.services`; reads through `renewals.querysets`.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from cloudcore_crm.lib.history import tracked_history
from customers.models import Account, Subscription
from renewals import choices
from renewals.querysets import CalendarTokenQuerySet, RenewalCaseQuerySet, RenewalNoticeQuerySet


class RenewalCase(models.Model):
    """One subscription term coming up for renewal: what is at stake, and how it ended.

    The account owner (sales rep) and the relations coordinator are read from the account,
    so a change of owner moves the case with it. Customer Relations records the outcome;
    the account owner may log outreach.
    """

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="renewal_cases")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="renewal_cases")
    term_end = models.DateField("renewal date", help_text="The subscription's renewal date this case is about.")
    value_at_stake = models.DecimalField(
        "value at stake (AUD, annual)", max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    status = models.CharField(max_length=10, choices=choices.CaseStatus.choices, default=choices.CaseStatus.UPCOMING)
    opened_at = models.DateTimeField(default=timezone.now)
    last_outreach_at = models.DateTimeField(null=True, blank=True)
    lost_reason = models.CharField(max_length=14, choices=choices.LostReason.choices, blank=True)
    outcome_note = models.TextField(blank=True)
    new_term_end = models.DateField("new renewal date", null=True, blank=True)
    new_value = models.DecimalField("new annual value", max_digits=12, decimal_places=2, null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="closed_renewals"
    )

    history = tracked_history()
    objects = RenewalCaseQuerySet.as_manager()

    class Meta:
        ordering = ["term_end", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "term_end"], name="renewal_case_once_per_term"),
        ]
        indexes = [
            models.Index(fields=["status", "term_end"]),
            models.Index(fields=["account", "status"]),
            # The board walks the unresolved cases in date order and slices a page of ids.
            models.Index(
                fields=["term_end", "id"],
                condition=Q(status__in=choices.CaseStatus.unresolved_values()),
                name="renewal_case_unresolved_due",
            ),
        ]

    def __str__(self) -> str:
        return f"Renewal of {self.subscription_id} due {self.term_end:%d %b %Y}"

    def get_absolute_url(self) -> str:
        return reverse("renewals:case_detail", kwargs={"pk": self.pk})

    @property
    def is_open(self) -> bool:
        return self.status in choices.CaseStatus.open_values()

    @property
    def is_unresolved(self) -> bool:
        return self.status in choices.CaseStatus.unresolved_values()


class RenewalNotice(models.Model):
    """One thing one person was told about one case (a reminder, an escalation, a lapse).

    Unique per case, kind and person, so a rerun of the scan tells nobody twice. The email
    is claimed (`claimed_at`) before it is sent and marked `sent_at` once sent; a claim left
    by a worker that died is taken again after `CLAIM_TIMEOUT`.
    """

    case = models.ForeignKey(RenewalCase, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=10, choices=choices.NoticeKind.choices)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="renewal_notices")
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = RenewalNoticeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["case", "kind", "recipient"], name="renewal_notice_once_per_person"),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"]),
            models.Index(fields=["created_at"], condition=Q(sent_at__isnull=True), name="renewal_notice_unsent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient_id} about case {self.case_id}"


class CalendarToken(models.Model):
    """The secret in a person's calendar-feed address. Revoking it stops the feed at once;
    a new token gives a new address. A team token (Customer Relations) lists every open case."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_tokens")
    token = models.CharField(max_length=64, unique=True, editable=False)
    team = models.BooleanField(default=False, help_text="Every open case, not only the person's own.")
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = CalendarTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{'Team' if self.team else 'Personal'} calendar feed of {self.user_id}"

    def get_absolute_url(self) -> str:
        return reverse("renewals:calendar_feed", kwargs={"token": self.token})
