"""The golden customer record.

Every model here holds customer facts and so keeps per-field history. Writes go through
`customers.services`, which checks field ownership, optimistic concurrency (`version`)
and sets the change reason. The duplicate queue and merge records at the end are audit
records in their own right (who reviewed or merged what, when and why).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from cloudcore_crm.lib.history import tracked_history
from customers import choices
from customers.matching import alias_key, normalise_name, phone_digits
from customers.querysets import (
    AccountQuerySet,
    ActivityQuerySet,
    ContactDuplicateCandidateQuerySet,
    ContactQuerySet,
    DuplicateCandidateQuerySet,
    MergeQuerySet,
    OpportunityQuerySet,
    StageChangeQuerySet,
    SubscriptionQuerySet,
)
from customers.validators import validate_abn

ACCOUNT_CODE_PREFIX = "CC"

phone_validator = RegexValidator(
    r"^\+?[0-9 ()-]{6,20}$", "Enter a phone number of digits, spaces and an optional leading +."
)


def account_code(number: int) -> str:
    return f"{ACCOUNT_CODE_PREFIX}{number:03d}"


class Account(models.Model):
    """A CloudCore business client: the golden record every team reads."""

    number = models.PositiveIntegerField(unique=True, editable=False)
    code = models.CharField(max_length=12, unique=True, editable=False, help_text="Client code, e.g. CC009.")
    legal_name = models.CharField(max_length=200)
    trading_name = models.CharField(max_length=200, blank=True)
    normalised_name = models.CharField(max_length=200, editable=False, db_index=True)
    abn = models.CharField("ABN", max_length=11, blank=True, validators=[validate_abn])
    industry = models.CharField(max_length=20, choices=choices.Industry.choices, default=choices.Industry.OTHER)
    segment = models.CharField(max_length=12, choices=choices.Segment.choices, default=choices.Segment.SMALL)
    office = models.CharField(max_length=8, choices=choices.Office.choices, default=choices.Office.PERTH)
    lifecycle_status = models.CharField(
        max_length=12, choices=choices.LifecycleStatus.choices, default=choices.LifecycleStatus.ACTIVE
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_accounts",
        help_text="The sales rep who owns the relationship.",
    )
    relations_coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="coordinated_accounts",
    )
    phone = models.CharField(max_length=20, blank=True, validators=[phone_validator])
    website = models.URLField(blank=True)
    street = models.CharField(max_length=200, blank=True)
    suburb = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=3, choices=choices.AustralianState.choices, blank=True)
    postcode = models.CharField(
        max_length=4, blank=True, validators=[RegexValidator(r"^\d{4}$", "A postcode has 4 digits.")]
    )
    xero_contact_id = models.CharField("Xero contact id", max_length=64, blank=True)
    billing_contact = models.ForeignKey(
        "Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="billed_accounts"
    )
    # Digits of `phone` in national form, for exact-phone duplicate look-ups.
    phone_digits = models.CharField(max_length=20, blank=True, editable=False, db_index=True, db_default="")
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="merged_accounts",
        help_text="Set when this record was merged into another; its code then redirects there.",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    history = tracked_history()
    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["number"]
        indexes = [
            models.Index(fields=["owner", "number"]),
            models.Index(fields=["office", "number"]),
            # Counting a filtered customer list reads only this index (merged accounts are
            # never listed), instead of scanning the table.
            models.Index(fields=["office", "id"], condition=Q(merged_into__isnull=True), name="account_live_office"),
            models.Index(fields=["lifecycle_status", "number"]),
            models.Index(fields=["abn"]),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.display_name}"

    def save(self, *args, **kwargs):
        self.set_derived_fields()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("customers:account_detail", kwargs={"code": self.code})

    def set_derived_fields(self) -> None:
        """The columns kept for search and matching (bulk writes call this too)."""
        self.normalised_name = normalise_name(self.legal_name)
        self.phone_digits = phone_digits(self.phone)

    @property
    def display_name(self) -> str:
        return self.trading_name or self.legal_name


class Contact(models.Model):
    """A person at a client account."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    title = models.CharField("job title", max_length=120, blank=True)
    email = models.EmailField(blank=True, db_index=True)
    phone = models.CharField(max_length=20, blank=True, validators=[phone_validator])
    phone_digits = models.CharField(max_length=20, blank=True, editable=False, db_index=True)
    is_primary = models.BooleanField("primary contact", default=False)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="merged_contacts",
        help_text="Set when this person was merged into another contact record.",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    history = tracked_history()
    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["-is_primary", "last_name", "first_name"]
        indexes = [models.Index(fields=["last_name", "first_name"])]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args, **kwargs):
        self.set_derived_fields()
        super().save(*args, **kwargs)

    def set_derived_fields(self) -> None:
        self.phone_digits = phone_digits(self.phone)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Product(models.Model):
    """Something CloudCore sells: a named product or a managed service line."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=12, choices=choices.ProductKind.choices)
    is_active = models.BooleanField(default=True)

    history = tracked_history()

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


LIVE = Q(status__in=[choices.SubscriptionStatus.ACTIVE, choices.SubscriptionStatus.PENDING])


class Subscription(models.Model):
    """One account's subscription to one product or service line, for one term."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="subscriptions")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="subscriptions")
    seats = models.PositiveIntegerField("seats or quantity", default=1, validators=[MinValueValidator(1)])
    annual_value = models.DecimalField(
        "contract value (AUD, annual)",
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00"), "A contract value cannot be negative.")],
    )
    start_date = models.DateField()
    term_months = models.PositiveSmallIntegerField("term (months)", default=12, validators=[MinValueValidator(1)])
    renewal_date = models.DateField(null=True, blank=True, db_index=True)
    status = models.CharField(
        max_length=10, choices=choices.SubscriptionStatus.choices, default=choices.SubscriptionStatus.ACTIVE
    )
    tenancy_ref = models.CharField("tenancy reference", max_length=120, blank=True)
    # The onboarding order that started or last changed this subscription (ORD-2026-00042):
    # the one reference sales, provisioning and Finance's Xero invoice share.
    order_ref = models.CharField("order ID", max_length=20, blank=True, db_index=True, db_default="")
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    history = tracked_history()
    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["renewal_date", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(annual_value__gte=0), name="subscription_value_not_negative"),
            models.CheckConstraint(
                condition=Q(renewal_date__isnull=True) | Q(renewal_date__gte=F("start_date")),
                name="subscription_renewal_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["product", "status"]),
            # The customer list's product and renewal-window filters read only live rows:
            # these partial indexes answer them without touching the table.
            models.Index(fields=["product", "account"], condition=LIVE, name="subscription_live_product"),
            models.Index(fields=["renewal_date", "account"], condition=LIVE, name="subscription_live_renewal"),
        ]

    def __str__(self) -> str:
        return f"{self.product} for {self.account.code}"


