"""The demo world, built the way the real one will be: through the legacy import.

`manage.py seed_demo` (used by `make run`) creates the demo logins, writes CloudCore's
legacy estate from the demo plan (`migration.legacy_estate`), imports it with the same
service a steward uses, and then adds what the legacy stores never held: the other contacts
from people's mailboxes, past subscriptions, tenancy references, timeline entries and
known name variants. The demo's customers are what the import produced.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from cloudcore_crm.roles import DATA_STEWARD
from customers import services
from customers.choices import AliasKind, SubscriptionStatus
from customers.demo import (
    ACCOUNT_COUNT,
    DEFAULT_SEED,
    AccountPlan,
    SeedResult,
    ensure_demo_users,
    plan_world,
    world_counts,
)
from customers.models import Account, Contact, Product, account_code
from migration.legacy_estate import write_estate
from migration.models import ImportRun
from migration.services import run_import

REASON = "Demo world: what the legacy stores never held"


def seed_demo(*, seed: int = DEFAULT_SEED, today: dt.date | None = None) -> tuple[SeedResult, ImportRun | None]:
    """Create the demo logins and, on a database without customers, import the legacy
    estate and enrich it. Idempotent: with customers present only the logins are ensured."""
    today = today or timezone.localdate()
    with transaction.atomic():
        users, created = ensure_demo_users()
        if Account.objects.exists():
            return SeedResult(users_created=created, world_loaded=False, counts=world_counts()), None
        with tempfile.TemporaryDirectory(prefix="cloudcore-legacy-") as folder:
            directory = Path(folder)
            # Without D2: the demo's helpdesk history is `seed_demo_tickets`' (CC009's story).
            write_estate(directory, seed=seed, clients=ACCOUNT_COUNT, today=today, helpdesk=False)
            run = run_import(paths=list(directory.iterdir()), actor=users[DATA_STEWARD])
        enrich(plan_world(seed=seed, today=today), users)
        teach(users, run)
    return SeedResult(users_created=created, world_loaded=True, counts=world_counts()), run


def enrich(plans: list[AccountPlan], users: dict[str, AbstractBaseUser]) -> None:
    """Add to the imported accounts what only people's heads and mailboxes held."""
    steward = users[DATA_STEWARD]
    products = Product.objects.in_bulk(field_name="code")
    accounts = Account.objects.in_bulk([account_code(p.number) for p in plans], field_name="code")
    for plan in plans:
        account = accounts.get(account_code(plan.number))
        if account is None:
            continue  # a client the estate only knew by another name (the Acme spellings)
        contacts = _contacts(account, plan, steward)
        subscriptions = {s.product.code: s for s in account.subscriptions.select_related("product")}
        for sub in plan.subscriptions:
            existing = subscriptions.get(sub.product)
            if existing is None and sub.status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.PENDING):
                services.create_subscription(
                    account=account,
                    actor=steward,
                    reason=REASON,
                    product=products[sub.product],
                    seats=sub.seats,
                    annual_value=sub.annual_value,
                    start_date=sub.start_date,
                    term_months=sub.term_months,
                    renewal_date=sub.renewal_date,
                    status=sub.status,
                    tenancy_ref=sub.tenancy_ref,
                )
            elif existing is not None and not existing.tenancy_ref:
                services.update_subscription(
                    subscription=existing,
                    changes={"tenancy_ref": sub.tenancy_ref, "term_months": sub.term_months},
                    expected_version=existing.version,
                    actor=steward,
                    reason=REASON,
                )
        for activity in plan.activities:
            services.log_activity(
                account=account,
                actor=users[activity.actor],
                kind=activity.kind,
                summary=activity.summary,
                detail=activity.detail,
                occurred_at=activity.occurred_at,
                reason=REASON,
                contact=contacts[activity.contact] if activity.contact is not None else None,
            )
        for alias in plan.aliases:
            services.add_alias(
                account=account,
                kind=AliasKind.NAME,
                value=alias.value,
                source=alias.source,
                actor=steward,
                reason=REASON,
            )


def _contacts(account: Account, plan: AccountPlan, steward) -> list[Contact]:
    """The plan's contacts in plan order: the imported primary contact, then the others."""
    imported = list(account.contacts.all())
    by_email = {c.email.lower(): c for c in imported if c.email}
    by_name = {(c.first_name.lower(), c.last_name.lower()): c for c in imported}
    found = []
    for planned in plan.contacts:
        contact = by_email.get(planned.email.lower()) or by_name.get(
            (planned.first_name.lower(), planned.last_name.lower())
        )
        if contact is None:
            contact = services.create_contact(
                account=account,
                actor=steward,
                reason=REASON,
                first_name=planned.first_name,
                last_name=planned.last_name,
                title=planned.title,
                email=planned.email,
                phone=planned.phone,
                is_primary=planned.is_primary and not imported,
            )
        elif not contact.title or not contact.phone:
            contact = services.update_contact(
                contact=contact,
                changes={"title": planned.title, "phone": planned.phone},
                expected_version=contact.version,
                actor=steward,
                reason=REASON,
            )
        found.append(contact)
    return found


