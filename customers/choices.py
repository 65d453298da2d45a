"""Statuses, stages and kinds for the golden record."""

from django.db import models


class Office(models.TextChoices):
    PERTH = "perth", "Perth"
    SYDNEY = "sydney", "Sydney"


class Segment(models.TextChoices):
    SMALL = "small", "Small business"
    MID = "mid", "Mid-market"
    ENTERPRISE = "enterprise", "Enterprise"


class Industry(models.TextChoices):
    PROFESSIONAL = "professional", "Professional services"
    HEALTH = "health", "Healthcare"
    MINING = "mining", "Mining & resources"
    RETAIL = "retail", "Retail"
    CONSTRUCTION = "construction", "Construction"
    EDUCATION = "education", "Education"
    FINANCE = "finance", "Financial services"
    LOGISTICS = "logistics", "Transport & logistics"
    HOSPITALITY = "hospitality", "Hospitality"
    GOVERNMENT = "government", "Government & not-for-profit"
    TECHNOLOGY = "technology", "Technology"
    MANUFACTURING = "manufacturing", "Manufacturing"
    OTHER = "other", "Other"


class LifecycleStatus(models.TextChoices):
    PROSPECT = "prospect", "Prospect"
    ONBOARDING = "onboarding", "Onboarding"
    ACTIVE = "active", "Active"
    CHURNED = "churned", "Churned"


class AustralianState(models.TextChoices):
    WA = "WA", "WA"
    NSW = "NSW", "NSW"
    VIC = "VIC", "VIC"
    QLD = "QLD", "QLD"
    SA = "SA", "SA"
    TAS = "TAS", "TAS"
    ACT = "ACT", "ACT"
    NT = "NT", "NT"


class ProductKind(models.TextChoices):
    PRODUCT = "product", "Product"
    SERVICE_LINE = "service_line", "Service line"


class SubscriptionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACTIVE = "active", "Active"
    CANCELLED = "cancelled", "Cancelled"
    LAPSED = "lapsed", "Lapsed"


class OpportunityStage(models.TextChoices):
    """The funnel of seed 003: suspect -> prospect -> qualified -> meeting -> proposal -> won/lost."""

    SUSPECT = "suspect", "Suspect"
    PROSPECT = "prospect", "Prospect"
    QUALIFIED = "qualified", "Qualified"
    MEETING = "meeting", "Meeting"
    PROPOSAL = "proposal", "Proposal"
    WON = "won", "Won"
    LOST = "lost", "Lost"

    @classmethod
    def open_stages(cls) -> list[str]:
        return [cls.SUSPECT, cls.PROSPECT, cls.QUALIFIED, cls.MEETING, cls.PROPOSAL]


class LostReason(models.TextChoices):
    """Why a deal was closed as lost: asked for on every close, so the funnel can say why."""

    PRICE = "price", "Price"
    COMPETITOR = "competitor", "Went with a competitor"
    NO_BUDGET = "no_budget", "No budget"
    NO_DECISION = "no_decision", "No decision"
    TIMING = "timing", "Timing"
    OTHER = "other", "Other"


class OpportunityKind(models.TextChoices):
    NEW_BUSINESS = "new", "New business"
    UPSELL = "upsell", "Upsell"
    RENEWAL = "renewal", "Renewal"


class OpportunitySource(models.TextChoices):
    REFERRAL = "referral", "Referral"
    WEBSITE = "website", "Website enquiry"
    EVENT = "event", "Event"
    OUTBOUND = "outbound", "Outbound"
    PARTNER = "partner", "Partner"
    EXISTING = "existing", "Existing customer"


class ActivityKind(models.TextChoices):
    NOTE = "note", "Note"
    CALL = "call", "Call"
    EMAIL = "email", "Email"
    MEETING = "meeting", "Meeting"
    TICKET = "ticket", "Support ticket"
    ALERT = "alert", "Alert"
    SYSTEM = "system", "System"


class AliasKind(models.TextChoices):
    NAME = "name", "Name variant"
    LEGACY_CODE = "legacy_code", "Legacy code"
    XERO_CONTACT = "xero_contact", "Xero contact id"
    HELPDESK_ORG = "helpdesk_org", "Helpdesk organisation id"
    ABN = "abn", "ABN"


class DuplicateStatus(models.TextChoices):
    """Where a candidate pair stands in the data stewards' review queue."""

    OPEN = "open", "Open"
    MERGED = "merged", "Merged"
    NOT_DUPLICATE = "not_duplicate", "Not a duplicate"
    SUPERSEDED = "superseded", "Superseded"  # one side was merged into a third record
