"""Statuses and kinds of the Xero reconciliation."""

from django.db import models


class InvoiceType(models.TextChoices):
    INVOICE = "invoice", "Sales invoice"
    CREDIT_NOTE = "credit_note", "Sales credit note"
    OVERPAYMENT = "overpayment", "Sales overpayment"
    OTHER = "other", "Other"


class InvoiceStatus(models.TextChoices):
    """Xero's API codes; the export's UI labels ("Awaiting Payment") map onto them."""

    DRAFT = "DRAFT", "Draft"
    SUBMITTED = "SUBMITTED", "Awaiting approval"
    AUTHORISED = "AUTHORISED", "Awaiting payment"
    PAID = "PAID", "Paid"
    VOIDED = "VOIDED", "Voided"
    DELETED = "DELETED", "Deleted"

    @classmethod
    def billed(cls) -> list[str]:
        """Statuses of an invoice the client has been billed by (approved, sent or paid)."""
        return [cls.AUTHORISED, cls.PAID]


class ImportKind(models.TextChoices):
    INVOICES = "invoices", "Sales invoices"
    CONTACTS = "contacts", "Contacts"


class RunStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    RUNNING = "running", "Running"
    PREVIEWED = "previewed", "Dry run finished"
    SUCCEEDED = "succeeded", "Imported"
    FAILED = "failed", "Failed"


class FileStatus(models.TextChoices):
    PREVIEWED = "previewed", "Previewed"
    IMPORTED = "imported", "Imported"
    REJECTED = "rejected", "Rejected (bad rows; nothing imported)"
    REFUSED = "refused", "Refused (not a Xero export)"


class MatchStatus(models.TextChoices):
    """Where a Xero contact stands against the CRM's accounts."""

    MATCHED = "matched", "Matched"
    HELD = "held", "Held for Finance"  # a loose or ambiguous match: a person decides
    UNMATCHED = "unmatched", "No account"  # listed, never dropped


class MatchMethod(models.TextChoices):
    CONTACT_ID = "contact_id", "Xero contact id on the account"
    ABN = "abn", "ABN (TaxNumber)"
    NAME = "name", "Name or alias"
    FINANCE = "finance", "Mapped by Finance"
    ORDER_ID = "order_id", "Order ID on an invoice"  # an invoice's Reference named an activated order

    @classmethod
    def settled(cls) -> list[str]:
        """Answers the automatic matching never revisits: a person's, or an order ID's."""
        return [cls.FINANCE, cls.ORDER_ID]


class Cause(models.TextChoices):
    VALUE = "value", "Contract value differs from what Xero bills"
    NOT_IN_CRM = "not_in_crm", "Xero bills a subscription the CRM lacks"
    NOT_BILLED = "not_billed", "Live subscription Xero has not billed"
    BILLED_AFTER_END = "billed_after_end", "Invoice for a lapsed or cancelled subscription"
    HANDOFF_NOT_INVOICED = "handoff_not_invoiced", "Activated order not invoiced"


class HandoffStatus(models.TextChoices):
    """Where an activated order's billing stands (the first billed invoice carrying its ID)."""

    AWAITING = "awaiting", "Awaiting first invoice"
    OVERDUE = "overdue", "Not invoiced (overdue)"  # past BILLING_HANDOFF_GRACE_DAYS after the start date
    INVOICED = "invoiced", "Invoiced"


class DiscrepancyStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Resolution(models.TextChoices):
    ACCEPT_XERO = "accept_xero", "Accept Xero's value"
    KEEP_CRM = "keep_crm", "Keep the CRM's value (Finance corrects Xero)"
    EXPLAINED = "explained", "Explained"
    SETTLED = "settled", "Settled (the figures now agree)"

    @classmethod
    def chosen_by_people(cls) -> list[tuple[str, str]]:
        return [(c.value, c.label) for c in (cls.ACCEPT_XERO, cls.KEEP_CRM, cls.EXPLAINED)]