# --- What a newcomer can try: a few of each queue, not hundreds --------------------------

TEACH_REASON = "Demo world: entered again by another team, before the CRM"
OPEN_CONFLICTS_KEPT = {"annual_value": 3, "renewal_date": 3}


def teach(users: dict[str, AbstractBaseUser], run: ImportRun | None) -> None:
    """Leave each steward queue with a handful of real-looking items: three duplicate pairs
    of different kinds (a "t/a" name, one ABN typed into two records, a misspelt name with
    the same phone) and a contact entered twice; a few held names, one spelling held on
    several rows; and a few conflicts between stores (the rest settled as the precedence
    rule chose). Acme's three spellings stay one account."""
    from customers.dedupe import find_matches
    from migration.choices import ConflictStatus, Store
    from migration.models import ImportConflict, MatchReview
    from migration.services import resolve_conflicts

    steward = users[DATA_STEWARD]
    picks = _teaching_accounts()
    if len(picks) < 6:
        return
    trading, same_abn, misspelt, contact_twice, held, held_too = picks[:6]

    def again(**values) -> Account:
        return services.create_account(actor=steward, reason=TEACH_REASON, **values)

    base = _base_name(trading.legal_name)
    again(
        legal_name=f"Nguyen Family Holdings Pty Ltd t/a {base}",
        office=trading.office,
        state=trading.state,
        owner=trading.owner,
        lifecycle_status=trading.lifecycle_status,
    )
    again(
        legal_name=f"{_initials(same_abn.legal_name)} Group Pty Ltd",
        abn=same_abn.abn,
        office=same_abn.office,
        state=same_abn.state,
        owner=same_abn.owner,
        lifecycle_status=same_abn.lifecycle_status,
    )
    again(
        legal_name=_misspell(misspelt.legal_name),
        phone=misspelt.phone,
        office=misspelt.office,
        state=misspelt.state,
        owner=misspelt.owner,
        lifecycle_status=misspelt.lifecycle_status,
    )
    primary = contact_twice.contacts.order_by("pk").first()
    if primary is not None and primary.email:
        services.create_contact(
            account=contact_twice,
            actor=steward,
            reason=TEACH_REASON,
            first_name=primary.first_name,
            last_name=primary.last_name,
            email=primary.email.upper(),
            phone=primary.phone,
        )
    services.scan_duplicates()

    def candidates(name: str) -> list[dict]:
        return [
            {"code": m.code, "name": m.label, "score": m.score, "evidence": list(m.evidence)}
            for m in find_matches(name=name)
        ]

    held_names = [
        (f"{_base_name(held.legal_name)} Grp", (112, 340, 577)),  # one spelling on three invoice rows
        (f"{_base_name(held_too.legal_name)} (WA)", (208,)),
    ]
    for name, rows in held_names:
        found = candidates(name)
        for row in rows:
            MatchReview.objects.get_or_create(
                store=Store.XERO,
                file="xero_sales_invoices_export.csv",
                row=row,
                incoming_name=name,
                defaults={"run": run, "candidates": found},
            )

    open_conflicts = ImportConflict.objects.filter(status=ConflictStatus.OPEN).order_by("account__number", "pk")
    keep: list[int] = []
    for field, count in OPEN_CONFLICTS_KEPT.items():
        keep += list(open_conflicts.filter(field=field).values_list("pk", flat=True)[:count])
    resolve_conflicts(
        conflicts=list(open_conflicts.exclude(pk__in=keep).select_related("account", "subscription")),
        apply_other=False,
        actor=steward,
        reason="Demo world: checked before the demo; the precedence rule's value stands",
    )


def _teaching_accounts() -> list[Account]:
    """Ordinary clients to build the examples on (not Acme, not CC009's story), one each."""
    found = []
    for account in Account.objects.exclude(normalised_name="acme").exclude(code="CC009").order_by("number"):
        words = _base_name(account.legal_name).split()
        if account.abn and account.phone and account.owner_id and len(words) >= 2 and account.number > 20:
            found.append(account)
        if len(found) == 6:
            break
    return found


def _base_name(legal_name: str) -> str:
    for suffix in (" Pty Ltd", " Pty. Ltd.", " Limited", " Ltd"):
        if legal_name.endswith(suffix):
            return legal_name[: -len(suffix)]
    return legal_name


def _initials(legal_name: str) -> str:
    return "".join(word[0] for word in _base_name(legal_name).split() if word[:1].isalpha()).upper()


def _misspell(legal_name: str) -> str:
    """Two neighbouring letters swapped in the longest word: "Advisers" -> "Adivsers"."""
    words = legal_name.split()
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    if len(word) >= 5:
        words[longest] = word[:2] + word[3] + word[2] + word[4:]
    return " ".join(words)
