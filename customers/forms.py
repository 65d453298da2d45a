"""Forms for the golden record. They reflect field ownership (fields the user does not
own are read-only and say who owns them); the services enforce it."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone

from cloudcore_crm.roles import CUSTOMER_RELATIONS, SALES_REP
from customers import ownership
from customers.models import Account, Activity, Contact, Opportunity, Subscription
from customers.validators import clean_abn, validate_abn

User = get_user_model()


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.username


def staff_with_role(role: str):
    return User.objects.filter(is_active=True, groups__name=role).order_by("first_name", "last_name", "username")


class OwnedFieldsForm(forms.ModelForm):
    """A ModelForm that knows who is editing.

    - fields the user may not write are disabled and labelled "owned by ...";
    - `reason` records why (required on edits, and for any steward override);
    - `version` carries the version the user saw, for optimistic concurrency.
    """

    reason = forms.CharField(
        label="Reason for change",
        max_length=300,
        required=False,
        help_text="Shown in the History tab: why this changed.",
        widget=forms.TextInput(attrs={"placeholder": "e.g. customer called with a new number"}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    REASON_PLACEHOLDER = "e.g. customer called with a new number"

    def __init__(self, *args, user, account: Account | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["reason"].widget.attrs["placeholder"] = self.REASON_PLACEHOLDER
        self.is_edit = self.instance.pk is not None
        if account is not None and hasattr(self.instance, "account_id") and not self.instance.account_id:
            self.instance.account = account
        if not self.is_edit and "owner" in self.fields and isinstance(self.instance, Opportunity):
            self.instance.owner = user
        self.overrides: list[str] = []
        for name, field in self.fields.items():
            if name in ("reason", "version"):
                continue
            # Model validators (non-negative values, ABN checksum) run in the form too, so
            # errors show by the field before the service is asked.
            if name not in self.declared_fields:
                model_validators = self._meta.model._meta.get_field(name).validators
                field.validators.extend(v for v in model_validators if v not in field.validators)
            rule_text = ownership.owner_label(self.instance, name)
            if ownership.owns(user, self.instance, name):
                # Who owns a field matters only where it stops this person: not repeated
                # under every field they may write.
                pass
            elif ownership.can_override(user):
                self.overrides.append(name)
                field.help_text = ownership.sentence(f"{rule_text}; you may override it with a reason")
            else:
                field.disabled = True
                field.help_text = ownership.sentence(rule_text)
        if self.is_edit:
            self.fields["reason"].required = True
            if hasattr(self.instance, "version"):
                self.fields["version"].initial = self.instance.version
        else:
            del self.fields["version"]

    @property
    def writable_field_names(self) -> list[str]:
        return [n for n, f in self.fields.items() if not f.disabled and n not in ("reason", "version")]

    def changes(self) -> dict:
        """Cleaned values of the fields this user can write."""
        return {name: self.cleaned_data[name] for name in self.writable_field_names if name in self.cleaned_data}

    def clean_version(self):
        version = self.cleaned_data.get("version")
        if self.is_edit and hasattr(self.instance, "version") and version is None:
            raise forms.ValidationError("This form is missing its version; reload the page.")
        return version

    def clean(self):
        cleaned = super().clean()
        changed_overrides = [n for n in self.overrides if n in self.changed_data]
        if changed_overrides and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", "You are overriding a field another team owns: say why.")
        return cleaned

    def _post_clean(self):
        # The service validates the whole record; skip ModelForm's instance mutation so
        # a refused or conflicting save leaves the loaded object untouched.
        pass


class AccountForm(OwnedFieldsForm):
    REASON_PLACEHOLDER = "e.g. new address from the customer's email"

    abn = forms.CharField(label="ABN", max_length=20, required=False, help_text="11 digits; spaces are fine.")
    owner = StaffChoiceField(queryset=staff_with_role(SALES_REP), required=False, label="Account owner (sales rep)")
    relations_coordinator = StaffChoiceField(
        queryset=staff_with_role(CUSTOMER_RELATIONS), required=False, label="Relations coordinator"
    )

    class Meta:
        model = Account
        fields = [
            "legal_name",
            "trading_name",
            "abn",
            "industry",
            "segment",
            "office",
            "lifecycle_status",
            "phone",
            "website",
            "street",
            "suburb",
            "state",
            "postcode",
            "owner",
            "relations_coordinator",
            "xero_contact_id",
            "billing_contact",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.duplicate_matches: list = []
        if self.instance.pk:
            self.fields["billing_contact"].queryset = Contact.objects.filter(account=self.instance)
        else:
            self.fields["billing_contact"].queryset = Contact.objects.none()
            # Shown with the "looks like an existing customer" warning, to create anyway.
            self.fields["create_anyway"] = forms.BooleanField(
                label="Create anyway: this is a different customer", required=False
            )

    def changes(self) -> dict:
        changes = super().changes()
        changes.pop("create_anyway", None)
        return changes

    def match_fields(self) -> dict:
        """What the duplicate matcher compares a new customer on."""
        data = self.cleaned_data
        return {
            "name": data.get("legal_name", ""),
            "trading_name": data.get("trading_name", ""),
            "abn": data.get("abn", ""),
            "phone": data.get("phone", ""),
            "state": data.get("state", ""),
        }

    def clean_abn(self):
        abn = clean_abn(self.cleaned_data.get("abn", ""))
        if abn:
            validate_abn(abn)
        return abn

    SECTIONS = (
        ("Company", ["legal_name", "trading_name", "abn", "industry", "segment", "office", "lifecycle_status"]),
        ("Contact details and address", ["phone", "website", "street", "suburb", "state", "postcode"]),
        ("Relationship", ["owner", "relations_coordinator"]),
        ("Billing", ["xero_contact_id", "billing_contact"]),
    )

    def sections(self):
        return [(title, [self[name] for name in names]) for title, names in self.SECTIONS]


class ContactForm(OwnedFieldsForm):
    class Meta:
        model = Contact
        fields = ["first_name", "last_name", "title", "email", "phone", "is_primary"]


class SubscriptionForm(OwnedFieldsForm):
    REASON_PLACEHOLDER = "e.g. seats added on order SO-1042"

    class Meta:
        model = Subscription
        fields = [
            "product",
            "seats",
            "start_date",
            "term_months",
            "renewal_date",
            "status",
            "annual_value",
            "tenancy_ref",
        ]
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "renewal_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def clean(self):
        cleaned = super().clean()
        start, renewal = cleaned.get("start_date"), cleaned.get("renewal_date")
        if start and renewal and renewal < start:
            self.add_error("renewal_date", "The renewal date cannot be before the start date.")
        return cleaned


class OpportunityForm(OwnedFieldsForm):
    REASON_PLACEHOLDER = "e.g. customer asked for a quote"

    owner = StaffChoiceField(queryset=staff_with_role(SALES_REP), label="Sales rep")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        # A rep keeps their own deals: handing one to another rep is a sales manager's.
        if not ownership.can_assign(user):
            self.fields["owner"].disabled = True

    class Meta:
        model = Opportunity
        fields = [
            "name",
            "kind",
            "product",
            "stage",
            "amount",
            "expected_close",
            "owner",
            "source",
            "lost_reason",
            "lost_note",
        ]
        widgets = {"expected_close": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}


class ActivityForm(OwnedFieldsForm):
    REASON_PLACEHOLDER = "Optional"
    note = "Anyone may add to the timeline."

    class Meta:
        model = Activity
        fields = ["kind", "contact", "occurred_at", "summary", "detail"]
        widgets = {
            "detail": forms.Textarea(attrs={"rows": 3}),
            "occurred_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }
        labels = {"occurred_at": "When it happened"}

    def __init__(self, *args, account: Account, **kwargs):
        super().__init__(*args, account=account, **kwargs)
        # A call logged after the fact keeps the time it happened; the default is now.
        self.fields["occurred_at"].initial = timezone.localtime().replace(second=0, microsecond=0)
        self.fields["occurred_at"].required = False  # blank: now
        self.fields["occurred_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        self.fields["summary"].widget.attrs["placeholder"] = "e.g. Called about the renewal quote"
        self.fields["contact"].queryset = Contact.objects.filter(account=account)
        self.fields["kind"].choices = [
            c for c in self.fields["kind"].choices if c[0] in ("note", "call", "email", "meeting")
        ]

    def changes(self) -> dict:
        changes = super().changes()
        if changes.get("occurred_at") is None:
            changes.pop("occurred_at", None)
        return changes


class MergeForm(forms.Form):
    """Review one candidate pair: which record survives, whose value survives for each
    field that differs, and why. Carries the versions the steward saw, so a merge that
    races an edit is refused rather than losing it."""

    survivor = forms.ChoiceField(label="Keep", widget=forms.RadioSelect)
    reason = forms.CharField(
        label="Reason",
        max_length=300,
        help_text="Shown in History and on the merge record: why these are one record.",
        widget=forms.TextInput(attrs={"placeholder": "e.g. same client entered by Sales and Finance"}),
    )
    version_a = forms.IntegerField(widget=forms.HiddenInput)
    version_b = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, a, b, fields: list[str], label, **kwargs):
        super().__init__(*args, **kwargs)
        self.a, self.b, self.field_names = a, b, fields
        self.fields["survivor"].choices = [("a", label(a)), ("b", label(b))]
        self.fields["survivor"].initial = "a"
        self.fields["version_a"].initial, self.fields["version_b"].initial = a.version, b.version
        self.differing: list[str] = []
        self.same: list[tuple[str, str]] = []
        for name in fields:
            model_field = a._meta.get_field(name)
            value_a, value_b = _shown(a, name), _shown(b, name)
            if getattr(a, model_field.attname) == getattr(b, model_field.attname):
                self.same.append((_label(model_field), value_a))
                continue
            self.differing.append(name)
            self.fields[f"keep_{name}"] = forms.ChoiceField(
                label=_label(model_field),
                choices=[("a", value_a or "(blank)"), ("b", value_b or "(blank)")],
                widget=forms.RadioSelect,
                initial="b" if not value_a and value_b else "a",
            )

    def rows(self) -> list[dict]:
        rows = []
        for name in self.differing:
            bound = self[f"keep_{name}"]
            radios = list(bound)
            rows.append({"label": bound.label, "a": radios[0], "b": radios[1], "errors": bound.errors})
        return rows

    def merge_arguments(self) -> dict:
        """survivor, duplicate (with the versions the steward saw) and per-field choices."""
        keep_a = self.cleaned_data["survivor"] == "a"
        survivor, duplicate = (self.a, self.b) if keep_a else (self.b, self.a)
        survivor.version = self.cleaned_data["version_a" if keep_a else "version_b"]
        duplicate.version = self.cleaned_data["version_b" if keep_a else "version_a"]
        survivor_side = "a" if keep_a else "b"
        choices = {
            name: "survivor" if self.cleaned_data[f"keep_{name}"] == survivor_side else "duplicate"
            for name in self.differing
        }
        return {"survivor": survivor, "duplicate": duplicate, "choices": choices}


class HistoryFilterForm(forms.Form):
    """The History tab's filters; the field and person choices are those in the history."""

    field = forms.ChoiceField(label="Field", required=False)
    who = forms.ChoiceField(label="Person", required=False)
    since = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, changes, **kwargs):
        super().__init__(*args, **kwargs)
        labels = sorted({c.label for c in changes if c.label and c.label != "—"})
        people = sorted({c.who for c in changes})
        self.fields["field"].choices = [("", "Any field"), *((label, label) for label in labels)]
        self.fields["who"].choices = [("", "Anyone"), *((who, who) for who in people)]


class UndoMergeForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=300,
        help_text="Shown in History: why the merge was wrong.",
        widget=forms.TextInput(attrs={"placeholder": "e.g. two franchisees, not one client"}),
    )


def _label(model_field) -> str:
    name = str(model_field.verbose_name)
    return name[:1].upper() + name[1:]


def _shown(instance, name: str) -> str:
    model_field = instance._meta.get_field(name)
    value = getattr(instance, name)
    if value in (None, ""):
        return ""
    if model_field.is_relation:
        return value.get_full_name() or value.username if hasattr(value, "get_full_name") else str(value)
    if model_field.choices:
        return str(getattr(instance, f"get_{name}_display")())
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _raw(value):
    """A form value as the model stores it (a related object by its id, text stripped)."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, str):
        return value.strip()
    return value


def _blank(value):
    return None if value == "" else value


def conflict_form(form: OwnedFieldsForm, conflict, *, seen_version: int) -> OwnedFieldsForm:
    """The same form again after a conflict, ready to save with one click.

    It carries the record's new version. For each field someone else changed: if this person
    left it as they found it, it now holds the other person's value (saving must not put the
    old value back); if they typed something else, what they typed is kept. Either way the
    other person's value is shown beside the field (`form[name].theirs`).
    """
    model = type(form.instance)
    fresh = model._default_manager.get(pk=form.instance.pk)
    seen_record = fresh.history.filter(version=seen_version).order_by("-history_date", "-history_id").first()
    data = form.data.copy()
    data["version"] = str(conflict.current_version)
    kept_mine: set[str] = set()
    theirs = {change.field: change for change in conflict.changes if change.field in form.fields}
    for name in theirs:
        field = form.fields[name]
        if field.disabled:
            continue  # a read-only field shows the record's value anyway
        attname = model._meta.get_field(name).attname
        typed = _raw(form.cleaned_data.get(name))
        untouched = seen_record is not None and _blank(typed) == _blank(getattr(seen_record, attname))
        if untouched:
            current = getattr(fresh, attname)
            if isinstance(field, forms.BooleanField):
                data.pop(name, None)
                if current:
                    data[name] = "on"
            else:
                data[name] = "" if current is None else str(current)
        else:
            kept_mine.add(name)
    form_kwargs = {"user": form.user, "instance": fresh}
    if isinstance(form, ActivityForm):
        form_kwargs["account"] = fresh.account
    again = type(form)(data, **form_kwargs)
    again.conflict = conflict
    for name, change in theirs.items():
        bound = again[name]  # bound fields are cached per form, so the template sees these
        bound.theirs = change
        bound.mine_kept = name in kept_mine
    return again
