"""Upload and resolution forms for the steward import pages."""

from __future__ import annotations

from django import forms

from customers.choices import OpportunityStage
from migration.choices import Store
from migration.readers import MAX_FILE_BYTES

MAX_FILES = 20


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".xlsx,.csv"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        files = data if isinstance(data, list | tuple) else [data]
        if self.required and not [f for f in files if f]:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return [single(f, initial) for f in files if f]


class ImportUploadForm(forms.Form):
    files = MultipleFileField(
        label="Legacy files",
        help_text=(
            "Client master, Xero sales invoices, Outlook calendar, pipeline workbooks, Outlook "
            "contacts, helpdesk ticket export, support triage sheet (.xlsx, .csv)."
        ),
    )
    only = forms.MultipleChoiceField(
        choices=Store.choices, required=False, widget=forms.CheckboxSelectMultiple, label="Only these stores"
    )

    def clean_files(self):
        files = self.cleaned_data["files"]
        if len(files) > MAX_FILES:
            raise forms.ValidationError(f"Upload at most {MAX_FILES} files at a time.")
        for upload in files:
            if upload.size > MAX_FILE_BYTES:
                raise forms.ValidationError(f"{upload.name} is larger than {MAX_FILE_BYTES // 1024 // 1024} MB.")
        names = [f.name for f in files]
        if len(set(names)) != len(names):
            raise forms.ValidationError("Two files have the same name.")
        return files


class ConflictResolutionForm(forms.Form):
    apply_other = forms.TypedChoiceField(
        choices=[("0", "Keep the current value"), ("1", "Apply the other store's value")],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        initial="0",
    )
    reason = forms.CharField(max_length=300, help_text="Why? Shown in the customer's history.")


class ReviewResolutionForm(forms.Form):
    code = forms.CharField(
        label="Client code", max_length=12, help_text="The account this name belongs to, e.g. CC023."
    )


class EvidenceDecisionForm(forms.Form):
    """Customer Relations' answer on a subscription the import created from evidence."""

    decision = forms.ChoiceField(
        choices=[("confirmed", "Confirm"), ("corrected", "Correct"), ("dismissed", "Dismiss")], initial="confirmed"
    )
    product = forms.ModelChoiceField(queryset=None, required=False, help_text="Correct: the right product.")
    seats = forms.IntegerField(min_value=1, required=False)
    start_date = forms.DateField(required=False, input_formats=["%Y-%m-%d", "%d/%m/%Y"])
    renewal_date = forms.DateField(required=False, input_formats=["%Y-%m-%d", "%d/%m/%Y"])
    reason = forms.CharField(max_length=300, help_text="Why? Shown in the customer's history.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from customers.models import Product

        self.fields["product"].queryset = Product.objects.filter(is_active=True).order_by("name")
        _choices_read_once(self.fields["product"])


class HeldMappingForm(forms.Form):
    """A steward's mapping of a held value: a product, a user, a 0-10 score or a stage."""

    product = forms.ModelChoiceField(queryset=None, required=False)
    user = forms.ModelChoiceField(queryset=None, required=False)
    score = forms.IntegerField(min_value=0, max_value=10, required=False, help_text="Empty: the label is no rating.")
    stage = forms.ChoiceField(choices=[("", "Choose a stage"), *OpportunityStage.choices], required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from django.contrib.auth import get_user_model

        from customers.models import Product

        self.fields["product"].queryset = Product.objects.order_by("name")
        self.fields["user"].queryset = (
            get_user_model().objects.filter(is_active=True).order_by("first_name", "username")
        )
        _choices_read_once(self.fields["product"], self.fields["user"])


def _choices_read_once(*fields: forms.ModelChoiceField) -> None:
    """A queue page renders one form's select on every row: read its choices once (a
    model choice field queries again each time it is rendered). Validation still
    checks the submitted value against the queryset."""
    for field in fields:
        field.choices = list(field.choices)
