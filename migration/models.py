"""Import runs of the legacy stores, and what they leave behind: provenance of every
imported fact, conflicts between stores for a person to resolve, and ambiguous matches."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from django.conf import settings
from django.contrib import admin
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse
from django.utils import timezone

from customers.choices import OpportunityStage
from migration.choices import (
    REPORT_COLUMNS,
    ConflictKind,
    ConflictStatus,
    EvidenceStatus,
    FileStatus,
    HeldKind,
    HeldStatus,
    ReviewStatus,
    RunStatus,
    Store,
)
from migration.names import label_key, product_key, staff_key, stage_key


class ImportRun(models.Model):
    """One `import_legacy` run (command or web), kept with who ran it and what it changed."""

    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="import_runs"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    dry_run = models.BooleanField(default=False)
    only = models.CharField(max_length=40, blank=True, help_text="Comma-separated stores, e.g. d1,d4.")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING)
    upload_dir = models.CharField(max_length=500, blank=True, help_text="Where uploaded files wait for the run.")
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import run #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("migration:importrun_detail", kwargs={"pk": self.pk})

    @property
    def progress_percent(self) -> int:
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0


class ImportFile(models.Model):
    """One file of a run: which store it was recognised as, its counts, its rejected rows."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=255)
    store = models.CharField(max_length=4, choices=Store.choices, blank=True)
    status = models.CharField(max_length=10, choices=FileStatus.choices)
    counts = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    rejected_csv = models.TextField(blank=True, help_text="The rejected rows with a reason column.")

    class Meta:
        ordering = ["run", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def rejected_count(self) -> int:
        return int(self.counts.get("rejected", 0))

    @property
    def other_counts(self) -> list[tuple[str, int]]:
        """The store's own counts beyond the report's columns, e.g. Xero's "values updated"."""
        return sorted((name, value) for name, value in self.counts.items() if name not in REPORT_COLUMNS)


class Provenance(models.Model):
    """Where an imported record's facts came from: store, file, sheet and row."""

    # Neither foreign key has a database constraint: an import writes a provenance row per
    # record and file (150,000 for 10,000 clients), and PostgreSQL checking both keys of each
    # row at commit took 2 s. Django still applies `on_delete` itself.
    # No index of its own: the unique constraint's index leads with (content_type, object_id).
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, db_index=False, db_constraint=False)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    store = models.CharField(max_length=4, choices=Store.choices)
    file = models.CharField(max_length=255)
    sheet = models.CharField(max_length=100, blank=True)
    row = models.PositiveIntegerField(help_text="The first row that supplied these fields.")
    rows = models.JSONField(default=list, blank=True, help_text="Every row of the sheet that supplied them.")
    fields = models.JSONField(default=list, blank=True, help_text="Fields these rows supplied.")
    run = models.ForeignKey(
        ImportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="provenance", db_constraint=False
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["store", "file", "row"]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "store", "file", "sheet"], name="provenance_once_per_sheet"
            )
        ]

    def __str__(self) -> str:
        where = f"{self.file}" + (f" [{self.sheet}]" if self.sheet else "")
        return f"{self.get_store_display()}: {where} {self.rows_label()}"

    @admin.display(description="rows")
    def rows_label(self) -> str:
        rows = self.rows or [self.row]
        if len(rows) == 1:
            return f"row {rows[0]}"
        shown = ", ".join(str(r) for r in rows[:5])
        return f"rows {shown}" + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")


class ImportConflict(models.Model):
    """Two stores disagree about a fact; the precedence rule chose one, a person confirms."""

    run = models.ForeignKey(ImportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="conflicts")
    account = models.ForeignKey("customers.Account", on_delete=models.CASCADE, related_name="import_conflicts")
    subscription = models.ForeignKey(
        "customers.Subscription", null=True, blank=True, on_delete=models.CASCADE, related_name="import_conflicts"
    )
    field = models.CharField(max_length=50)
    kept_store = models.CharField(max_length=4, choices=Store.choices)
    kept_value = models.CharField(max_length=200, blank=True)
    other_store = models.CharField(max_length=4, choices=Store.choices)
    other_value = models.CharField(max_length=200, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=8, choices=ConflictKind.choices, default=ConflictKind.STORES)
    evidence = models.JSONField(
        default=dict, blank=True, help_text="For Finance: cadence, how Xero's figure was worked out, its invoices."
    )
    status = models.CharField(max_length=8, choices=ConflictStatus.choices, default=ConflictStatus.OPEN)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["status", "-created_at"]
        indexes = [models.Index(fields=["account", "field", "status"])]

    def __str__(self) -> str:
        return f"{self.account.code} {self.field}: {self.kept_value} ({self.kept_store}) vs {self.other_value}"

    @property
    def can_apply(self) -> bool:
        """Whether the other store's value is a single field value that can be applied."""
        if self.kind == ConflictKind.UNTOLD:
            return False  # Xero's history gives no value to apply
        target = "subscription" if self.subscription_id else "account"
        fields = {"subscription": {"annual_value", "renewal_date", "seats"}, "account": {"abn"}}
        return self.field in fields[target] and bool(self.other_value)


