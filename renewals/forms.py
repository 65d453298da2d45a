"""Forms of the renewal case page and the calendar feeds."""

from __future__ import annotations

from django import forms

from renewals import choices


class OutreachForm(forms.Form):
    kind = forms.ChoiceField(choices=choices.OutreachKind.choices, initial=choices.OutreachKind.CALL)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label="What was discussed")


class RenewForm(forms.Form):
    new_term_end = forms.DateField(label="New renewal date", widget=forms.DateInput(attrs={"type": "date"}))
    new_value = forms.DecimalField(
        label="New annual value (AUD)",
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text="Leave empty to keep the value. Owned by Finance.",
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)


class LoseForm(forms.Form):
    reason = forms.ChoiceField(choices=choices.LostReason.choices, label="Why was it lost?")
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)


class TokenForm(forms.Form):
    team = forms.BooleanField(required=False, label="Team feed (every open case)")
