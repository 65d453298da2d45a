"""The CloudCore Networks demo world behind `manage.py seed_demo`.

A Perth + Sydney IT company with ~500 Australian SME clients. `plan_world` draws every
fact from `random.Random(seed)` (pure, no database); `migration.legacy_estate` renders the
plan as the legacy stores and `migration.demo` imports them and adds what they lack, so
every row has the history and provenance a real import would give it. Dates are drawn
relative to `today`, so the same seed on the same day gives the same world, and every
day's world has renewals due in the next 90 days.

All contact details are fictional: domains end in `.example` (RFC 2606) and phone numbers
come from the 5550 / 7010 blocks and the 0491 57x mobiles also used by the shared samples.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
import re
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractBaseUser, Group
from django.utils import timezone

from cloudcore_crm.roles import (
    CUSTOMER_RELATIONS,
    DATA_STEWARD,
    EXECUTIVE,
    FINANCE,
    PROVISIONING,
    ROLE_NAMES,
    SALES_MANAGER,
    SALES_REP,
    SUPPORT_AGENT,
)
from customers.choices import (
    ActivityKind,
    AustralianState,
    Industry,
    LifecycleStatus,
    Office,
    OpportunityKind,
    OpportunitySource,
    OpportunityStage,
    Segment,
    SubscriptionStatus,
)
from customers.matching import normalise_name
from customers.models import Account, AccountAlias, Activity, Contact, Opportunity, Subscription
from customers.validators import ABN_WEIGHTS

DEFAULT_SEED = 2026
ACCOUNT_COUNT = 500
NAME_ATTEMPTS = 200  # tries for an unused "<place> <trade>" name before combining two places
MOBILE_BLOCK_LIMIT = 8_000  # of the 10,000 numbers in 0491 57x xxx, the block demo mobiles use
REASON = "Demo world (seed_demo)"
STAFF_EMAIL_DOMAIN = "cloudcore.example"
OFFICE_TIMEZONES = {Office.PERTH: ZoneInfo("Australia/Perth"), Office.SYDNEY: ZoneInfo("Australia/Sydney")}

# --- Staff ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffMember:
    """One CloudCore employee with a demo login."""

    username: str
    first_name: str
    last_name: str
    role: str
    office: str = Office.PERTH

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


# The login named after each role. Bev kept the old customer register ("ask Bev").
ROLE_PERSONAS: dict[str, tuple[str, str, str]] = {
    SALES_REP: ("Chloe", "Bennett", Office.PERTH),
    SALES_MANAGER: ("Mark", "Thompson", Office.PERTH),
    SUPPORT_AGENT: ("Sam", "Lee", Office.PERTH),
    CUSTOMER_RELATIONS: ("Priya", "Sharma", Office.PERTH),
    FINANCE: ("David", "Chen", Office.PERTH),
    PROVISIONING: ("Ben", "Kowalski", Office.SYDNEY),
    DATA_STEWARD: ("Bev", "Morgan", Office.PERTH),
    EXECUTIVE: ("Michael", "Harris", Office.PERTH),
}

EXTRA_STAFF: tuple[StaffMember, ...] = (
    StaffMember("jnguyen", "James", "Nguyen", SALES_REP, Office.PERTH),
    StaffMember("hkelly", "Hannah", "Kelly", SALES_REP, Office.PERTH),
    StaffMember("omartin", "Olivia", "Martin", SALES_REP, Office.SYDNEY),
    StaffMember("drossi", "Daniel", "Rossi", SALES_REP, Office.SYDNEY),
    StaffMember("arahman", "Aisha", "Rahman", SALES_REP, Office.SYDNEY),
    StaffMember("fcampbell", "Fiona", "Campbell", CUSTOMER_RELATIONS, Office.PERTH),
    StaffMember("gliu", "Grace", "Liu", CUSTOMER_RELATIONS, Office.SYDNEY),
)


def demo_staff() -> list[StaffMember]:
    """One login per role (named after the role), then the extra reps and coordinators."""
    staff = []
    for role in ROLE_NAMES:
        # A role added later still gets a login, just without a persona name.
        first, last, office = ROLE_PERSONAS.get(role, (role.replace("_", " ").title(), "Demo", Office.PERTH))
        staff.append(StaffMember(role, first, last, role, office))
    return staff + list(EXTRA_STAFF)


def _staff_in(role: str, office: str | None = None) -> list[str]:
    return [s.username for s in demo_staff() if s.role == role and (office is None or s.office == office)]


# --- The plan -------------------------------------------------------------------------


@dataclass
class ContactPlan:
    first_name: str
    last_name: str
    title: str
    email: str
    phone: str
    is_primary: bool = False


@dataclass
class SubscriptionPlan:
    product: str
    seats: int
    annual_value: Decimal
    start_date: dt.date
    term_months: int
    renewal_date: dt.date | None
    status: str
    tenancy_ref: str


@dataclass
class OpportunityPlan:
    name: str
    kind: str
    product: str | None
    stage: str
    amount: Decimal
    expected_close: dt.date | None
    owner: str
    source: str


@dataclass
class ActivityPlan:
    kind: str
    actor: str
    summary: str
    occurred_at: dt.datetime
    detail: str = ""
    contact: int | None = None  # index into the account's contacts


@dataclass
class AliasPlan:
    value: str
    source: str


@dataclass
class AccountPlan:
    """Everything about one client, ready for the services."""

    number: int
    fields: dict[str, str]
    owner: str
    coordinator: str | None
    contacts: list[ContactPlan] = field(default_factory=list)
    subscriptions: list[SubscriptionPlan] = field(default_factory=list)
    opportunities: list[OpportunityPlan] = field(default_factory=list)
    activities: list[ActivityPlan] = field(default_factory=list)
    aliases: list[AliasPlan] = field(default_factory=list)


@dataclass
class _Identity:
    """Who a client is: the account fields plus the domain its people use."""

    legal_name: str
    trading_name: str
    abn: str
    industry: str
    segment: str
    office: str
    lifecycle_status: str
    street: str
    suburb: str
    state: str
    postcode: str
    phone: str
    domain: str
    website: str
    core: str = ""  # the trade in the name ("Dental Group"), reused for a plausible old name
    owner: str | None = None

    def account_fields(self) -> dict[str, str]:
        names = [
            "legal_name",
            "trading_name",
            "abn",
            "industry",
            "segment",
            "office",
            "lifecycle_status",
            "street",
            "suburb",
            "state",
            "postcode",
            "phone",
            "website",
        ]
        return {name: getattr(self, name) for name in names}

    @property
    def brand(self) -> str:
        return self.trading_name or _strip_suffix(self.legal_name)


# --- Word lists -----------------------------------------------------------------------

PERTH_PLACES = (
    "Swan River", "Kings Park", "Fremantle", "Cottesloe", "Rottnest", "Darling Range", "Pilbara", "Kimberley",
    "Goldfields", "Karri", "Jarrah", "Marri", "Banksia", "Quokka", "Black Swan", "Indian Ocean", "Sunset Coast",
    "Canning", "Avon Valley", "Margaret River", "Leeuwin", "Matilda Bay", "Westralia", "Great Southern", "Boab",
    "Wheatbelt", "Coral Coast", "Heirisson", "Perth Hills", "Coastal Plain",
)  # fmt: skip
SYDNEY_PLACES = (
    "Harbourside", "Bondi", "Manly", "Parramatta", "Blue Mountains", "Hawkesbury", "Sandstone", "Illawarra",
    "Hunter Valley", "Botany Bay", "Circular Quay", "Northern Beaches", "Lane Cove", "Macquarie", "Southern Highlands",
    "Georges River", "Nepean", "Waratah", "Jacaranda", "Port Jackson", "Kurrajong", "Cockle Bay", "Middle Harbour",
    "Pittwater", "Hills District", "Sutherland", "Cronulla", "Balmain", "Rosehill", "Eastern Suburbs",
)  # fmt: skip
SHARED_PLACES = (
    "Southern Cross", "Red Gum", "Ironbark", "Wattle", "Coastal", "Summit", "Keystone", "Pinnacle", "Horizon",
    "Northstar", "Greenfield", "Silverleaf", "Brightwater", "Clearwater", "Redwood", "Saltbush", "Tasman",
    "Outback", "Kookaburra", "Emu Point", "Platypus", "Coolabah", "Seaview", "Highgate", "Riverside",
)  # fmt: skip

INDUSTRY_CORES: dict[str, tuple[str, ...]] = {
    Industry.PROFESSIONAL: (
        "Accountants", "Legal", "Lawyers", "Consulting", "Architects", "Engineering Consultants", "Surveying",
        "Recruitment", "Advisory", "Town Planning",
    ),
    Industry.HEALTH: (
        "Dental Group", "Physiotherapy", "Medical Centre", "Veterinary Hospital", "Allied Health", "Podiatry",
        "Eye Care", "Family Practice", "Psychology", "Radiology",
    ),
    Industry.MINING: (
        "Drilling", "Mining Services", "Resources", "Minerals", "Geoscience", "Exploration", "Mine Maintenance",
        "Plant Hire",
    ),
    Industry.RETAIL: (
        "Outdoor Supplies", "Home & Garden", "Pharmacy", "Cycles", "Furniture", "Surf Co", "Pet Supplies",
        "Bookshop", "Homewares", "Wine Merchants",
    ),
    Industry.CONSTRUCTION: (
        "Builders", "Constructions", "Civil", "Electrical", "Plumbing", "Roofing", "Homes", "Joinery", "Scaffolding",
        "Air Conditioning",
    ),
    Industry.EDUCATION: (
        "Early Learning", "Training College", "Tutoring", "Montessori", "Language School", "Music School",
        "Childcare Centres",
    ),
    Industry.FINANCE: (
        "Mortgage Brokers", "Wealth", "Financial Planning", "Insurance Brokers", "Capital", "Tax Advisers",
        "Super Consultants",
    ),
    Industry.LOGISTICS: (
        "Freight", "Logistics", "Transport", "Couriers", "Cold Chain", "Warehousing", "Removals", "Haulage",
    ),
    Industry.HOSPITALITY: (
        "Hotel", "Catering", "Brewing Co", "Cafe Group", "Hospitality Group", "Restaurants", "Function Centre",
        "Distillery",
    ),
    Industry.GOVERNMENT: (
        "Community Services", "Aged Care", "Foundation", "Disability Services", "Youth Services",
        "Community Legal Centre", "Landcare", "Housing Association",
    ),
    Industry.TECHNOLOGY: ("Software", "Digital", "Systems", "Labs", "Data", "Web Studio", "Robotics", "Telecom"),
    Industry.MANUFACTURING: (
        "Engineering", "Fabrication", "Plastics", "Packaging", "Foods", "Steel", "Signs", "Printing",
    ),
    Industry.OTHER: ("Group", "Holdings", "Enterprises", "Services", "Trading"),
}  # fmt: skip

INDUSTRY_WEIGHTS: dict[str, int] = {
    Industry.PROFESSIONAL: 18,
    Industry.HEALTH: 12,
    Industry.MINING: 7,
    Industry.RETAIL: 9,
    Industry.CONSTRUCTION: 10,
    Industry.EDUCATION: 6,
    Industry.FINANCE: 7,
    Industry.LOGISTICS: 7,
    Industry.HOSPITALITY: 6,
    Industry.GOVERNMENT: 5,
    Industry.TECHNOLOGY: 6,
    Industry.MANUFACTURING: 5,
    Industry.OTHER: 2,
}
TRIMMED_IN_TRADING_NAMES = {"Group", "Centres", "Hospital", "Co", "Services"}
# Partnerships are named after people ("Kelly & Nguyen Lawyers").
SURNAME_STYLE_INDUSTRIES = {Industry.PROFESSIONAL, Industry.FINANCE, Industry.HEALTH, Industry.CONSTRUCTION}

FIRST_NAMES = (
    "Jack", "Oliver", "William", "Noah", "Thomas", "James", "Lucas", "Henry", "Ethan", "Liam", "Samuel", "Daniel",
    "Matthew", "Joshua", "Ryan", "Nathan", "Adam", "Luke", "Michael", "Andrew", "Peter", "Paul", "Mark", "Stephen",
    "Rajesh", "Arjun", "Vikram", "Wei", "Jun", "Minh", "Duc", "Hiroshi", "Mohammed", "Omar", "Ali", "Marco",
    "Luca", "Nikos", "Tomasz", "Connor", "Charlotte", "Olivia", "Amelia", "Isla", "Mia", "Ava", "Grace", "Chloe",
    "Sophie", "Emily", "Ruby", "Zoe", "Hannah", "Jessica", "Sarah", "Rebecca", "Laura", "Michelle", "Karen",
    "Natalie", "Megan", "Priya", "Ananya", "Neha", "Mei", "Lin", "Thi", "Linh", "Yuki", "Fatima", "Aisha", "Layla",
    "Sofia", "Giulia", "Elena", "Maria", "Anna", "Kate", "Lucy", "Georgia", "Bronwyn", "Kylie", "Leanne", "Tegan",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Johnson", "White", "Martin", "Anderson",
    "Thompson", "Walker", "Harris", "Ryan", "Robinson", "King", "Wright", "Hughes", "Edwards", "Green", "Wood",
    "Clarke", "Campbell", "Mitchell", "Scott", "Morris", "Cooper", "Ward", "Turner", "Hall", "Evans", "Bell",
    "Baker", "Young", "Lewis", "Watson", "Kennedy", "Murray", "Graham", "Stewart", "Fraser", "Hill", "Walsh",
    "Byrne", "Doyle", "McDonald", "McKenzie", "Sullivan", "O'Neill", "O'Brien", "Murphy", "Kelly", "Nguyen",
    "Tran", "Le", "Pham", "Chen", "Wong", "Zhang", "Wang", "Li", "Liu", "Huang", "Singh", "Kaur", "Patel",
    "Sharma", "Gupta", "Khan", "Ahmed", "Hassan", "Ali", "Silva", "Fernandes", "Costa", "Russo", "Rossi",
    "Romano", "Papadopoulos", "Georgiou", "Kowalski", "Novak", "Jensen", "Larsen", "Park", "Kim", "Tanaka",
    "Reyes", "Santos", "Cruz", "Dimitriou", "Vella", "Borg", "Zammit", "Hoang", "Vu", "Yilmaz", "Haddad",
)  # fmt: skip

PRIMARY_TITLES = (
    "Director", "Managing Director", "Office Manager", "Practice Manager", "Operations Manager", "General Manager",
    "Owner", "Business Manager",
)  # fmt: skip
OTHER_TITLES = (
    "Finance Manager", "Accounts Payable Officer", "IT Coordinator", "IT Manager", "Bookkeeper",
    "Operations Coordinator", "HR Manager", "Reception", "Chief Financial Officer", "Head of IT",
    "Compliance Officer", "Site Manager", "Executive Assistant", "Procurement Officer",
)  # fmt: skip

# (suburb, postcode) pairs: real suburbs, so addresses look right on a map.
PERTH_SUBURBS = (
    ("Perth", "6000"), ("West Perth", "6005"), ("East Perth", "6004"), ("Northbridge", "6003"),
    ("Osborne Park", "6017"), ("Malaga", "6090"), ("Subiaco", "6008"), ("Balcatta", "6021"), ("Joondalup", "6027"),
    ("Fremantle", "6160"), ("Welshpool", "6106"), ("Kewdale", "6105"), ("Belmont", "6104"),
    ("Canning Vale", "6155"), ("Bibra Lake", "6163"), ("O'Connor", "6163"), ("Myaree", "6154"), ("Nedlands", "6009"),
    ("Claremont", "6010"), ("Midland", "6056"), ("Wangara", "6065"), ("Rockingham", "6168"), ("Mandurah", "6210"),
    ("Victoria Park", "6100"), ("South Perth", "6151"), ("Leederville", "6007"), ("Scarborough", "6019"),
    ("Cannington", "6107"), ("Bunbury", "6230"), ("Karratha", "6714"), ("Kalgoorlie", "6430"),
    ("Port Hedland", "6721"),
)  # fmt: skip
SYDNEY_SUBURBS = (
    ("Sydney", "2000"), ("Pyrmont", "2009"), ("Ultimo", "2007"), ("Surry Hills", "2010"), ("North Sydney", "2060"),
    ("Chatswood", "2067"), ("Parramatta", "2150"), ("Macquarie Park", "2113"), ("Alexandria", "2015"),
    ("Mascot", "2020"), ("Bondi Junction", "2022"), ("Crows Nest", "2065"), ("St Leonards", "2065"),
    ("Ryde", "2112"), ("Homebush", "2140"), ("Silverwater", "2128"), ("Castle Hill", "2154"),
    ("Norwest", "2153"), ("Liverpool", "2170"), ("Penrith", "2750"), ("Blacktown", "2148"), ("Hornsby", "2077"),
    ("Brookvale", "2100"), ("Manly", "2095"), ("Newtown", "2042"), ("Wetherill Park", "2164"),
    ("Newcastle", "2300"), ("Wollongong", "2500"), ("Gosford", "2250"),
)  # fmt: skip
PERTH_STREETS = (
    "Hay Street", "Murray Street", "St Georges Terrace", "Walters Drive", "Scarborough Beach Road", "Hasler Road",
    "Sheffield Road", "Welshpool Road", "Great Eastern Highway", "Canning Highway", "Railway Parade",
    "Stirling Highway", "Rokeby Road", "Oxford Street", "Beaufort Street", "Wanneroo Road", "Guthrie Street",
    "Collier Road", "Leach Highway", "Hutton Street",
)  # fmt: skip
SYDNEY_STREETS = (
    "George Street", "Pitt Street", "Harris Street", "Pacific Highway", "Church Street", "Victoria Road",
    "Parramatta Road", "Miller Street", "O'Riordan Street", "Botany Road", "Waterloo Road", "Epping Road",
    "Oxford Street", "King Street", "Crown Street", "Military Road", "Old Northern Road", "Norwest Boulevard",
    "Hume Highway", "Pittwater Road",
)  # fmt: skip

OFFICE_AREA = {Office.PERTH: ("08", AustralianState.WA), Office.SYDNEY: ("02", AustralianState.NSW)}
LANDLINE_BLOCKS = ("5550", "7010")


@dataclass(frozen=True)
class ProductPrice:
    """How one product is sold: a price per unit per year and typical units per segment."""

    name: str
    prefix: str  # of tenancy references, e.g. DV-PER-00123
    unit: str
    unit_price: int
    seats: dict[str, tuple[int, int]]
    popularity: int


PRODUCTS: dict[str, ProductPrice] = {
    "datavault": ProductPrice(
        "DataVault", "DV", "seats", 480, {"small": (12, 40), "mid": (40, 125), "enterprise": (120, 300)}, 22
    ),
    "analytics-pro": ProductPrice(
        "Analytics Pro", "AP", "users", 1200, {"small": (3, 10), "mid": (10, 30), "enterprise": (30, 80)}, 8
    ),
    "cloudsync": ProductPrice(
        "CloudSync", "CS", "users", 180, {"small": (10, 50), "mid": (50, 200), "enterprise": (200, 800)}, 20
    ),
    "cloud-hosting": ProductPrice(
        "Cloud Hosting", "CH", "VMs", 3600, {"small": (1, 4), "mid": (4, 15), "enterprise": (15, 40)}, 10
    ),
    "managed-services": ProductPrice(
        "Managed Services", "MS", "endpoints", 600, {"small": (10, 60), "mid": (60, 250), "enterprise": (250, 600)}, 25
    ),
    "security-compliance": ProductPrice(
        "Security & Compliance",
        "SC",
        "users",
        360,
        {"small": (15, 60), "mid": (60, 200), "enterprise": (200, 500)},
        15,
    ),
}

SUBSCRIPTIONS_PER_SEGMENT = {
    Segment.SMALL: {1: 25, 2: 35, 3: 28, 4: 12},
    Segment.MID: {2: 20, 3: 35, 4: 30, 5: 15},
    Segment.ENTERPRISE: {3: 15, 4: 30, 5: 35, 6: 20},
}
CONTACTS_PER_SEGMENT = {
    Segment.SMALL: {1: 12, 2: 28, 3: 32, 4: 18, 5: 10},
    Segment.MID: {2: 10, 3: 30, 4: 35, 5: 25},
    Segment.ENTERPRISE: {3: 10, 4: 35, 5: 55},
}
STAGE_WEIGHTS = {
    OpportunityKind.NEW_BUSINESS: {"suspect": 18, "prospect": 18, "qualified": 15, "meeting": 12, "proposal": 10,
                                   "won": 15, "lost": 12},
    OpportunityKind.UPSELL: {"suspect": 8, "prospect": 12, "qualified": 18, "meeting": 15, "proposal": 17,
                             "won": 18, "lost": 12},
}  # fmt: skip
NEW_BUSINESS_SOURCES = {
    OpportunitySource.REFERRAL: 25,
    OpportunitySource.WEBSITE: 25,
    OpportunitySource.EVENT: 12,
    OpportunitySource.OUTBOUND: 23,
    OpportunitySource.PARTNER: 15,
}

ACTIVITY_TEMPLATES: dict[str, tuple[str, ...]] = {
    ActivityKind.CALL: (
        "Quarterly check-in call with {first}",
        "Called {first} about the {product} renewal",
        "Follow-up call with {first}: {product} {unit}",
        "Called {first} to confirm the new financial year budget",
        "Returned {first}'s call about an invoice query",
    ),
    ActivityKind.MEETING: (
        "On-site review at the {suburb} office",
        "Quarterly business review with {first} {last}",
        "Demo of Analytics Pro for {first}",
        "Roadmap workshop: Microsoft 365, backups and security",
        "Coffee catch-up with {first} {last} ({title})",
    ),
    ActivityKind.EMAIL: (
        "Sent renewal quote for {product}",
        "Emailed the onboarding checklist to {first}",
        "Sent security awareness training options to {first}",
        "Sent {first} the case study on DataVault restores",
    ),
    ActivityKind.NOTE: (
        "Prefers invoices by email to accounts payable",
        "Office move planned next financial year: check connectivity early",
        "Decision maker is {first} {last} ({title})",
        "Budget approvals happen in May and June (end of financial year)",
        "Asked about Essential Eight for their cyber insurance renewal",
    ),
}
ACTIVITY_DETAILS = (
    "",
    "",
    "Happy with the service overall; wants a review of licence counts before renewal.",
    "Will come back to us after their board meeting.",
    "Mentioned a competitor quote; price is not the main concern, response times are.",
    "Agreed next steps in writing.",
)


# --- Drawing --------------------------------------------------------------------------


def _weighted(rng: random.Random, weights: dict) -> object:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _strip_suffix(name: str) -> str:
    return re.sub(r"\s+(Pty Ltd|Ltd|Inc)$", "", name)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower().replace("&", "and"))


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus whole months, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def make_abn(rng: random.Random) -> str:
    """An ABN that passes the ATO checksum: nine random digits, then the two check digits.

    The weighted sum must be divisible by 89; 10 * (first - 1) + second covers 0..89, so
    one pair of leading digits always works.
    """
    body = [rng.randint(0, 9) for _ in range(9)]
    check = -sum(w * n for w, n in zip(ABN_WEIGHTS[2:], body, strict=True)) % 89
    return f"{check // 10 + 1}{check % 10}" + "".join(map(str, body))


class _World:
    """The random source plus what is already taken, so names, ABNs and phones stay unique
    (duplicates are reserved for the cases the demo means to show)."""

    def __init__(self, seed: int, today: dt.date) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.names: set[str] = set()
        self.domains: set[str] = set()
        self.abns: set[str] = set()
        self.phones: set[str] = set()
        self.mobiles_drawn = 0
        self.tenancy_numbers: dict[str, int] = {}

    def reserve(self, *, names: tuple[str, ...] = (), abns: tuple[str, ...] = (), phones: tuple[str, ...] = ()):
        self.names.update(normalise_name(n) for n in names)
        self.abns.update(abns)
        self.phones.update(phones)

    def abn(self) -> str:
        while True:
            abn = make_abn(self.rng)
            if abn not in self.abns:
                self.abns.add(abn)
                return abn

    def landline(self, office: str) -> str:
        area = OFFICE_AREA[office][0]
        while True:
            number = f"{area} {self.rng.choice(LANDLINE_BLOCKS)} {self.rng.randint(0, 9999):04d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def mobile(self) -> str:
        while True:
            digits = f"049157{self.rng.randint(0, 9999):04d}"
            if self.mobiles_drawn >= MOBILE_BLOCK_LIMIT:
                # A world bigger than the demo's has used up that block: draw from its neighbours.
                digits = f"04915{self.rng.randint(0, 99999):05d}"
            if digits not in self.phones:
                self.phones.add(digits)
                self.mobiles_drawn += 1
                break
        style = self.rng.random()
        # Mostly the house format; the rest as people really type them.
        if style < 0.9:
            return f"{digits[:4]} {digits[4:7]} {digits[7:]}"
        if style < 0.95:
            return digits
        return f"+61 {digits[1:4]} {digits[4:7]} {digits[7:]}"

    def tenancy_ref(self, product: str, office: str) -> str:
        number = self.tenancy_numbers.get(product, 100) + self.rng.randint(1, 7)
        self.tenancy_numbers[product] = number
        city = "PER" if office == Office.PERTH else "SYD"
        return f"{PRODUCTS[product].prefix}-{city}-{number:05d}"

    def moment(self, office: str, days_ago: int) -> dt.datetime:
        """A weekday business-hours moment `days_ago` (or a little more) before today."""
        day = self.today - dt.timedelta(days=max(days_ago, 1))
        while day.weekday() >= 5:
            day -= dt.timedelta(days=1)
        time = dt.time(self.rng.randint(8, 16), self.rng.choice((0, 10, 15, 30, 40, 45)))
        return dt.datetime.combine(day, time, tzinfo=OFFICE_TIMEZONES[office])


def _identity(w: _World) -> _Identity:
    rng = w.rng
    office = Office.PERTH if rng.random() < 0.6 else Office.SYDNEY
    industry = _weighted(rng, INDUSTRY_WEIGHTS)
    segment = _weighted(rng, {Segment.SMALL: 75, Segment.MID: 20, Segment.ENTERPRISE: 5})
    if industry == Industry.MINING and segment == Segment.SMALL and rng.random() < 0.4:
        segment = Segment.MID  # resources clients run bigger sites
    lifecycle = _weighted(
        rng,
        {
            LifecycleStatus.ACTIVE: 86,
            LifecycleStatus.ONBOARDING: 5,
            LifecycleStatus.PROSPECT: 5,
            LifecycleStatus.CHURNED: 4,
        },
    )
    places = (PERTH_PLACES if office == Office.PERTH else SYDNEY_PLACES) + SHARED_PLACES
    attempts = 0
    while True:
        attempts += 1
        core = rng.choice(INDUSTRY_CORES[industry])
        if industry in SURNAME_STYLE_INDUSTRIES and rng.random() < 0.3:
            first, second = rng.sample(LAST_NAMES, 2)
            brand = f"{first} & {second} {core}" if rng.random() < 0.6 else f"{first} {core}"
        elif attempts > NAME_ATTEMPTS:
            # A world far bigger than the demo's has used every "<place> <trade>" name.
            first, second = rng.sample(places, 2)
            brand = f"{first} & {second} {core}"
        else:
            brand = f"{rng.choice(places)} {core}"
        if normalise_name(brand) not in w.names:
            w.names.add(normalise_name(brand))
            break
    trading_name = ""
    if industry == Industry.GOVERNMENT:
        legal_name = f"{brand} {rng.choice(('Inc', 'Inc', 'Ltd'))}"
    elif rng.random() < 0.06:
        # Many family businesses trade through a trust or a company named after the owners.
        surname = rng.choice(LAST_NAMES)
        legal_name = (
            f"The Trustee for the {surname} Family Trust"
            if rng.random() < 0.5
            else f"{rng.choice('ABCDJKMPRST')} & {rng.choice('ABCDJKMPRST')} {surname} Pty Ltd"
        )
        if normalise_name(legal_name) in w.names:
            legal_name = f"{brand} Pty Ltd"
        else:
            trading_name = brand
    else:
        legal_name = f"{brand} Pty Ltd"
        words = brand.split()
        if words[-1] in TRIMMED_IN_TRADING_NAMES and len(words) > 2 and rng.random() < 0.5:
            trading_name = " ".join(words[:-1])  # "Swan River Dental Group" trades as "Swan River Dental"
    w.names.add(normalise_name(legal_name))

    suburb, postcode = rng.choice(PERTH_SUBURBS if office == Office.PERTH else SYDNEY_SUBURBS)
    street_name = rng.choice(PERTH_STREETS if office == Office.PERTH else SYDNEY_STREETS)
    unit = rng.choice(("", "", "", f"Unit {rng.randint(1, 20)}, ", f"Level {rng.randint(1, 12)}, ", "Suite 4, "))
    domain = _slug(trading_name or brand) + ".example"
    while domain in w.domains:
        domain = _slug(trading_name or brand) + str(rng.randint(2, 99)) + ".example"
    w.domains.add(domain)
    phone = w.landline(office)
    if rng.random() < 0.1:
        phone = f"({phone[:2]}) {phone[3:]}"
    return _Identity(
        legal_name=legal_name,
        trading_name=trading_name,
        abn=w.abn() if rng.random() < 0.93 else "",  # a few never gave us their ABN
        industry=industry,
        segment=segment,
        office=office,
        lifecycle_status=lifecycle,
        street=f"{unit}{rng.randint(1, 400)} {street_name}",
        suburb=suburb,
        state=OFFICE_AREA[office][1],
        postcode=postcode,
        phone=phone,
        domain=domain,
        website=f"https://www.{domain}" if rng.random() < 0.9 else "",
        core=core,
    )


def _contacts(w: _World, identity: _Identity) -> list[ContactPlan]:
    rng = w.rng
    count = _weighted(rng, CONTACTS_PER_SEGMENT[identity.segment])
    if identity.lifecycle_status == LifecycleStatus.PROSPECT:
        count = min(count, 2)
    people: list[ContactPlan] = []
    used: set[tuple[str, str]] = set()
    emails: set[str] = set()
    while len(people) < count:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        if (first, last) in used:
            continue
        used.add((first, last))
        primary = not people
        title = rng.choice(PRIMARY_TITLES if primary else OTHER_TITLES)
        email = f"{_slug(first)}.{_slug(last)}@{identity.domain}"
        short = f"{_slug(first[0] + last)}@{identity.domain}"
        if rng.random() < 0.2 and short not in emails:
            email = short  # "jsmith@" is as common as "john.smith@"
        if title == "Accounts Payable Officer" and rng.random() < 0.5 and f"accounts@{identity.domain}" not in emails:
            email = f"accounts@{identity.domain}"  # the shared inbox, as Xero knows it
        elif rng.random() < 0.03:
            email = ""  # some contacts never gave one: a data-quality gap to find
        roll = rng.random()
        phone = w.mobile() if roll < 0.6 else w.landline(identity.office) if roll < 0.92 else ""
        emails.add(email)
        people.append(ContactPlan(first, last, title, email, phone, is_primary=primary))
    return people


def _term_end(start: dt.date, term: int, status: str, today: dt.date) -> dt.date:
    """The renewal date: the end of the current term for live subscriptions (rolled on while
    it is more than 30 days overdue), the end of the last finished term for dead ones."""
    k = 1
    if status in (SubscriptionStatus.CANCELLED, SubscriptionStatus.LAPSED):
        while add_months(start, term * (k + 1)) <= today:
            k += 1
        return add_months(start, term * k)
    while add_months(start, term * k) < today - dt.timedelta(days=30):
        k += 1
    return add_months(start, term * k)


def _value(rng: random.Random, product: str, seats: int) -> Decimal:
    # A negotiated discount of up to 15%, rounded to whole tens like the quotes are.
    raw = PRODUCTS[product].unit_price * seats * rng.uniform(0.85, 1.0)
    return Decimal(round(raw / 10) * 10)


def _subscriptions(w: _World, identity: _Identity) -> list[SubscriptionPlan]:
    rng = w.rng
    lifecycle = identity.lifecycle_status
    if lifecycle == LifecycleStatus.PROSPECT:
        return []
    count = _weighted(rng, SUBSCRIPTIONS_PER_SEGMENT[identity.segment])
    if lifecycle == LifecycleStatus.ONBOARDING:
        count = min(count, 2)
    chosen: list[str] = []
    while len(chosen) < count:
        product = _weighted(rng, {code: p.popularity for code, p in PRODUCTS.items() if code not in chosen})
        chosen.append(product)
    plans = []
    for product in chosen:
        if lifecycle == LifecycleStatus.ONBOARDING:
            status = SubscriptionStatus.PENDING
        elif lifecycle == LifecycleStatus.CHURNED:
            status = _weighted(rng, {SubscriptionStatus.CANCELLED: 70, SubscriptionStatus.LAPSED: 30})
        else:
            status = _weighted(
                rng,
                {
                    SubscriptionStatus.ACTIVE: 92,
                    SubscriptionStatus.CANCELLED: 4,
                    SubscriptionStatus.PENDING: 3,
                    SubscriptionStatus.LAPSED: 1,
                },
            )
        term = _weighted(rng, {12: 55, 24: 25, 36: 20})
        if status == SubscriptionStatus.PENDING:
            start = w.today + dt.timedelta(days=rng.randint(-14, 30))
            renewal: dt.date | None = add_months(start, term)
        else:
            start = w.today - dt.timedelta(days=rng.randint(365, 4 * 365))
            renewal = _term_end(start, term, status, w.today)
        if status == SubscriptionStatus.ACTIVE and rng.random() < 0.01:
            renewal = None  # nobody typed it in: the renewals page must flag these, not drop them
        low, high = PRODUCTS[product].seats[identity.segment]
        seats = rng.randint(low, high)
        plans.append(
            SubscriptionPlan(
                product=product,
                seats=seats,
                annual_value=_value(rng, product, seats),
                start_date=start,
                term_months=term,
                renewal_date=renewal,
                status=status,
                # Provisioning fills the tenancy in once the service is live.
                tenancy_ref="" if status == SubscriptionStatus.PENDING else w.tenancy_ref(product, identity.office),
            )
        )
    return plans


def _other_rep(w: _World, owner: str, office: str) -> str:
    reps = [r for r in _staff_in(SALES_REP, office) if r != owner]
    return w.rng.choice(reps) if reps else owner


def _renewal_term(sub: SubscriptionPlan, today: dt.date) -> dt.date | None:
    """The term end a renewal deal is about: the coming one for a live subscription, the
    last one renewed when the next is far off, or the one that was lost."""
    if sub.renewal_date is None or sub.status == SubscriptionStatus.PENDING:
        return None
    if sub.status != SubscriptionStatus.ACTIVE or sub.renewal_date <= today + dt.timedelta(days=180):
        return sub.renewal_date
    previous = add_months(sub.renewal_date, -sub.term_months)
    return previous if sub.start_date < previous < today else None


def _renewal_deal(w: _World, sub: SubscriptionPlan, owner: str) -> OpportunityPlan:
    term_end = _renewal_term(sub, w.today)
    assert term_end is not None
    if sub.status != SubscriptionStatus.ACTIVE:
        stage = OpportunityStage.LOST  # why the subscription was cancelled or lapsed
    elif term_end < w.today - dt.timedelta(days=30):
        stage = OpportunityStage.WON
    else:
        stage = _weighted(
            w.rng, {OpportunityStage.QUALIFIED: 25, OpportunityStage.MEETING: 25, OpportunityStage.PROPOSAL: 50}
        )
    return OpportunityPlan(
        name=f"{PRODUCTS[sub.product].name} renewal {term_end:%b %Y}",
        kind=OpportunityKind.RENEWAL,
        product=sub.product,
        stage=stage,
        amount=sub.annual_value,
        expected_close=term_end,
        owner=owner,
        source=OpportunitySource.EXISTING,
    )


def _sales_deal(w: _World, identity: _Identity, kind: str, held: set[str], owner: str, first: bool) -> OpportunityPlan:
    """A new-business, cross-sell or more-seats deal somewhere in the funnel."""
    rng = w.rng
    lifecycle = identity.lifecycle_status
    stage = _weighted(rng, STAGE_WEIGHTS[kind])
    if lifecycle == LifecycleStatus.ONBOARDING and first:
        stage = OpportunityStage.WON  # the deal that made them a client
    elif lifecycle == LifecycleStatus.PROSPECT and stage == OpportunityStage.WON:
        stage = OpportunityStage.PROPOSAL  # a won deal would have made them a client
    segment = identity.segment
    if kind == OpportunityKind.UPSELL and held and rng.random() < 0.6:
        product = rng.choice(sorted(held))
        low, high = PRODUCTS[product].seats[segment]
        extra = max(1, rng.randint(low, high) // 3)
        amount = _value(rng, product, extra)
        name = f"{PRODUCTS[product].name}: {extra} more {PRODUCTS[product].unit}"
    else:
        product = rng.choice(sorted(set(PRODUCTS) - held) or sorted(PRODUCTS))
        low, high = PRODUCTS[product].seats[segment]
        amount = _value(rng, product, rng.randint(low, high))
        label = "cross-sell" if kind == OpportunityKind.UPSELL else "new business"
        if lifecycle == LifecycleStatus.CHURNED:
            label = "win-back"
        name = f"{PRODUCTS[product].name} {label}"
    if lifecycle == LifecycleStatus.ONBOARDING and first:
        close = w.today - dt.timedelta(days=rng.randint(3, 45))
    elif stage in (OpportunityStage.WON, OpportunityStage.LOST):
        close = w.today - dt.timedelta(days=rng.randint(5, 300))
    else:
        close = w.today + dt.timedelta(days=rng.randint(-20, 150))  # some have slipped
    new_client = kind == OpportunityKind.NEW_BUSINESS and lifecycle in (
        LifecycleStatus.PROSPECT,
        LifecycleStatus.ONBOARDING,
    )
    return OpportunityPlan(
        name=name,
        kind=kind,
        product=product,
        stage=stage,
        amount=amount,
        expected_close=close,
        owner=owner,
        source=_weighted(rng, NEW_BUSINESS_SOURCES) if new_client else OpportunitySource.EXISTING,
    )


def _opportunities(
    w: _World, identity: _Identity, owner: str, subscriptions: list[SubscriptionPlan]
) -> list[OpportunityPlan]:
    rng = w.rng
    lifecycle = identity.lifecycle_status
    count = _weighted(rng, {0: 55, 1: 30, 2: 12, 3: 3})
    if lifecycle in (LifecycleStatus.PROSPECT, LifecycleStatus.ONBOARDING):
        count = max(count, 1)
    held = {s.product for s in subscriptions if s.status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.PENDING)}
    renewable = [s for s in subscriptions if _renewal_term(s, w.today) is not None]
    plans: list[OpportunityPlan] = []
    for index in range(count):
        # Most deals sit with the account's rep; a few with a colleague who found them.
        rep = owner if rng.random() < 0.88 else _other_rep(w, owner, identity.office)
        if lifecycle == LifecycleStatus.PROSPECT or (lifecycle == LifecycleStatus.ONBOARDING and index == 0):
            kind = OpportunityKind.NEW_BUSINESS
        elif lifecycle == LifecycleStatus.CHURNED:
            kind = _weighted(rng, {OpportunityKind.RENEWAL: 60, OpportunityKind.NEW_BUSINESS: 40})
        else:
            kind = _weighted(
                rng, {OpportunityKind.UPSELL: 45, OpportunityKind.RENEWAL: 30, OpportunityKind.NEW_BUSINESS: 25}
            )
        if kind == OpportunityKind.RENEWAL and renewable:
            sub = renewable.pop(rng.randrange(len(renewable)))
            plans.append(_renewal_deal(w, sub, rep))
        else:
            if kind == OpportunityKind.RENEWAL:
                kind = OpportunityKind.NEW_BUSINESS if lifecycle == LifecycleStatus.CHURNED else OpportunityKind.UPSELL
            plans.append(_sales_deal(w, identity, kind, held, rep, first=index == 0))
    return plans


def _activities(
    w: _World,
    identity: _Identity,
    owner: str,
    coordinator: str | None,
    contacts: list[ContactPlan],
    subscriptions: list[SubscriptionPlan],
) -> list[ActivityPlan]:
    rng = w.rng
    count = rng.randint(0, 4) if identity.lifecycle_status != LifecycleStatus.PROSPECT else rng.randint(0, 2)
    plans = []
    for _ in range(count):
        kind = _weighted(
            rng, {ActivityKind.CALL: 35, ActivityKind.EMAIL: 20, ActivityKind.MEETING: 20, ActivityKind.NOTE: 25}
        )
        actor = owner if coordinator is None or rng.random() < 0.7 else coordinator
        # Prospects have nothing to renew or invoice; only new clients get the onboarding checklist.
        skip = "renewal|onboarding|invoice" if not subscriptions else "onboarding"
        if identity.lifecycle_status == LifecycleStatus.ONBOARDING:
            skip = "renewal"
        templates = [t for t in ACTIVITY_TEMPLATES[kind] if not re.search(skip, t)]
        template = rng.choice(templates)
        index = rng.randrange(len(contacts)) if contacts and "{first}" in template else None
        person = contacts[index] if index is not None else ContactPlan("", "", "", "", "")
        product = rng.choice([s.product for s in subscriptions] or sorted(PRODUCTS))
        summary = template.format(
            first=person.first_name,
            last=person.last_name,
            title=person.title or "contact",
            product=PRODUCTS[product].name,
            unit=PRODUCTS[product].unit,
            suburb=identity.suburb,
        )
        plans.append(
            ActivityPlan(
                kind=kind,
                actor=actor,
                summary=summary,
                occurred_at=w.moment(identity.office, rng.randint(1, 365)),
                detail=rng.choice(ACTIVITY_DETAILS),
                contact=index,
            )
        )
    return plans


def _aliases(w: _World, identity: _Identity) -> list[AliasPlan]:
    rng = w.rng
    if rng.random() >= 0.06:
        return []
    words = identity.brand.replace("&", "").split()
    style = rng.random()
    if style < 0.4 and identity.core:
        # An older name from before a rebrand.
        old = f"{rng.choice(SHARED_PLACES)} {identity.core}"
        if normalise_name(old) in w.names:
            return []
        w.names.add(normalise_name(old))
        return [AliasPlan(old, f"Previous name (renamed {w.today.year - rng.randint(1, 6)})")]
    if style < 0.7 and len(words) > 2:
        return [AliasPlan("".join(word[0] for word in words).upper(), "What the team calls them")]
    return [AliasPlan(f"{identity.brand} ({identity.suburb})", "Helpdesk organisation name")]


def _account(
    w: _World, number: int, identity: _Identity | None = None, contacts: list[ContactPlan] | None = None
) -> AccountPlan:
    identity = identity or _identity(w)
    office = identity.office
    owner = identity.owner or w.rng.choice(_staff_in(SALES_REP, office))
    coordinator = (
        None
        if identity.lifecycle_status == LifecycleStatus.PROSPECT
        else w.rng.choice(_staff_in(CUSTOMER_RELATIONS, office))
    )
    contacts = contacts or _contacts(w, identity)
    subscriptions = _subscriptions(w, identity)
    return AccountPlan(
        number=number,
        fields=identity.account_fields(),
        owner=owner,
        coordinator=coordinator,
        contacts=contacts,
        subscriptions=subscriptions,
        opportunities=_opportunities(w, identity, owner, subscriptions),
        activities=_activities(w, identity, owner, coordinator, contacts, subscriptions),
        aliases=_aliases(w, identity),
    )


# --- The clients the demo tells stories about ---------------------------------------

MERIDIAN = 9  # seed 001: support pain that never reaches the account owner
SWAN_RIVER_DENTAL = 4
BLUEGUM = 15
ACME_NUMBERS = (23, 187, 342)  # one client entered three times by three teams
ACME_ABN = "99612345678"  # as in the shared legacy samples
RESERVED_NAMES = ("Acme", "Meridian Health Partners", "Bluegum Logistics", "Swan River Dental Group")
RESERVED_PHONES = (
    "08 5550 1234", "08 5550 1235", "08 5550 8821", "08 7010 4455", "08 7010 2290", "08 7010 2291",
    "0491570156", "0491570157", "0491572549", "0491576398",
)  # fmt: skip


def _fixed_identity(w: _World, number: int) -> _Identity | None:
    perth = {"office": Office.PERTH, "state": AustralianState.WA, "lifecycle_status": LifecycleStatus.ACTIVE}
    if number == MERIDIAN:
        return _Identity(
            legal_name="Meridian Health Partners Pty Ltd",
            trading_name="Meridian Health",
            abn=w.abn(),
            industry=Industry.HEALTH,
            segment=Segment.MID,
            street="Level 2, 382 Rokeby Road",
            suburb="Subiaco",
            postcode="6008",
            phone=w.landline(Office.PERTH),
            domain="meridianhealth.example",
            website="https://www.meridianhealth.example",
            core="Health Partners",
            owner=SALES_REP,  # the demo rep login sees the story from the owner's side
            **perth,
        )
    if number == SWAN_RIVER_DENTAL:
        return _Identity(
            legal_name="Swan River Dental Group Pty Ltd",
            trading_name="Swan River Dental",
            abn=w.abn(),
            industry=Industry.HEALTH,
            segment=Segment.SMALL,
            street="Suite 4, 88 Canning Highway",
            suburb="South Perth",
            postcode="6151",
            phone="08 7010 4455",
            domain="swanriverdental.example",
            website="https://www.swanriverdental.example",
            core="Dental Group",
            **perth,
        )
    if number == BLUEGUM:
        return _Identity(
            legal_name="Bluegum Logistics Pty Ltd",
            trading_name="",
            abn="19603456784",
            industry=Industry.LOGISTICS,
            segment=Segment.SMALL,
            street="12 Railway Parade",
            suburb="Welshpool",
            postcode="6106",
            phone="08 5550 8821",
            domain="bluegum.example",
            website="",
            **perth,
        )
    if number in ACME_NUMBERS:
        # Sales typed the full record, Finance just "Acme", Support "ACME" from a ticket.
        variant = ACME_NUMBERS.index(number)
        return _Identity(
            legal_name=("Acme Pty Ltd", "Acme", "ACME")[variant],
            trading_name="",
            abn=(ACME_ABN, "", "")[variant],
            industry=(Industry.PROFESSIONAL, Industry.PROFESSIONAL, Industry.OTHER)[variant],
            segment=Segment.SMALL,
            street=("Level 3, 140 St Georges Terrace", "Level 3, 140 St Georges Tce", "")[variant],
            suburb=("Perth", "Perth", "PERTH")[variant],
            postcode="6000",
            phone=("08 5550 1234", "(08) 5550 1234", "+61 8 5550 1234")[variant],
            domain="acme.example",
            website=("https://www.acme.example", "", "")[variant],
            owner=(SALES_REP, "jnguyen", "hkelly")[variant],
            **perth,
        )
    return None


def _acme_contacts(number: int) -> list[ContactPlan]:
    variant = ACME_NUMBERS.index(number)
    if variant == 0:
        return [
            ContactPlan("Jane", "Citizen", "Finance Manager", "jane.citizen@acme.example", "0491 570 156", True),
            ContactPlan("Raj", "Patel", "IT Lead", "raj.patel@acme.example", "+61 8 5550 1235"),
        ]
    if variant == 1:
        return [ContactPlan("Jane", "Citizen", "Accounts", "accounts@acme.example", "(08) 5550 1234", True)]
    return [ContactPlan("Jane", "Citizen", "", "Jane.Citizen@ACME.example", "0491570156", True)]


def _meridian_contacts() -> list[ContactPlan]:
    return [
        ContactPlan("Helen", "Marsh", "Group Practice Manager", "helen.marsh@meridianhealth.example",
                    "0491 572 549", True),
        ContactPlan("Tom", "Reid", "IT Coordinator", "tom.reid@meridianhealth.example", "08 7010 2290"),
        ContactPlan("Anita", "Kaur", "Finance Manager", "anita.kaur@meridianhealth.example", "08 7010 2291"),
        ContactPlan("Paul", "Ferreira", "Medical Director", "paul.ferreira@meridianhealth.example", "0491 576 398"),
    ]  # fmt: skip


def _meridian(w: _World, plan: AccountPlan) -> None:
    """CC009: 7 tickets in six months, satisfaction down to 4.2/10, and Sales still upselling."""
    today = w.today

    def sub(product: str, seats: int, terms_done: int, term: int, renewal_in: int) -> SubscriptionPlan:
        renewal = today + dt.timedelta(days=renewal_in)
        start = add_months(renewal, -term * terms_done)
        return SubscriptionPlan(
            product=product,
            seats=seats,
            annual_value=Decimal(round(PRODUCTS[product].unit_price * seats * 0.9 / 10) * 10),
            start_date=start,
            term_months=term,
            renewal_date=renewal,
            status=SubscriptionStatus.ACTIVE,
            tenancy_ref=w.tenancy_ref(product, Office.PERTH),
        )

    plan.subscriptions = [
        sub("managed-services", 120, 1, 36, 74),  # renews inside 90 days: the risk is real money
        sub("datavault", 85, 2, 12, 160),
        sub("cloudsync", 140, 1, 24, 250),
        sub("security-compliance", 140, 1, 12, 74),
    ]
    plan.opportunities = [
        OpportunityPlan(
            name="Analytics Pro: practice reporting for 3 clinics",
            kind=OpportunityKind.UPSELL,
            product="analytics-pro",
            stage=OpportunityStage.PROPOSAL,
            amount=Decimal("38400"),
            expected_close=today + dt.timedelta(days=24),
            owner=SALES_REP,
            source=OpportunitySource.EXISTING,
        ),
        OpportunityPlan(
            name="CloudSync: 40 more users",
            kind=OpportunityKind.UPSELL,
            product="cloudsync",
            stage=OpportunityStage.WON,
            amount=Decimal("6480"),
            expected_close=today - dt.timedelta(days=230),
            owner=SALES_REP,
            source=OpportunitySource.EXISTING,
        ),
    ]
    tickets = (
        (172, "#2231 Outlook keeps asking for passwords after the CloudSync update", "High", 8),
        (151, "#2307 DataVault backup failed overnight at the Joondalup clinic", "High", 7),
        (118, "#2415 Practice software slow at the Subiaco clinic every morning", "Medium", 6),
        (93, "#2488 Restore from backup took three days; patient files unavailable", "Urgent", 3),
        (61, "#2590 Phones and internet down at the Midland clinic for four hours", "Urgent", 4),
        (33, "#2671 Two new doctors still without accounts after a week", "Medium", 3),
        (9, "#2734 Backup failed again; practice manager asks for an escalation", "High", 2),
    )
    plan.activities = [
        ActivityPlan(
            kind=ActivityKind.TICKET,
            actor=SUPPORT_AGENT,
            summary=f"Support ticket {subject}",
            occurred_at=w.moment(Office.PERTH, days_ago),
            detail=f"Priority {priority}. Satisfaction survey: {score}/10."
            + (" Six-month satisfaction now 4.2/10 (was 7.9)." if days_ago == 9 else ""),
            contact=0 if i % 2 else 1,
        )
        for i, (days_ago, subject, priority, score) in enumerate(tickets)
    ]
    plan.activities += [
        ActivityPlan(
            kind=ActivityKind.MEETING,
            actor=SALES_REP,
            summary="Demo of Analytics Pro for Helen Marsh",
            occurred_at=w.moment(Office.PERTH, 40),
            detail="Keen on clinic utilisation reports. Proposal to follow.",
            contact=0,
        ),
        ActivityPlan(
            kind=ActivityKind.EMAIL,
            actor=SALES_REP,
            summary="Sent Analytics Pro proposal ($38,400 a year)",
            occurred_at=w.moment(Office.PERTH, 12),
            contact=0,
        ),
    ]
    plan.aliases = [AliasPlan("Meridian Medical Group", "Previous name (renamed 2023)")]


def _fixed_contacts(number: int) -> list[ContactPlan] | None:
    if number in ACME_NUMBERS:
        return _acme_contacts(number)
    if number == MERIDIAN:
        return _meridian_contacts()
    return None


def plan_world(
    *, seed: int = DEFAULT_SEED, today: dt.date | None = None, count: int = ACCOUNT_COUNT
) -> list[AccountPlan]:
    """The whole customer world as plain data: the same seed and day give the same plans.
    `count` grows the world for benchmarks (the legacy estate generator uses it)."""
    w = _World(seed, today or timezone.localdate())
    w.reserve(names=RESERVED_NAMES, abns=(ACME_ABN, "19603456784"), phones=RESERVED_PHONES)
    plans = []
    for number in range(1, count + 1):
        plan = _account(w, number, _fixed_identity(w, number), _fixed_contacts(number))
        if number == MERIDIAN:
            _meridian(w, plan)
        plans.append(plan)
    return plans


# --- Writing --------------------------------------------------------------------------


@dataclass(frozen=True)
class SeedResult:
    """What a run did: logins created, whether the customer world was loaded, row counts."""

    users_created: int
    world_loaded: bool
    counts: dict[str, int]


def ensure_demo_users() -> tuple[dict[str, AbstractBaseUser], int]:
    """Every demo login, created once. Existing users keep their password; they only get
    their role group back (and staff status for the steward, who uses /admin/)."""
    User = get_user_model()
    groups = Group.objects.in_bulk([s.role for s in demo_staff()], field_name="name")
    encoded: str | None = None
    users: dict[str, AbstractBaseUser] = {}
    created = 0
    for member in demo_staff():
        user = User.objects.filter(username=member.username).first()
        if user is None:
            # Hash once: the slow password hasher would otherwise dominate a demo reload.
            encoded = encoded or make_password(settings.DEMO_PASSWORD)
            user = User.objects.create(
                username=member.username,
                first_name=member.first_name,
                last_name=member.last_name,
                email=f"{_slug(member.first_name)}.{_slug(member.last_name)}@{STAFF_EMAIL_DOMAIN}",
                password=encoded,
                is_staff=member.role == DATA_STEWARD,
            )
            created += 1
        elif member.role == DATA_STEWARD and not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        user.groups.add(groups[member.role])
        users[member.username] = user
    return users, created


def world_counts() -> dict[str, int]:
    return {
        "accounts": Account.objects.count(),
        "contacts": Contact.objects.count(),
        "subscriptions": Subscription.objects.count(),
        "opportunities": Opportunity.objects.count(),
        "activities": Activity.objects.count(),
        "aliases": AccountAlias.objects.count(),
    }


def summary_lines(result: SeedResult, *, seed: int) -> list[str]:
    counts = ", ".join(f"{n:,} {name}" for name, n in result.counts.items())
    if result.world_loaded:
        head = f"Loaded the CloudCore Networks demo world (seed {seed}): {counts}."
    else:
        head = f"Customer data already present ({counts}); the demo world is not loaded again."
    return [head, f"Demo logins created: {result.users_created}."]


def login_lines() -> list[str]:
    """The demo logins table `make run` prints: one login per role, then the extra staff."""
    password = settings.DEMO_PASSWORD
    lines = [
        f"Demo logins at {settings.SITE_URL} (password for all: {password})",
        f"  {'username':<20} {'password':<16} {'name':<18} role",
    ]
    for member in demo_staff():
        lines.append(f"  {member.username:<20} {password:<16} {member.full_name:<18} {member.role}")
    return lines
