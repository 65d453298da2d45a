"""Xero reconciliation: Finance's imports, the Xero contacts and invoice lines they bring,
and the discrepancies between what Xero bills and the contract values of the golden record.

Xero is authoritative for money, not for relationships (seed 001): the CRM mirrors Xero's
invoices and contacts, maps each contact to an account, and opens a discrepancy for
Finance wherever the two disagree. Writes go through `billing_sync.services`; reads
through `billing_sync.querysets`.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from billing_sync import choices
from billing_sync.querysets import DiscrepancyQuerySet, XeroContactQuerySet, XeroImportQuerySet
from cloudcore_crm.lib.history import tracked_history
from customers.models import Account, Product, Subscription

MONEY = {"max_digits": 14, "decimal_places": 2}


class XeroImport(models.Model):
    """One import of Xero data: uploaded or pulled files, a dry run first, then for real.

    Each file is all or nothing (`XeroImportFile`); a confirmed dry run starts a new
    import of the same files, so the preview is never mistaken for the import.
    """

    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    dry_run = models.BooleanField(default=True)
    source = models.CharField(max_length=8, default="csv", help_text="csv (Finance's exports) or api (OAuth pull)")
    status = models.CharField(max_length=10, choices=choices.RunStatus.choices, default=choices.RunStatus.PENDING)
    upload_dir = models.CharField(max_length=300, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = XeroImportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Xero import #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("billing_sync:import_detail", kwargs={"pk": self.pk})

    @property
    def running(self) -> bool:
        return self.status in (choices.RunStatus.PENDING, choices.RunStatus.RUNNING)


class XeroImportFile(models.Model):
    """What one file of an import did: its kind, counts and the rows it rejected."""

    run = models.ForeignKey(XeroImport, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=choices.ImportKind.choices, blank=True)
    status = models.CharField(max_length=10, choices=choices.FileStatus.choices)
    counts = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    rejected_csv = models.TextField(blank=True, help_text="The rejected rows plus a Reason column.")

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name


class XeroContact(models.Model):
    """A contact of CloudCore's Xero organisation and the account it is (or may be).

    Xero contact names are unique within an organisation, and the Sales Invoices export
    names the contact only by name, so the name (normalised for case and spacing) is the
    key; the API's ContactID is kept when a pull brings it.
    """

    name = models.CharField(max_length=255)
    name_key = models.CharField(max_length=255, unique=True)
    xero_id = models.CharField("Xero ContactID", max_length=64, blank=True, db_index=True)
    account_number = models.CharField(max_length=50, blank=True)
    tax_number = models.CharField("TaxNumber (ABN)", max_length=20, blank=True)
    email = models.CharField(max_length=254, blank=True)
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="xero_contacts")
    status = models.CharField(max_length=10, choices=choices.MatchStatus.choices, default=choices.MatchStatus.UNMATCHED)
    method = models.CharField(max_length=10, choices=choices.MatchMethod.choices, blank=True)
    # [{"code": "CC012", "label": "Acme", "score": 85, "evidence": ["..."]}, ...] best first
    candidates = models.JSONField(default=list, blank=True)
    mapped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    mapped_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    history = tracked_history()
    objects = XeroContactQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["status", "name"])]

    def __str__(self) -> str:
        return self.name

    @property
    def identifier(self) -> str:
        """What the account's Xero contact id holds for this contact: the ContactID
        when known, else the account number, else the (unique) contact name."""
        return self.xero_id or self.account_number or self.name


class XeroInvoiceLine(models.Model):
    """One line of one Xero invoice or credit note, as the latest import saw it.

    A mirror of Xero's record, identified by invoice number and line: a re-export
    rewrites a changed invoice's lines in place and adds nothing twice. No per-row
    history (Xero keeps that); each line names the imports that first and last wrote it.
    """

    invoice_number = models.CharField(max_length=50)
    line_no = models.PositiveSmallIntegerField()
    invoice_type = models.CharField(max_length=12, choices=choices.InvoiceType.choices)
    status = models.CharField(max_length=10, choices=choices.InvoiceStatus.choices)
    contact = models.ForeignKey(XeroContact, on_delete=models.PROTECT, related_name="lines", db_index=False)
    # Denormalised from the contact's mapping, so reconciliation reads one table.
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    invoice_date = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    reference = models.CharField(max_length=255, blank=True)
    # The activated order the line bills: an order ID its Reference (or description)
    # carries and a subscription (or onboarding's hand-off) holds. Such a line belongs
    # to that order's account and subscription, whatever its contact or wording says.
    order_ref = models.CharField("order ID", max_length=20, blank=True, db_index=True, db_default="")
    item_code = models.CharField(max_length=50, blank=True)
    description = models.TextField(blank=True)
    quantity = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("1"))
    unit_amount = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"))
    line_amount = models.DecimalField(**MONEY, help_text="Excluding tax; credit notes are positive here.")
    invoice_total = models.DecimalField(**MONEY, default=Decimal("0"))
    currency = models.CharField(max_length=3, default="AUD")
    xero_invoice_id = models.CharField(max_length=64, blank=True)
    fingerprint = models.CharField(max_length=32, help_text="Hash of the line's values: unchanged lines are skipped.")
    first_import = models.ForeignKey(XeroImport, null=True, on_delete=models.SET_NULL, related_name="+")
    last_import = models.ForeignKey(XeroImport, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["invoice_number", "line_no"]
        constraints = [models.UniqueConstraint(fields=["invoice_number", "line_no"], name="xero_line_once")]
        indexes = [
            models.Index(fields=["account", "product", "invoice_date"]),
            models.Index(fields=["contact", "invoice_date"]),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_number} line {self.line_no}"

    @property
    def signed_amount(self) -> Decimal:
        return -self.line_amount if self.invoice_type == choices.InvoiceType.CREDIT_NOTE else self.line_amount


class Discrepancy(models.Model):
    """One difference between the golden record and what Xero bills: a case for Finance.

    `key` is the cause and what it is about (subscription, or account and product), so
    one cause never opens two cases; a resolved case reopens only when its figures change.
    """

    key = models.CharField(max_length=80, unique=True)
    cause = models.CharField(max_length=24, choices=choices.Cause.choices)
    status = models.CharField(
        max_length=8, choices=choices.DiscrepancyStatus.choices, default=choices.DiscrepancyStatus.OPEN
    )
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="discrepancies")
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.SET_NULL, related_name="discrepancies"
    )
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    crm_value = models.DecimalField("contract value (CRM)", **MONEY, null=True, blank=True)
    xero_value = models.DecimalField("what Xero bills per year", **MONEY, null=True, blank=True)
    amount = models.DecimalField("money at stake", **MONEY, default=Decimal("0"))
    cadence = models.CharField(max_length=20, blank=True)
    detail = models.CharField(max_length=300, blank=True, help_text="The finding in words.")
    # [{"number": "INV-0101", "date": "2025-07-01", "status": "PAID", "amount": "825.00", "description": "..."}]
    invoices = models.JSONField(default=list, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolution = models.CharField(max_length=12, choices=choices.Resolution.choices, blank=True)
    resolution_reason = models.CharField(max_length=500, blank=True)
    explained_until = models.DateField(null=True, blank=True, help_text="An explanation holds until this date.")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    # The figures the resolution was about: the case reopens only when they change.
    resolved_figures = models.CharField(max_length=80, blank=True)
    xero_correction_pending = models.BooleanField(
        default=False, help_text="Finance kept the CRM's value and is correcting Xero."
    )

    history = tracked_history()
    objects = DiscrepancyQuerySet.as_manager()

    class Meta:
        ordering = ["-amount", "pk"]
        verbose_name_plural = "discrepancies"
        indexes = [
            models.Index(fields=["status", "-amount", "id"]),
            models.Index(fields=["account", "status"]),
            models.Index(fields=["status", "cause"], condition=Q(status="open"), name="discrepancy_open_cause"),
        ]

    def __str__(self) -> str:
        return f"{self.get_cause_display()} ({self.account_id})"

    def get_absolute_url(self) -> str:
        return reverse("billing_sync:discrepancy_detail", kwargs={"pk": self.pk})

    @property
    def is_open(self) -> bool:
        return self.status == choices.DiscrepancyStatus.OPEN

    @property
    def age_days(self) -> int:
        return (timezone.now() - self.opened_at).days

    @property
    def order_ref(self) -> str:
        """The order ID a hand-off case is about (its key names it)."""
        if self.cause != choices.Cause.HANDOFF_NOT_INVOICED:
            return ""
        return self.key.partition(":")[2]

    @property
    def difference(self) -> Decimal | None:
        if self.crm_value is None or self.xero_value is None:
            return None
        return self.xero_value - self.crm_value