class MatchReview(models.Model):
    """An incoming record that looked like more than one account: never guessed."""

    run = models.ForeignKey(ImportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews")
    store = models.CharField(max_length=4, choices=Store.choices)
    file = models.CharField(max_length=255)
    row = models.PositiveIntegerField()
    incoming_name = models.CharField(max_length=200)
    candidates = models.JSONField(default=list, help_text="[{code, name, score, evidence}]")
    status = models.CharField(max_length=8, choices=ReviewStatus.choices, default=ReviewStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["status", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["store", "file", "row", "incoming_name"], name="review_once_per_row")
        ]

    def __str__(self) -> str:
        return f"{self.incoming_name} ({self.file} row {self.row})"


class ProductAlias(models.Model):
    """Another way the legacy stores write a product ("Security and Compliance", "SEC-COMP-1Y")."""

    product = models.ForeignKey("customers.Product", on_delete=models.CASCADE, related_name="aliases")
    value = models.CharField(max_length=200)
    key = models.CharField(max_length=200, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["product", "value"]

    def __str__(self) -> str:
        return f"{self.value} = {self.product}"

    def save(self, *args, **kwargs):
        self.key = product_key(self.value)[:200]
        super().save(*args, **kwargs)


class StaffAlias(models.Model):
    """A legacy spelling of a staff member's name ("Mei Chen" for the user mchen-wong)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_aliases")
    value = models.CharField(max_length=200)
    key = models.CharField(max_length=200, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["value"]

    def __str__(self) -> str:
        return f"{self.value} = {self.user}"

    def save(self, *args, **kwargs):
        self.key = staff_key(self.value)[:200]
        super().save(*args, **kwargs)


class StewardMapping(models.Model):
    """A cell value a steward mapped once, kept under the key the import compares it by."""

    value = models.CharField(max_length=200)
    key = models.CharField(max_length=200, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    key_of: ClassVar[Callable[[object], str]]  # how the import compares this kind of value

    class Meta:
        abstract = True
        ordering = ["value"]

    def save(self, *args, **kwargs):
        self.key = type(self).key_of(self.value)
        super().save(*args, **kwargs)


class SurveyLabel(StewardMapping):
    """A helpdesk survey label a steward mapped to the 0-10 scale (beyond the settings' defaults)."""

    score = models.PositiveSmallIntegerField(null=True, blank=True, help_text="0-10; empty: the label is no rating.")
    key_of = staticmethod(label_key)

    def __str__(self) -> str:
        return f"{self.value} = {self.score}"


class StageWord(StewardMapping):
    """A rep's word for a pipeline stage that a steward mapped to a stage of the funnel
    ("Negotiation" is proposal), beyond the words the import knows."""

    stage = models.CharField(max_length=10, choices=OpportunityStage.choices)
    key_of = staticmethod(stage_key)

    def __str__(self) -> str:
        return f"{self.value} = {self.get_stage_display()}"


class HeldValue(models.Model):
    """A product, staff name, survey label or pipeline stage the import did not know: the
    rest of its rows were imported (a deal waits for its stage), and a steward maps it once
    (an alias) so the next import resolves it."""

    kind = models.CharField(max_length=8, choices=HeldKind.choices)
    value = models.CharField(max_length=200)
    key = models.CharField(max_length=200, editable=False)
    reason = models.CharField(max_length=300, blank=True)
    rows = models.PositiveIntegerField(default=0, help_text="Rows of the latest import that held it.")
    where = models.JSONField(default=list, blank=True, help_text="[file, row] of the first rows that held it.")
    status = models.CharField(max_length=8, choices=HeldStatus.choices, default=HeldStatus.OPEN)
    mapped_to = models.CharField(max_length=200, blank=True)
    mapped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    run = models.ForeignKey(ImportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="held_values")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["status", "kind", "-rows", "value"]
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="held_value_once")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} “{self.value}” ({self.rows} rows)"


class EvidencedSubscription(models.Model):
    """A subscription the import created from Xero lines or calendar entries (the client
    master lists only each client's primary product), for Customer Relations to confirm,
    correct or dismiss. The answer is kept, so the next import does not ask again."""

    account = models.ForeignKey("customers.Account", on_delete=models.CASCADE, related_name="evidenced_subscriptions")
    product = models.ForeignKey("customers.Product", on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(
        "customers.Subscription", null=True, blank=True, on_delete=models.SET_NULL, related_name="evidence"
    )
    stores = models.JSONField(default=list, help_text="The stores that evidence it, e.g. ['d4', 'd7'].")
    detail = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=EvidenceStatus.choices, default=EvidenceStatus.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=300, blank=True)
    run = models.ForeignKey(ImportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["status", "account", "product"]
        constraints = [models.UniqueConstraint(fields=["account", "product"], name="evidenced_subscription_once")]

    def __str__(self) -> str:
        return f"{self.product} for {self.account.code} (from {', '.join(self.stores)})"

    @property
    def store_labels(self) -> list[str]:
        return [Store(s).label for s in self.stores if s in Store.values]
