"""Forms of the reports app."""

from __future__ import annotations

from django import forms


class RefreezeForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": "Why the month's figures must be frozen again"}),
        help_text="Recorded with the re-freeze, and shown on the board pack.",
    )


class DigestPreferenceForm(forms.Form):
    weekly_digest = forms.BooleanField(required=False, label="Send me the weekly digest (Mondays, 07:00 Perth)")
