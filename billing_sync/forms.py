"""Forms of the Xero reconciliation pages."""

from __future__ import annotations

from django import forms

from billing_sync.choices import Resolution


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class XeroUploadForm(forms.Form):
    files = MultipleFileField(
        label="Xero exports (CSV)",
        help_text="The Sales Invoices export (Business > Invoices > Export) and/or the Contacts export.",
    )


class ResolveForm(forms.Form):
    resolution = forms.ChoiceField(choices=Resolution.chosen_by_people(), widget=forms.RadioSelect)
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    explained_until = forms.DateField(
        required=False,
        label="Explanation holds until (optional)",
        help_text="e.g. the end of a one-off discount; the case reopens after it if the figures still differ.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class MapContactForm(forms.Form):
    code = forms.CharField(label="Client code", max_length=12, widget=forms.TextInput(attrs={"placeholder": "CC023"}))
    reason = forms.CharField(max_length=200, required=False)
