"""The guided order form (one header, its lines) and the small forms of the queues."""

from __future__ import annotations

from django import forms

from customers.models import Account, Product, phone_validator
from onboarding.choices import ExceptionResolution, FailureReason, OrderStatus
from onboarding.models import Order, OrderLine

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class OrderForm(forms.ModelForm):
    """The order's header. Nothing is required to save a draft; submitting checks every
    required field and names the missing ones (services.missing_fields)."""

    account_code = forms.CharField(
        label="Existing client code",
        required=False,
        help_text="e.g. CC009. Leave empty for a new client and give its legal name below.",
    )

    class Meta:
        model = Order
        fields = [
            "new_client_name",
            "new_client_abn",
            "new_client_phone",
            "new_client_confirmed",
            "billing_contact_name",
            "billing_contact_email",
            "billing_contact_phone",
            "technical_contact_name",
            "technical_contact_email",
            "technical_contact_phone",
            "custom_requirements",
            "internal_notes",
        ]
        widgets = {
            "custom_requirements": forms.Textarea(attrs={"rows": 2}),
            "internal_notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
        for name in ("new_client_phone", "billing_contact_phone", "technical_contact_phone"):
            self.fields[name].validators.append(phone_validator)
        if self.instance.pk and self.instance.account_id and not self.is_bound:
            self.initial.setdefault("account_code", self.instance.account.code)

    sections = (
        ("Client", ("account_code", "new_client_name", "new_client_abn", "new_client_phone", "new_client_confirmed")),
        ("Billing contact", ("billing_contact_name", "billing_contact_email", "billing_contact_phone")),
        ("Technical contact", ("technical_contact_name", "technical_contact_email", "technical_contact_phone")),
        ("Requirements and notes", ("custom_requirements", "internal_notes")),
    )

    def grouped(self):
        return [(title, [self[name] for name in names]) for title, names in self.sections]

    def clean_account_code(self) -> Account | None:
        code = self.cleaned_data.get("account_code", "").strip().upper()
        if not code:
            return None
        account = Account.objects.active_records().filter(code=code).first()
        if account is None:
            raise forms.ValidationError(f"No client has the code {code}.")
        return account

    def values(self) -> dict:
        values = {name: self.cleaned_data[name] for name in self.Meta.fields}
        values["account"] = self.cleaned_data.get("account_code")
        return values


class OrderLineForm(forms.ModelForm):
    class Meta:
        model = OrderLine
        fields = [
            "product",
            "seats",
            "annual_value",
            "start_date",
            "term_months",
            "datavault_region",
            "datavault_quota_gb",
            "workspace_name",
        ]
        widgets = {"start_date": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(is_active=True)
        for field in self.fields.values():
            field.required = False
        self.fields["seats"].help_text = "CloudSync: the seats to provision."


LineFormSet = forms.formset_factory(OrderLineForm, extra=1, min_num=1, max_num=20, validate_min=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False, widget=forms.TextInput())


class ValidateForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False)
    use_account = forms.CharField(max_length=12, required=False, help_text="Attach to this existing client instead.")

    def clean_use_account(self) -> Account | None:
        code = self.cleaned_data.get("use_account", "").strip().upper()
        if not code:
            return None
        account = Account.objects.active_records().filter(code=code).first()
        if account is None:
            raise forms.ValidationError(f"No client has the code {code}.")
        return account


class OverrideForm(forms.Form):
    to_status = forms.ChoiceField(
        label="Set status to", choices=[c for c in OrderStatus.choices if c[0] != OrderStatus.DRAFT]
    )
    reason = forms.CharField(max_length=500)


class CompleteTaskForm(forms.Form):
    tenancy_ref = forms.CharField(label="Tenancy reference", max_length=120)
    note = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class FailTaskForm(forms.Form):
    reason_code = forms.ChoiceField(
        label="Reason", choices=[c for c in FailureReason.choices if c[0] != FailureReason.STUCK]
    )
    note = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))


class ResolveForm(forms.Form):
    resolution = forms.ChoiceField(choices=ExceptionResolution.choices)
    note = forms.CharField(max_length=1000)