class Opportunity(models.Model):
    """A deal in the sales funnel (seed 003), owned by one sales rep."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="opportunities")
    name = models.CharField(max_length=200)
    kind = models.CharField(
        max_length=10, choices=choices.OpportunityKind.choices, default=choices.OpportunityKind.NEW_BUSINESS
    )
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.PROTECT, related_name="opportunities")
    stage = models.CharField(
        max_length=10, choices=choices.OpportunityStage.choices, default=choices.OpportunityStage.SUSPECT
    )
    amount = models.DecimalField(
        "amount (AUD)",
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00"), "An amount cannot be negative.")],
    )
    expected_close = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="opportunities", help_text="The sales rep."
    )
    source = models.CharField(
        max_length=10, choices=choices.OpportunitySource.choices, default=choices.OpportunitySource.EXISTING
    )
    lost_reason = models.CharField(max_length=12, choices=choices.LostReason.choices, blank=True)
    lost_note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    history = tracked_history()
    objects = OpportunityQuerySet.as_manager()

    class Meta:
        ordering = ["expected_close", "pk"]
        verbose_name_plural = "opportunities"
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="opportunity_amount_not_negative")]
        indexes = [
            models.Index(fields=["account", "stage"]),
            models.Index(fields=["owner", "stage"]),
            # The pipeline board: each column's first cards by close date.
            models.Index(fields=["stage", "expected_close", "id"], name="opportunity_board"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.stage in choices.OpportunityStage.open_stages()


class StageChange(models.Model):
    """One move of a deal between funnel stages (seed 003's state machine), with who, when
    and why: time in stage, conversion and cycle time are computed from these facts.

    The first row of a deal has no `from_stage`: it is the stage the deal was first seen in
    (created on the page, or found in a rep's legacy workbook).
    """

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=10, choices=choices.OpportunityStage.choices, blank=True)
    to_stage = models.CharField(max_length=10, choices=choices.OpportunityStage.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(blank=True)

    objects = StageChangeQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["opportunity", "at"]), models.Index(fields=["to_stage", "at"])]

    def __str__(self) -> str:
        return f"{self.opportunity_id}: {self.from_stage or '-'} -> {self.to_stage}"


class Activity(models.Model):
    """One entry on an account's timeline: a call, a note, an alert, a system event."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="activities")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities")
    kind = models.CharField(max_length=10, choices=choices.ActivityKind.choices, default=choices.ActivityKind.NOTE)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    summary = models.CharField(max_length=300)
    detail = models.TextField(blank=True)

    history = tracked_history()
    objects = ActivityQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        verbose_name_plural = "activities"
        indexes = [models.Index(fields=["account", "-occurred_at"])]

    def __str__(self) -> str:
        return self.summary


class AccountAlias(models.Model):
    """Another name or external id by which an account is known (legacy name, Xero id...)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="aliases")
    kind = models.CharField(max_length=14, choices=choices.AliasKind.choices, default=choices.AliasKind.NAME)
    value = models.CharField(max_length=200)
    normalised_value = models.CharField(max_length=200, editable=False, db_index=True)
    source = models.CharField(max_length=200, blank=True, help_text="Where this alias was seen.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    history = tracked_history()

    class Meta:
        ordering = ["kind", "value"]
        verbose_name_plural = "account aliases"
        constraints = [
            models.UniqueConstraint(fields=["account", "kind", "normalised_value"], name="alias_once_per_account"),
            # An external id names exactly one account; a name variant may be shared.
            models.UniqueConstraint(
                fields=["kind", "normalised_value"],
                condition=~Q(kind=choices.AliasKind.NAME),
                name="external_id_names_one_account",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"

    def save(self, *args, **kwargs):
        self.set_derived_fields()
        super().save(*args, **kwargs)

    def set_derived_fields(self) -> None:
        self.normalised_value = alias_key(self.kind, self.value)


# --- Duplicates -----------------------------------------------------------------------


class CandidateBase(models.Model):
    """A pair of records that look like one, waiting in the data stewards' queue.

    `a` has the lower id, so a pair is stored once whichever way it was found; a pair
    marked "not a duplicate" keeps its row and is never proposed again.
    """

    score = models.PositiveSmallIntegerField(help_text="0-100: how sure the matcher is.")
    evidence = models.JSONField(default=list, help_text="Why the pair was proposed, in words.")
    status = models.CharField(
        max_length=14, choices=choices.DuplicateStatus.choices, default=choices.DuplicateStatus.OPEN
    )
    found_at = models.DateTimeField(default=timezone.now, editable=False)
    last_seen_at = models.DateTimeField(default=timezone.now, help_text="When a scan last proposed this pair.")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        abstract = True


class DuplicateCandidate(CandidateBase):
    """Two accounts that may be one client (found by the scan or by hand)."""

    account_a = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    account_b = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")

    SIDES = ("account_a", "account_b")
    objects = DuplicateCandidateQuerySet.as_manager()

    class Meta:
        ordering = ["-score", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["account_a", "account_b"], name="duplicate_pair_once"),
            models.CheckConstraint(condition=Q(account_a__lt=F("account_b")), name="duplicate_pair_ordered"),
        ]
        indexes = [models.Index(fields=["status", "-score", "id"])]

    def __str__(self) -> str:
        return f"{self.account_a_id} ~ {self.account_b_id} ({self.score})"


class ContactDuplicateCandidate(CandidateBase):
    """Two contact records that may be one person (same email, or same name at one account)."""

    contact_a = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    contact_b = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")

    SIDES = ("contact_a", "contact_b")
    objects = ContactDuplicateCandidateQuerySet.as_manager()

    class Meta:
        ordering = ["-score", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["contact_a", "contact_b"], name="contact_duplicate_pair_once"),
            models.CheckConstraint(condition=Q(contact_a__lt=F("contact_b")), name="contact_duplicate_pair_ordered"),
        ]
        indexes = [models.Index(fields=["status", "-score", "id"])]

    def __str__(self) -> str:
        return f"{self.contact_a_id} ~ {self.contact_b_id} ({self.score})"


def _rows_phrase(entry: dict, key: str) -> str:
    from django.apps import apps

    count = len(entry[key])
    try:
        meta = apps.get_model(entry["model"])._meta
    except LookupError:  # a table removed since the merge
        return f"{count} {entry.get('label') or entry['model']}"
    return f"{count} {meta.verbose_name if count == 1 else meta.verbose_name_plural}"


class MergeBase(models.Model):
    """One merge: who, when, why, where each surviving value came from, which rows moved,
    and the values needed to undo it exactly within `UNDO_DAYS`."""

    UNDO_DAYS = 30

    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    merged_at = models.DateTimeField(default=timezone.now, editable=False)
    reason = models.CharField(max_length=300)
    # {field: {"label": "Legal name", "from": the record the value came from, "value": shown value}}
    provenance = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    survivor_before = models.JSONField(default=dict, encoder=DjangoJSONEncoder)  # raw values the merge replaced
    survivor_after = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    duplicate_values = models.JSONField(default=dict, encoder=DjangoJSONEncoder)  # every field, as it was
    # [{"model": "customers.contact", "label": "contacts", "field": "account", "pks": [...],
    #   "stayed": [ids left with the duplicate: the survivor already had its own]}, ...]
    moved = models.JSONField(default=list)
    added_aliases = models.JSONField(default=list)  # AccountAlias ids the merge created
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)
    undo_reason = models.CharField(max_length=300, blank=True)

    objects = MergeQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def undo_until(self):
        return self.merged_at + dt.timedelta(days=self.UNDO_DAYS)

    @property
    def can_undo(self) -> bool:
        return self.undone_at is None and timezone.now() < self.undo_until

    @property
    def moved_summary(self) -> list[str]:
        """'1 ticket', '3 contacts': the rows the merge moved, a phrase per table."""
        return [_rows_phrase(entry, "pks") for entry in self.moved if entry["pks"]]

    @property
    def stayed_summary(self) -> list[str]:
        """The rows left with the duplicate because the survivor had its own."""
        return [_rows_phrase(entry, "stayed") for entry in self.moved if entry.get("stayed")]


class AccountMerge(MergeBase):
    """A duplicate account merged into a survivor; the duplicate's code now redirects."""

    survivor = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    duplicate = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    candidate = models.ForeignKey(
        DuplicateCandidate, null=True, blank=True, on_delete=models.SET_NULL, related_name="merges"
    )

    class Meta:
        ordering = ["-merged_at", "-pk"]
        indexes = [models.Index(fields=["survivor", "-merged_at"])]

    def __str__(self) -> str:
        return f"Merge #{self.pk}: {self.duplicate_id} into {self.survivor_id}"


class ContactMerge(MergeBase):
    """A duplicate contact merged into a survivor contact."""

    survivor = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="+")
    duplicate = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="+")
    candidate = models.ForeignKey(
        ContactDuplicateCandidate, null=True, blank=True, on_delete=models.SET_NULL, related_name="merges"
    )

    class Meta:
        ordering = ["-merged_at", "-pk"]

    def __str__(self) -> str:
        return f"Contact merge #{self.pk}: {self.duplicate_id} into {self.survivor_id}"
