"""Frozen month-end snapshots, their audit trail, and the weekly digest's bookkeeping.

A snapshot is written once by `reports.services.freeze_month` and then only read: the
board pack and the dashboards read it, never the live record, so a month's figures do not
move when an account is edited later. Re-freezing is a steward's explicit action with a
reason, recorded in `SnapshotFreeze`. Snapshots are derived data with their own audit
rows, so they keep no simple-history.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from reports import choices


class MonthSnapshotQuerySet(models.QuerySet):
    def for_month(self, month: dt.date) -> MonthSnapshotQuerySet:
        return self.filter(month=month)

    def trend(self, month: dt.date, months: int = 13) -> MonthSnapshotQuerySet:
        """The snapshots of `month` and the `months - 1` before it, oldest first."""
        first = add_months(month, -(months - 1))
        return self.filter(month__gte=first, month__lte=month).order_by("month")


class MonthSnapshot(models.Model):
    """One month, frozen: the month's totals (every board-pack figure) as they stood at
    the month's end. The per-account rows are `AccountSnapshot`s."""

    month = models.DateField(unique=True, help_text="The first day of the month.")
    source = models.CharField(max_length=8, choices=choices.SnapshotSource.choices)
    as_of = models.DateTimeField(help_text="The moment the figures describe: the month's last instant.")
    frozen_at = models.DateTimeField(default=timezone.now)
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1, help_text="1, then one more per re-freeze.")
    totals = models.JSONField(default=dict, encoder=DjangoJSONEncoder)

    objects = MonthSnapshotQuerySet.as_manager()

    class Meta:
        ordering = ["-month"]

    def __str__(self) -> str:
        return self.month.strftime("%Y-%m")

    @property
    def label(self) -> str:
        return self.month.strftime("%B %Y")

    @property
    def slug(self) -> str:
        return self.month.strftime("%Y-%m")

    @property
    def is_rebuilt(self) -> bool:
        return self.source == choices.SnapshotSource.REBUILT


class AccountSnapshot(models.Model):
    """One account as it stood at a month's end (copied, so later edits never reach it)."""

    # A merge leaves a frozen month as it was: the merged-away account's row stays its own.
    moves_on_merge = False

    snapshot = models.ForeignKey(MonthSnapshot, on_delete=models.CASCADE, related_name="accounts")
    account = models.ForeignKey(
        "customers.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    code = models.CharField(max_length=12)
    name = models.CharField(max_length=200)
    lifecycle_status = models.CharField(max_length=12)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    owner_name = models.CharField(max_length=150, blank=True)
    office = models.CharField(max_length=8)
    segment = models.CharField(max_length=12)
    arr = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    arr_by_product = models.JSONField(default=dict, encoder=DjangoJSONEncoder, help_text="{product code: ARR}")
    previous_arr = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="ARR in the month before (its snapshot)."
    )
    movement = models.CharField(max_length=12, choices=choices.Movement.choices, blank=True)
    risk_band = models.CharField(max_length=8, blank=True)
    risk_score = models.PositiveSmallIntegerField(null=True, blank=True)
    open_tickets = models.PositiveIntegerField(default=0)
    csat = models.DecimalField("CSAT (0-10, last 180 days)", max_digits=4, decimal_places=2, null=True, blank=True)
    open_discrepancies = models.PositiveIntegerField(null=True, blank=True, help_text="None before billing_sync.")
    renewals_due = models.PositiveIntegerField(default=0, help_text="Live subscriptions renewing in the month.")

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["snapshot", "account"], name="account_snapshot_once")]
        indexes = [
            models.Index(fields=["snapshot", "code"]),
            models.Index(fields=["snapshot", "owner"]),
            models.Index(fields=["snapshot", "movement"]),
        ]

    def __str__(self) -> str:
        return f"{self.code} at {self.snapshot}"


class SnapshotFreeze(models.Model):
    """Every freeze and re-freeze of a month: who, when, why, and the headline before/after."""

    month = models.DateField(db_index=True)
    action = models.CharField(max_length=8, choices=choices.FreezeAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=8, choices=choices.SnapshotSource.choices)
    accounts = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    headline_before = models.JSONField(default=dict, encoder=DjangoJSONEncoder, blank=True)
    headline_after = models.JSONField(default=dict, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.month:%Y-%m}"


class DigestPreference(models.Model):
    """A person's choice about the weekly digest (the unsubscribe link sets it)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_preference")
    weekly_digest = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user}: {'on' if self.weekly_digest else 'off'}"


class DigestDelivery(models.Model):
    """One person's digest for one week: claimed once, so a second run sends nothing."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    week = models.DateField(help_text="The Monday of the week.")
    status = models.CharField(max_length=8, choices=choices.DigestStatus.choices, default=choices.DigestStatus.CLAIMED)
    claimed_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    items = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-week", "user"]
        constraints = [models.UniqueConstraint(fields=["user", "week"], name="digest_once_per_week")]

    def __str__(self) -> str:
        return f"{self.user} {self.week}: {self.status}"


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)
