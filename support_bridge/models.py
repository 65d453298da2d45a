"""The helpdesk mirror, its webhook inbox, and the churn-risk signal for account owners.

The CRM mirrors tickets; it does not replace the helpdesk. Writes go through
`support_bridge.services`; reads through `support_bridge.querysets`.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cloudcore_crm.lib.history import tracked_history
from customers.models import Account, Contact, Product
from support_bridge import choices
from support_bridge.querysets import ChurnAlertQuerySet, TicketQuerySet, WebhookEventQuerySet


class Ticket(models.Model):
    """One helpdesk ticket as the CRM sees it: which client, how bad, how it ended.

    A ticket is identified by its helpdesk id within its source, so a webhook and an export
    of the same ticket land on one row. `source_updated_at` and `source_event_at` record the
    newest change applied, so a late or repeated delivery never rolls the row back.
    """

    source = models.CharField(max_length=12, choices=choices.TicketSource.choices)
    external_id = models.CharField("helpdesk ticket id", max_length=64)
    # No index of its own: the (account, opened_at) and (account, status) indexes lead with it.
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tickets", db_index=False)
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets")
    subject = models.CharField(max_length=300)
    status = models.CharField(max_length=8, choices=choices.TicketStatus.choices, default=choices.TicketStatus.NEW)
    priority = models.CharField(
        max_length=8, choices=choices.TicketPriority.choices, default=choices.TicketPriority.MEDIUM
    )
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_hours = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        "satisfaction (0-10)", null=True, blank=True, validators=[MaxValueValidator(10)]
    )
    helpdesk_org_id = models.CharField("helpdesk organisation id", max_length=64, blank=True)
    source_updated_at = models.DateTimeField(null=True, blank=True, help_text="Helpdesk's last update applied.")
    source_event_at = models.DateTimeField(null=True, blank=True)
    provenance = models.CharField(max_length=300, blank=True, help_text="Webhook event or file and row.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    history = tracked_history()
    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="ticket_once_per_source"),
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True) | Q(satisfaction__lte=10), name="ticket_satisfaction_0_10"
            ),
        ]
        indexes = [
            models.Index(fields=["account", "opened_at"]),
            models.Index(fields=["account", "status"]),
            models.Index(fields=["external_id"]),
            models.Index(fields=["opened_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.external_id} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in choices.TicketStatus.open_values()


class WebhookEvent(models.Model):
    """The inbox: every signed delivery, once per event id, with what became of it.

    The raw body is kept so an event held for a steward (account unknown) can be applied
    later exactly as it arrived. The inbox is itself the audit trail, so it has no history.
    """

    event_id = models.CharField(max_length=100, unique=True)
    event_type = models.CharField(max_length=100, blank=True)
    ticket_external_id = models.CharField(max_length=64, blank=True)
    organization_id = models.CharField(max_length=64, blank=True, db_index=True)
    body = models.TextField()
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=choices.EventStatus.choices, db_index=True)
    resolution = models.CharField(max_length=14, choices=choices.Resolution.choices, default=choices.Resolution.NONE)
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")

    objects = WebhookEventQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class PeerBaseline(models.Model):
    """Median tickets per account over the risk window in one segment, from the nightly run.

    A single account's score (recomputed when a ticket event arrives) compares with these,
    so a webhook never aggregates the whole ticket table. Derived data, so no history.
    """

    segment = models.CharField(max_length=12, unique=True)
    median_tickets = models.FloatField()
    accounts = models.PositiveIntegerField()
    computed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.segment}: median {self.median_tickets:g}"


class RiskScore(models.Model):
    """An account's churn-risk score (0-100), its band and the reasons in words.

    History records every change of score, band or reasons; `computed_at` (refreshed every
    night even when nothing changed) is left out of it.
    """

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="risk_score")
    score = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    band = models.CharField(max_length=8, choices=choices.RiskBand.choices, db_index=True)
    reasons = models.JSONField(default=list, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    history = tracked_history(excluded_fields=["computed_at"])

    class Meta:
        ordering = ["-score"]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.score} ({self.band})"

    @property
    def is_high(self) -> bool:
        return self.band == choices.RiskBand.HIGH


class ChurnAlert(models.Model):
    """A signal to the account owner: the risk rose to high, or support raised a concern.

    One per rise: a new risk alert only after the band dropped below high and rose again.
    The owner acknowledges it with a note.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="churn_alerts")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="churn_alerts"
    )
    kind = models.CharField(max_length=8, choices=choices.AlertKind.choices, default=choices.AlertKind.RISK)
    score = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The score when the alert was raised.")
    band = models.CharField(max_length=8, choices=choices.RiskBand.choices, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True, help_text="What support wants the owner to know.")
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="raised_alerts"
    )
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="acknowledged_alerts"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, help_text="The owner's note on acknowledging.")
    notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    history = tracked_history(excluded_fields=["notified_at"])
    objects = ChurnAlertQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["owner", "acknowledged_at"])]
        constraints = [
            # Two risk computations racing (the nightly run and a ticket's rescore) can
            # never leave an owner two open alerts for one rise.
            models.UniqueConstraint(
                fields=["account", "kind"],
                condition=Q(kind=choices.AlertKind.RISK, acknowledged_at__isnull=True),
                name="one_open_risk_alert_per_account",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.account_id}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None
