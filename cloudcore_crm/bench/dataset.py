"""A synthetic CloudCore customer base for benchmarks.

Rows are generated from a fixed seed and written straight into the tables with
`common.load_rows`, bypassing `customers.services`: benchmark data needs volume, not
ownership checks or a history row per save. History is written in bulk instead: a
"created" row for every account, contact, subscription, opportunity and alias, and one
"changed" row for every fifth account, so the History tab reads tables of a realistic size
and exercises both of its paths. Activities get no history (the History tab does not read it).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import models, transaction
from django.utils import timezone

from cloudcore_crm.bench.common import analyze, load_dicts, next_id, reset_sequences, timed
from cloudcore_crm.roles import CUSTOMER_RELATIONS, SALES_REP, SUPPORT_AGENT
from customers import choices
from customers.matching import alias_key, normalise_name, phone_digits
from customers.models import (
    Account,
    AccountAlias,
    Activity,
    Contact,
    Opportunity,
    Product,
    StageChange,
    Subscription,
    account_code,
)

SEED = 20260101
BENCH_USER_PREFIX = "bench_"
SUPPORT_USERNAME = "bench_support"
EDIT_EVERY = 5  # every fifth account has been edited once since it was created
HISTORY_REASON = "Bench data load"


def _words(text: str) -> tuple[str, ...]:
    """A word list written compactly as "a|b|c"."""
    return tuple(text.split("|"))


# Word lists for names, varied enough that a name fragment matches a realistic share of accounts.
PLACES = _words(
    "Swan|Harbour|Coastal|Pacific|Southern|Northern|Western|Eastern|Outback|Kimberley|Pilbara|Margaret|Fremantle|"
    "Bondi|Parramatta|Hunter|Blue Gum|Wattle|Banksia|Jarrah|Karri|Coral|Reef|Summit|Ridge|Valley|Lakeside|"
    "Riverside|Bayside|Seaview|Sunset|Sunrise|Red Earth|Goldfields|Wheatbelt|Cape|Horizon|Meridian|Compass|Anchor|"
    "Emu|Kookaburra|Magpie|Pelican|Albatross|Ironbark|Redgum|Saltbush|Spinifex|Mallee|Tasman|Arafura|Indian Ocean|"
    "Great Southern|Peel|Avon|Murray|Darling|Canning|Leeuwin"
)
TRADES = _words(
    "Dental|Legal|Accounting|Engineering|Logistics|Freight|Mining Services|Drilling|Civil|Constructions|Plumbing|"
    "Electrical|Medical|Physiotherapy|Pharmacy|Veterinary|Architects|Surveyors|Consulting|Advisory|Wealth|Finance|"
    "Insurance|Property|Realty|Hospitality|Hotels|Catering|Foods|Wines|Brewing|Retail|Fashion|Hardware|Motors|"
    "Transport|Education|Childcare|Training|Software|Digital|Media|Marketing|Printing|Packaging|Manufacturing|"
    "Fabrication|Agriculture|Nurseries|Environmental"
)
SURNAMES = _words(
    "Smith|Jones|Williams|Brown|Wilson|Taylor|Johnson|White|Martin|Anderson|Thompson|Nguyen|Thomas|Walker|Harris|"
    "Lee|Ryan|Robinson|Kelly|King|Davis|Wright|Evans|Roberts|Green|Hall|Wood|Jackson|Clarke|Patel|Tran|Chen|Wang|"
    "Singh|Murphy|OConnor|Mitchell|Campbell|Baker|Young|Edwards|Turner|Hughes|Cooper|Hill|Morris|Ward|Scott|Watson|"
    "Price|Russo|Ferrari|Papadopoulos|Kowalski|Muller|Okafor|Haddad|Kaur|Sato|Kim"
)
FIRST_NAMES = _words(
    "Olivia|Charlotte|Amelia|Isla|Mia|Ava|Grace|Chloe|Willow|Matilda|Sophie|Emily|Ella|Zoe|Ruby|Harper|Lily|Evie|"
    "Sienna|Hannah|Oliver|Noah|Jack|William|Leo|Lucas|Thomas|Henry|Charlie|James|Hudson|Ethan|Mason|Liam|Harrison|"
    "Oscar|Samuel|Archie|Max|Isaac|Priya|Wei|Mei|Arjun|Anh|Minh|Fatima|Omar|Sofia|Luca|Jane|Michael|David|Sarah|"
    "Karen|Peter|Paul|Susan|Mark|Lisa"
)
SUFFIXES = _words("Pty Ltd|Pty Ltd|Pty Ltd|Pty. Ltd.|Group Pty Ltd|Holdings Pty Ltd|Ltd|& Co|Partners")
TITLES = ("Director", "Office Manager", "IT Manager", "Finance Manager", "Practice Manager", "Owner", "CFO", "COO", "")
SUBURBS = {
    choices.Office.PERTH: tuple(
        tuple(pair.split(":"))
        for pair in _words("Perth:6000|Subiaco:6008|Osborne Park:6017|Joondalup:6027|Fremantle:6160|Bunbury:6230")
    ),
    choices.Office.SYDNEY: tuple(
        tuple(pair.split(":"))
        for pair in _words("Sydney:2000|Parramatta:2150|North Sydney:2060|Chatswood:2067|Newcastle:2300")
    ),
}
STREETS = ("Hay St", "Murray St", "St Georges Tce", "Stirling Hwy", "George St", "Pitt St", "King St", "Main Rd")
ABN_WEIGHTS = (10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)
LIFECYCLE_WEIGHTS = {"active": 70, "onboarding": 8, "prospect": 12, "churned": 10}
SUBSCRIPTION_STATUS_WEIGHTS = {"active": 75, "pending": 8, "cancelled": 9, "lapsed": 8}
HISTORY_MODELS: tuple[type[models.Model], ...] = (Account, Contact, Subscription, Opportunity, AccountAlias)
LOADED_MODELS: tuple[type[models.Model], ...] = (
    Account,
    Contact,
    Subscription,
    Opportunity,
    StageChange,
    Activity,
    AccountAlias,
)

Row = dict[str, Any]


@dataclass(frozen=True)
class Sizes:
    accounts: int
    contacts_per_account: int
    subscriptions_per_account: int

    @property
    def contacts(self) -> int:
        return self.accounts * self.contacts_per_account

    @property
    def subscriptions(self) -> int:
        return self.accounts * self.subscriptions_per_account


@dataclass
class DataSet:
    """What was loaded, and handles the benchmarks use to vary their requests."""

    counts: dict[str, int] = field(default_factory=dict)
    build_seconds: dict[str, float] = field(default_factory=dict)
    support_user: models.Model | None = None
    sample_codes: list[str] = field(default_factory=list)
    edited_codes: list[str] = field(default_factory=list)  # accounts with a "changed" history row
    sample_emails: list[str] = field(default_factory=list)  # "first.last@" fragments
    name_words: list[str] = field(default_factory=list)
    name_fragments: list[str] = field(default_factory=list)


def valid_abn(rng: random.Random) -> str:
    """A random ABN that passes the ATO checksum: pick the last nine digits, solve for the first two."""
    tail = [rng.randrange(10) for _ in range(9)]
    total = sum(w * d for w, d in zip(ABN_WEIGHTS[2:], tail, strict=True))
    value = (-total) % 89  # 10 * (first - 1) + second must be this, modulo 89
    return f"{value // 10 + 1}{value % 10}" + "".join(map(str, tail))


def _weighted(rng: random.Random, weights: dict[str, int]) -> Callable[[], str]:
    values, counts = list(weights), list(weights.values())
    return lambda: rng.choices(values, counts)[0]


def _name_words(names: Iterable[str]) -> list[str]:
    """Up to twelve one-word place names that start account names, to search for."""
    found = sorted({name.split()[0] for name in names if name.split()[0] in PLACES})[:12]
    return found or ["Swan", "Harbour", "Coastal"]


def _fragments(words: Iterable[str]) -> list[str]:
    """Inner four letters of each word ("Albatross" -> "lbat"): a substring, not a prefix."""
    return [word[1:5].lower() for word in words]


def _slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _landline(rng: random.Random, office: str) -> str:
    area = "08" if office == choices.Office.PERTH else "02"
    return f"({area}) {rng.randint(9000, 9999)} {rng.randint(1000, 9999)}"


def _mobile(rng: random.Random) -> str:
    return f"04{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}"


def _history(
    row: Row, when: dt.datetime, kind: str = "+", reason: str = HISTORY_REASON, user: int | None = None
) -> Row:
    """The django-simple-history row recording `row` (field values as of that change)."""
    return {
        **row,
        "history_date": when,
        "history_type": kind,
        "history_change_reason": reason,
        "history_user_id": user,
    }


def ensure_users() -> tuple[list[int], list[int], models.Model]:
    """Bench sales reps and relations coordinators (account owners), and the support agent who reads."""
    User = get_user_model()
    groups = {g.name: g for g in Group.objects.filter(name__in=[SALES_REP, CUSTOMER_RELATIONS, SUPPORT_AGENT])}

    def user(username: str, first: str, last: str, role: str) -> models.Model:
        person, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@cloudcore.example"},
        )
        if created:
            person.set_unusable_password()
            person.save(update_fields=["password"])
            person.groups.add(groups[role])
        return person

    reps = [user(f"{BENCH_USER_PREFIX}rep{i:02d}", FIRST_NAMES[i], SURNAMES[i], SALES_REP) for i in range(1, 9)]
    coordinators = [
        user(f"{BENCH_USER_PREFIX}cr{i:02d}", FIRST_NAMES[20 + i], SURNAMES[20 + i], CUSTOMER_RELATIONS)
        for i in range(1, 4)
    ]
    support = user(SUPPORT_USERNAME, "Sam", "Support", SUPPORT_AGENT)
    return [u.pk for u in reps], [u.pk for u in coordinators], support


def holds(sizes: Sizes) -> bool:
    """True when the database already holds exactly this data set (a kept bench database)."""
    return (
        get_user_model().objects.filter(username=SUPPORT_USERNAME).exists()
        and Account.objects.count() == sizes.accounts
        and Contact.objects.count() == sizes.contacts
        and Subscription.objects.count() == sizes.subscriptions
    )


def count_rows() -> dict[str, int]:
    counts = {str(model._meta.verbose_name_plural): model._default_manager.count() for model in LOADED_MODELS}
    counts["history rows"] = sum(model.history.model._default_manager.count() for model in HISTORY_MODELS)
    return counts


class _Builder:
    """Generates and loads one table at a time; ids are assigned here so foreign keys need no look-ups."""

    def __init__(self, sizes: Sizes, rng: random.Random, data: DataSet):
        self.sizes, self.rng, self.data = sizes, rng, data
        self.now, self.today = timezone.now(), timezone.localdate()
        self.rep_ids: list[int] = []
        self.coordinator_ids: list[int] = []
        self.products = list(Product.objects.order_by("pk").values_list("pk", flat=True))
        self.first_number = (Account.objects.aggregate(top=models.Max("number"))["top"] or 0) + 1
        self.first_account, self.first_contact = next_id(Account), next_id(Contact)
        self.created: list[dt.datetime] = []  # per account, in order

    def account_id(self, i: int) -> int:
        return self.first_account + i

    def contact_id(self, i: int, j: int) -> int:
        return self.first_contact + i * self.sizes.contacts_per_account + j

    def load(self, label: str, model: type[models.Model], rows: list[Row], history: Iterable[Row] = ()) -> None:
        with timed(label, self.data.build_seconds):
            load_dicts(model, rows)
        if history:
            with timed(f"{label} history", self.data.build_seconds):
                load_dicts(model.history.model, history)

    def accounts(self) -> None:
        rng, lifecycle = self.rng, _weighted(self.rng, LIFECYCLE_WEIGHTS)
        industries, segments = choices.Industry.values, choices.Segment.values
        rows: list[Row] = []
        history: list[Row] = []
        for i in range(self.sizes.accounts):
            number = self.first_number + i
            office = choices.Office.PERTH if rng.random() < 0.6 else choices.Office.SYDNEY
            first_word = rng.choice(SURNAMES) if rng.random() < 0.25 else rng.choice(PLACES)
            legal = f"{first_word} {rng.choice(TRADES)} {rng.choice(SUFFIXES)}"
            suburb, postcode = rng.choice(SUBURBS[office])
            created = self.now - dt.timedelta(days=rng.randint(30, 3650), seconds=rng.randint(0, 86400))
            self.created.append(created)
            row = {
                "id": self.account_id(i),
                "number": number,
                "code": account_code(number),
                "legal_name": legal,
                "trading_name": f"{rng.choice(PLACES)} {rng.choice(TRADES)}" if rng.random() < 0.3 else "",
                "normalised_name": normalise_name(legal),
                "abn": valid_abn(rng) if rng.random() < 0.8 else "",
                "industry": rng.choice(industries),
                "segment": rng.choice(segments),
                "office": office,
                "lifecycle_status": lifecycle(),
                "owner_id": rng.choice(self.rep_ids) if rng.random() < 0.9 else None,
                "relations_coordinator_id": rng.choice(self.coordinator_ids) if rng.random() < 0.5 else None,
                "phone": _landline(rng, office),
                "website": f"https://www.{_slug(legal)[:40]}.com.au",
                "street": f"{rng.randint(1, 400)} {rng.choice(STREETS)}",
                "suburb": suburb,
                "state": "WA" if office == choices.Office.PERTH else "NSW",
                "postcode": postcode,
                "xero_contact_id": "",
                "billing_contact_id": self.contact_id(i, 0),  # the primary contact, loaded next
                "version": 1,
                "created_at": created,
                "updated_at": created,
            }
            history.append(_history(row, created))
            if i % EDIT_EVERY == 0:
                edited = created + dt.timedelta(days=rng.randint(1, 20))
                row = {**row, "phone": _landline(rng, office), "version": 2, "updated_at": edited}
                reason = "Customer called with a new number"
                history.append(_history(row, edited, "~", reason, rng.choice(self.rep_ids)))
            rows.append(row)
        self.load("accounts", Account, rows, history)
        self.data.sample_codes = [row["code"] for row in rng.sample(rows, min(len(rows), 500))]
        edited_rows = rows[::EDIT_EVERY]
        self.data.edited_codes = [row["code"] for row in rng.sample(edited_rows, min(len(edited_rows), 250))]
        self.data.name_words = _name_words(row["legal_name"] for row in rows[:2000])
        self.data.name_fragments = _fragments(self.data.name_words)

    def contacts(self) -> None:
        rng = self.rng
        rows: list[Row] = []
        for i in range(self.sizes.accounts):
            domain = f"{_slug(PLACES[i % len(PLACES)])}{i}.com.au"
            for j in range(self.sizes.contacts_per_account):
                first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
                phone = _mobile(rng) if rng.random() < 0.7 else _landline(rng, choices.Office.PERTH)
                rows.append(
                    {
                        "id": self.contact_id(i, j),
                        "account_id": self.account_id(i),
                        "first_name": first,
                        "last_name": last,
                        "title": rng.choice(TITLES),
                        "email": f"{first}.{last}@{domain}".lower(),
                        "phone": phone,
                        "phone_digits": phone_digits(phone),
                        "is_primary": j == 0,
                        "version": 1,
                        "created_at": self.created[i] + dt.timedelta(hours=j),
                    }
                )
        self.load("contacts", Contact, rows, (_history(row, row["created_at"]) for row in rows))
        picked = rng.sample(rows, min(len(rows), 200))
        self.data.sample_emails = [row["email"].split("@")[0] + "@" for row in picked]

    def subscriptions(self) -> None:
        # Renewals spread from 200 days ago to two years out, so "renewing within 90 days"
        # selects a realistic slice.
        rng, status = self.rng, _weighted(self.rng, SUBSCRIPTION_STATUS_WEIGHTS)
        first_id = next_id(Subscription)
        rows: list[Row] = []
        for i in range(self.sizes.accounts):
            for j in range(self.sizes.subscriptions_per_account):
                term = rng.choice((12, 12, 24, 36))
                renewal = self.today + dt.timedelta(days=rng.randint(-200, 730))
                seats = rng.randint(1, 250)
                rows.append(
                    {
                        "id": first_id + len(rows),
                        "account_id": self.account_id(i),
                        "product_id": self.products[(i + j) % len(self.products)],
                        "seats": seats,
                        "annual_value": Decimal(seats * rng.choice((120, 240, 360, 600))),
                        "start_date": renewal - dt.timedelta(days=term * 365 // 12),
                        "term_months": term,
                        "renewal_date": renewal,
                        "status": status(),
                        "tenancy_ref": f"tenant-{self.account_id(i)}-{j}",
                        "version": 1,
                        "created_at": self.created[i],
                    }
                )
        self.load("subscriptions", Subscription, rows, (_history(row, row["created_at"]) for row in rows))

    def opportunities(self) -> None:
        rng, first_id = self.rng, next_id(Opportunity)
        rows = [
            {
                "id": first_id + n,
                "account_id": self.account_id(i),
                "name": f"Deal {self.account_id(i)}-{n}",
                "kind": rng.choice(choices.OpportunityKind.values),
                "product_id": rng.choice(self.products),
                "stage": rng.choice(choices.OpportunityStage.values),
                "amount": Decimal(rng.randint(1, 500) * 100),
                "expected_close": self.today + dt.timedelta(days=rng.randint(-60, 240)),
                "owner_id": rng.choice(self.rep_ids),
                "source": rng.choice(choices.OpportunitySource.values),
                "lost_reason": "",
                "lost_note": "",
                "created_at": self.created[i],
            }
            for n, i in enumerate(range(0, self.sizes.accounts, 3))
        ]
        self.load("opportunities", Opportunity, rows, (_history(row, row["created_at"]) for row in rows))
        first_move = next_id(StageChange)
        moves = [
            {
                "id": first_move + n,
                "opportunity_id": row["id"],
                "from_stage": "",
                "to_stage": row["stage"],
                "actor_id": row["owner_id"],
                "at": row["created_at"],
                "reason": "bench",
            }
            for n, row in enumerate(rows)
        ]
        self.load("stage changes", StageChange, moves)

    def activities(self) -> None:
        rng, first_id = self.rng, next_id(Activity)
        rows: list[Row] = []
        for i in range(self.sizes.accounts):
            for _ in range(rng.randint(1, 2)):
                contact = self.contact_id(i, rng.randrange(self.sizes.contacts_per_account))
                rows.append(
                    {
                        "id": first_id + len(rows),
                        "account_id": self.account_id(i),
                        "contact_id": contact if rng.random() < 0.5 else None,
                        "kind": rng.choice(choices.ActivityKind.values),
                        "actor_id": rng.choice(self.rep_ids),
                        "occurred_at": self.now - dt.timedelta(days=rng.randint(0, 700), seconds=rng.randint(0, 86400)),
                        "summary": f"Followed up on ticket {rng.randint(1000, 99999)}",
                        "detail": "",
                    }
                )
        self.load("activities", Activity, rows)

    def aliases(self) -> None:
        # Every tenth account has a former name and a legacy code.
        rng, first_id = self.rng, next_id(AccountAlias)
        rows: list[Row] = []
        for i in range(0, self.sizes.accounts, 10):
            for kind, value in (
                (choices.AliasKind.NAME, f"{rng.choice(PLACES)} {rng.choice(TRADES)} Services"),
                (choices.AliasKind.LEGACY_CODE, f"LEG-{self.first_number + i}"),
            ):
                rows.append(
                    {
                        "id": first_id + len(rows),
                        "account_id": self.account_id(i),
                        "kind": kind,
                        "value": value,
                        "normalised_value": alias_key(kind, value),
                        "source": "bench",
                        "created_at": self.created[i],
                    }
                )
        self.load("aliases", AccountAlias, rows, (_history(row, row["created_at"]) for row in rows))


def build(sizes: Sizes, *, seed: int = SEED) -> DataSet:
    """Load the data set in one transaction and refresh the planner's statistics.

    One transaction lets accounts name their billing contact before the contacts exist:
    Django's foreign keys are deferred, so they are checked once, at commit.
    """
    data = DataSet()
    with timed("users", data.build_seconds):
        rep_ids, coordinator_ids, data.support_user = ensure_users()
    with transaction.atomic():
        builder = _Builder(sizes, random.Random(seed), data)
        builder.rep_ids, builder.coordinator_ids = rep_ids, coordinator_ids
        builder.accounts()
        builder.contacts()
        builder.subscriptions()
        builder.opportunities()
        builder.activities()
        builder.aliases()
        reset_sequences(LOADED_MODELS)
    with timed("analyze", data.build_seconds):
        analyze([*LOADED_MODELS, *(model.history.model for model in HISTORY_MODELS)])
    data.counts = count_rows()
    return data


def describe_existing() -> DataSet:
    """Handles for benchmarks on a kept bench database that already holds the data set."""
    rng = random.Random(SEED)
    data = DataSet()
    _, _, data.support_user = ensure_users()
    account_ids = list(Account.objects.values_list("pk", flat=True))
    picked = rng.sample(account_ids, min(len(account_ids), 500))
    data.sample_codes = list(Account.objects.filter(pk__in=picked).values_list("code", flat=True))
    rng.shuffle(data.sample_codes)
    edited = Account.history.filter(history_type="~").values_list("id", flat=True).distinct()[:250]
    data.edited_codes = list(Account.objects.filter(pk__in=list(edited)).values_list("code", flat=True))
    rng.shuffle(data.edited_codes)
    data.name_words = _name_words(Account.objects.order_by("pk").values_list("legal_name", flat=True)[:2000])
    data.name_fragments = _fragments(data.name_words)
    contact_ids = list(Contact.objects.values_list("pk", flat=True))
    picked = rng.sample(contact_ids, min(len(contact_ids), 200))
    emails = Contact.objects.filter(pk__in=picked).values_list("email", flat=True)
    data.sample_emails = [email.split("@")[0] + "@" for email in emails]
    data.counts = count_rows()
    return data
