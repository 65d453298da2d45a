"""Forms of the support bridge: one ticket row of an import, and the small forms of the
lookup, the steward's mapping page and the owner's alerts."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from cloudcore_crm.lib.text import single_line
from customers.models import Account
from support_bridge import payloads
from support_bridge.payloads import PayloadError, TicketData

ROW_FIELDS = (
    "external_id",
    "subject",
    "status",
    "priority",
    "opened_at",
    "resolved_at",
    "closed_at",
    "updated_at",
    "resolution_hours",
    "satisfaction",
    "tags",
    "product",
    "email",
    "company",
    "customer_code",
    "organization_id",
)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel gives ticket ids as floats
    return str(single_line(str(value))).strip()  # one line: no CR, LF or control characters


def ticket_from_row(raw: dict[str, object], *, source: str, provenance: str) -> TicketData:
    """One imported row (canonical fields, cells as read) as a `TicketData`; raises
    ValidationError naming the problem. The form's validation, without the form, for
    importers that check thousands of rows a second."""
    external_id = _text(raw.get("external_id"))
    subject = _text(raw.get("subject"))
    if not external_id:
        raise ValidationError("The ticket id is empty.")
    if not subject:
        raise ValidationError("The subject is empty.")
    try:
        opened = payloads.moment_from(raw.get("opened_at"), required=True, label="the opened time")
        resolved = payloads.moment_from(raw.get("resolved_at"), label="the resolved time") or payloads.moment_from(
            raw.get("closed_at"), label="the closed time"
        )
        tags = payloads.tags_from(raw.get("tags"))
        survey_label = ""
        try:
            satisfaction = payloads.satisfaction_from(raw.get("satisfaction"))
        except payloads.UnknownSurveyLabel as unknown:
            satisfaction, survey_label = None, unknown.label[:200]  # a label never costs the ticket
        ticket = TicketData(
            source=source,
            external_id=external_id[:64],
            subject=subject[:300],
            status=payloads.status_from(raw.get("status")),
            priority=payloads.priority_from(raw.get("priority")),
            opened_at=opened,
            resolved_at=resolved,
            resolution_hours=payloads.hours_from(raw.get("resolution_hours"))
            or payloads.elapsed_hours(opened, resolved),
            satisfaction=satisfaction,
            customer_code=payloads.code_from(raw.get("customer_code")) or payloads.code_in_tags(tags),
            organization_id=_text(raw.get("organization_id"))[:64],
            company_name=_text(raw.get("company")),
            requester_email=_text(raw.get("email")).lower(),
            product_name=_text(raw.get("product")),
            updated_at=payloads.moment_from(raw.get("updated_at"), label="the last update time"),
            provenance=provenance[:300],
            tags=tags,
            survey_label=survey_label,
        )
    except PayloadError as error:
        raise ValidationError(str(error)) from None
    if _text(raw.get("customer_code")) and not ticket.customer_code:
        raise ValidationError(f"“{_text(raw.get('customer_code'))}” is not a client code like CC009.")
    if ticket.resolved_at and ticket.resolved_at < ticket.opened_at:
        raise ValidationError("The ticket was resolved before it was opened.")
    return ticket


class TicketRowForm(forms.Form):
    """Validates one imported row and turns it into a `TicketData` (`cleaned_data["ticket"]`).

    Fields take the cell values as read (text from a CSV, numbers and datetimes from Excel).
    """

    def __init__(self, data: dict[str, object], *, source: str, provenance: str):
        super().__init__(data={name: data.get(name) for name in ROW_FIELDS})
        self.source, self.provenance = source, provenance
        for name in ROW_FIELDS:
            self.fields[name] = forms.Field(required=False)

    def clean(self) -> dict:
        return {
            **self.cleaned_data,
            "ticket": ticket_from_row(self.cleaned_data, source=self.source, provenance=self.provenance),
        }

    def reason(self) -> str:
        return " ".join(message for messages in self.errors.values() for message in messages)


class AccountCodeField(forms.CharField):
    def clean(self, value):
        code = payloads.code_from(super().clean(value))
        account = Account.objects.filter(code=code).first() if code else None
        if account is None:
            raise ValidationError("Enter an existing client code, like CC009.")
        return account


class MapEventForm(forms.Form):
    account = AccountCodeField(label="Client code", max_length=12)
    reason = forms.CharField(max_length=300, help_text="Why this helpdesk organisation is this client.")


class AcknowledgeForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, help_text="What you are doing about it."
    )


class ConcernForm(forms.Form):
    message = forms.CharField(
        label="Concern for the account owner",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="What the owner should know before their next call.",
    )
