"""Every write of the support bridge: the ticket mirror, the webhook inbox, imports,
churn-risk scores and the alerts they raise.

Each function is one atomic action with keyword-only arguments and an explicit `actor`
(None is the system itself: the webhook, the nightly run) and a change reason for history.
Side effects (the owner's email) run after commit.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone

from cloudcore_crm.lib import bulkload
from cloudcore_crm.lib.headers import MissingColumnsError
from cloudcore_crm.lib.locks import job_lock
from cloudcore_crm.roles import CUSTOMER_RELATIONS, DATA_STEWARD, SALES_MANAGER, SUPPORT_AGENT, has_role
from customers import services as customer_services
from customers.choices import ActivityKind, AliasKind
from customers.errors import OwnershipError
from customers.matching import alias_key, normalise_name
from customers.models import Account, AccountAlias, Activity, Contact, Product
from support_bridge import importers, risk
from support_bridge.choices import AlertKind, EventStatus, Resolution, RiskBand, TicketPriority, TicketSource
from support_bridge.forms import TicketRowForm
from support_bridge.lookups import OneOf
from support_bridge.models import ChurnAlert, PeerBaseline, RiskScore, Ticket, WebhookEvent
from support_bridge.payloads import TicketData, parse_event

WEBHOOK_REASON = "Helpdesk webhook"
RISK_REASON = "Churn-risk recomputed"
ALERT_REASON = "Churn risk rose to high"
RISK_LOCK = "support_bridge.risk"  # held by every risk computation, nightly or one account
CONCERN_ROLES = (SUPPORT_AGENT, CUSTOMER_RELATIONS, DATA_STEWARD)
HELPDESK_SOURCES = (TicketSource.ZENDESK, TicketSource.FRESHDESK)
PRIORITY_ORDER = (TicketPriority.LOW, TicketPriority.MEDIUM, TicketPriority.HIGH, TicketPriority.URGENT)
LOOKUP_BATCH = 10_000  # ticket ids per lookup query (SQLite allows 32,766 parameters)
MIRRORED_FIELDS = (
    "source",
    "account",
    "contact",
    "product",
    "subject",
    "status",
    "priority",
    "opened_at",
    "resolved_at",
    "resolution_hours",
    "satisfaction",
    "helpdesk_org_id",
    "source_updated_at",
    "source_event_at",
    "provenance",
)


def _save(instance, *, actor: AbstractBaseUser | None, reason: str) -> None:
    instance._change_reason = reason
    instance._history_user = actor
    instance.save()


# --- Merging a snapshot into the mirror --------------------------------------------------


def _version(updated: dt.datetime | None, event: dt.datetime | None) -> tuple[dt.datetime, dt.datetime] | None:
    return None if updated is None else (updated, event or updated)


def _is_newer(data: TicketData, ticket: Ticket) -> bool:
    """A snapshot applies only if it is newer than what the row holds, so a late or
    repeated delivery never rolls the ticket back. An undated snapshot (a file without a
    last-update column) never overwrites a dated one."""
    incoming = _version(data.updated_at, data.event_at)
    stored = _version(ticket.source_updated_at, ticket.source_event_at)
    if incoming is None:
        return stored is None
    return stored is None or incoming > stored


def _rank(priority: str) -> int:
    return PRIORITY_ORDER.index(priority) if priority in PRIORITY_ORDER else 0


def _merge(
    data: TicketData,
    *,
    account: Account,
    existing: Ticket | None,
    contact: Contact | None,
    product: Product | None,
) -> tuple[Ticket | None, set[str]]:
    """The ticket with `data` applied (unsaved) and the fields that changed, or
    (None, empty) when nothing changes.

    A triage-sheet row about a ticket the helpdesk already sent only fills gaps (the
    helpdesk is the authority), and raises its priority when the sheet marks it high or
    urgent; a helpdesk snapshot of a ticket first seen on the triage
    sheet takes that row over, so the ticket is counted once.
    """
    if existing is not None and data.source == TicketSource.TRIAGE_SHEET and existing.source in HELPDESK_SOURCES:
        gaps = {
            "satisfaction": data.satisfaction,
            "resolution_hours": data.resolution_hours,
            "resolved_at": data.resolved_at,
            "contact": contact,
            "product": product,
        }
        changed = set()
        for name, value in gaps.items():
            if value is not None and getattr(existing, name) is None:
                setattr(existing, name, value)
                changed.add(name)
        # Marked high or urgent on the sheet: an escalation the helpdesk never recorded.
        # It raises a lower helpdesk priority, never lowers one.
        if data.priority in TicketPriority.high_values() and _rank(data.priority) > _rank(existing.priority):
            existing.priority = data.priority
            changed.add("priority")
        return (existing if changed else None), changed
    if existing is not None and not _is_newer(data, existing):
        # A rating is a fact of its own, not a snapshot: a late `.rated` still applies it.
        if data.rating_event and data.satisfaction is not None and existing.satisfaction != data.satisfaction:
            existing.satisfaction = data.satisfaction
            return existing, {"satisfaction"}
        return None, set()
    values = {
        "source": data.source,
        "account": account,
        "subject": data.subject,
        "status": data.status,
        "priority": data.priority,
        "opened_at": data.opened_at,
        "resolved_at": data.resolved_at,
        "resolution_hours": data.resolution_hours,
        "source_updated_at": data.updated_at,
        "source_event_at": data.event_at or data.updated_at,
        "provenance": data.provenance,
    }
    # Facts a snapshot may simply not carry keep their last known value.
    for name, value in (
        ("satisfaction", data.satisfaction),
        ("contact", contact),
        ("product", product),
        ("helpdesk_org_id", data.organization_id or None),
    ):
        if value is not None:
            values[name] = value
    if existing is None:
        return Ticket(external_id=data.external_id, **values), set(MIRRORED_FIELDS)
    ticket, changed = existing, set()
    for name, value in values.items():
        current = getattr(ticket, f"{name}_id" if name in ("account", "contact", "product") else name)
        wanted = value.pk if name in ("account", "contact", "product") else value
        if current != wanted:
            setattr(ticket, name, value)
            changed.add(name)
    return (ticket if changed else None), changed


# --- Resolving the account ------------------------------------------------------------


def resolve_account(data: TicketData) -> tuple[Account | None, str]:
    """The account a helpdesk ticket belongs to: its customer code, else a helpdesk
    organisation already mapped to an account; else (None, NONE): keep it for a steward."""
    if data.customer_code:
        account = Account.objects.filter(code=data.customer_code).first()
        if account is not None:
            return account, Resolution.TAG if data.code_from_tag else Resolution.CODE
    if data.organization_id:
        alias = (
            AccountAlias.objects.filter(
                kind=AliasKind.HELPDESK_ORG, normalised_value=alias_key(AliasKind.HELPDESK_ORG, data.organization_id)
            )
            .select_related("account")
            .first()
        )
        if alias is not None:
            return alias.account, Resolution.ORGANIZATION
    return None, Resolution.NONE


# --- Webhook ----------------------------------------------------------------------------


@dataclass
class Delivery:
    """What the receiver did with one delivery."""

    event: WebhookEvent
    duplicate: bool


def _apply_event(inbox: WebhookEvent, data: TicketData, account: Account, resolution: str) -> None:
    # Lock the ticket (even one not mirrored yet: a lock on its id, then its rows) so two
    # deliveries for one ticket apply one after the other instead of both inserting it.
    job_lock(f"ticket:{data.source}:{data.external_id}")
    candidates = list(
        Ticket.objects.select_for_update().filter(
            external_id=data.external_id, source__in=[data.source, TicketSource.TRIAGE_SHEET]
        )
    )
    current = _pick_existing(data, account, candidates)
    ticket, _changed = _merge(data, account=account, existing=current, contact=None, product=None)
    if ticket is not None:
        _save(ticket, actor=None, reason=WEBHOOK_REASON)
        inbox.status = EventStatus.APPLIED
    else:
        inbox.status = EventStatus.STALE
    inbox.ticket = ticket or current
    inbox.account = account
    inbox.resolution = resolution
    inbox.processed_at = timezone.now()
    inbox.save(update_fields=["status", "ticket", "account", "resolution", "processed_at"])
    _recompute_after_commit(account.pk)


def receive_webhook(*, body: bytes) -> Delivery:
    """Store a verified delivery once (by event id) and apply it to the mirror.

    A redelivered event changes nothing; an event whose account is not known yet is held
    as unmapped for a steward. Raises PayloadError for a body that is not a ticket event.
    """
    payload = parse_event(body)
    data = payload.ticket
    with transaction.atomic():
        inbox, created = WebhookEvent.objects.get_or_create(
            event_id=payload.event_id,
            defaults={
                "event_type": payload.event_type,
                "ticket_external_id": data.external_id,
                "organization_id": data.organization_id,
                "body": body.decode("utf-8"),
                "status": EventStatus.UNMAPPED,
            },
        )
        if not created:
            return Delivery(event=inbox, duplicate=True)
        account, resolution = resolve_account(data)
        if account is not None:
            _apply_event(inbox, data, account, resolution)
    return Delivery(event=inbox, duplicate=False)


def map_unmapped_event(
    *, event: WebhookEvent, account: Account, actor: AbstractBaseUser, reason: str
) -> list[WebhookEvent]:
    """A steward says which client an unmapped event's helpdesk organisation is.

    The organisation id becomes an alias of the account (so later events resolve by
    themselves), and every event held for that organisation is applied, oldest first.
    """
    if not has_role(actor, DATA_STEWARD):
        raise OwnershipError("Mapping helpdesk organisations is for data stewards.", fields=[])
    if not (reason or "").strip():
        raise OwnershipError("Say why this organisation is this client.", fields=[])
    with transaction.atomic():
        held = WebhookEvent.objects.unmapped().select_for_update()
        if event.organization_id:
            customer_services.add_alias(
                account=account,
                kind=AliasKind.HELPDESK_ORG,
                value=event.organization_id,
                source=f"Helpdesk organisation, mapped from webhook event {event.event_id}",
                actor=actor,
                reason=reason,
            )
            held = held.filter(organization_id=event.organization_id)
        else:
            held = held.filter(pk=event.pk)
        applied = []
        for inbox in held:
            payload = parse_event(inbox.body.encode("utf-8"))
            _apply_event(inbox, payload.ticket, account, Resolution.STEWARD)
            applied.append(inbox)
    return applied


# --- Imports ------------------------------------------------------------------------------


@dataclass
class ImportResult:
    """A file's outcome: counts when it was written, rejected rows when it was not."""

    name: str
    kind: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False
    missing_columns: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    rejected: list[tuple[importers.RawRow, str]] = field(default_factory=list)
    refused: str = ""  # the whole file was refused (damaged, too big): why

    @property
    def ok(self) -> bool:
        return not self.missing_columns and not self.rejected and not self.refused

    def rejected_csv(self) -> bytes:
        return importers.rejected_csv(self.headers, self.rejected)

    def summary(self) -> str:
        if self.refused:
            return f"{self.name}: nothing imported; {self.refused}"
        if self.missing_columns:
            return f"{self.name}: nothing imported; missing column(s) {', '.join(self.missing_columns)}."
        if self.rejected:
            return f"{self.name}: nothing imported; {len(self.rejected)} of {self.rows} row(s) rejected."
        verb = "would import" if self.dry_run else "imported"
        return (
            f"{self.name}: {verb} {self.rows} row(s): {self.created} new ticket(s), {self.updated} updated, "
            f"{self.unchanged} unchanged."
        )


class _AccountIndex:
    """Accounts by client code, helpdesk organisation and (unique) name, read in three
    queries for the whole file."""

    def __init__(self, tickets: list[TicketData]):
        codes = {t.customer_code for t in tickets if t.customer_code}
        orgs = {alias_key(AliasKind.HELPDESK_ORG, t.organization_id) for t in tickets if t.organization_id}
        names = {normalise_name(t.company_name) for t in tickets if t.company_name}
        self.by_code = {a.code: a for a in Account.objects.filter(code__in=codes)}
        self.by_org: dict[str, Account] = {}
        self.by_name: dict[str, set[int]] = defaultdict(set)
        accounts: dict[int, Account] = {}
        for account in Account.objects.filter(normalised_name__in=names - {""}):
            self.by_name[account.normalised_name].add(account.pk)
            accounts[account.pk] = account
        aliases = AccountAlias.objects.filter(
            kind__in=[AliasKind.HELPDESK_ORG, AliasKind.NAME], normalised_value__in=(orgs | names) - {""}
        ).select_related("account")
        for alias in aliases:
            if alias.kind == AliasKind.HELPDESK_ORG:
                self.by_org[alias.normalised_value] = alias.account
            else:
                self.by_name[alias.normalised_value].add(alias.account_id)
                accounts[alias.account_id] = alias.account
        self.accounts = accounts

    def resolve(self, data: TicketData) -> tuple[Account | None, str]:
        if data.customer_code:
            account = self.by_code.get(data.customer_code)
            return (account, "") if account else (None, f"No client {data.customer_code}.")
        if data.organization_id:
            account = self.by_org.get(alias_key(AliasKind.HELPDESK_ORG, data.organization_id))
            if account is not None:
                return account, ""
        if data.company_name:
            matches = self.by_name.get(normalise_name(data.company_name), set())
            if len(matches) == 1:
                return self.accounts[next(iter(matches))], ""
            if matches:
                return None, f"No client code, and “{data.company_name}” names {len(matches)} clients."
            return None, f"No client code, and no client is called “{data.company_name}”."
        return None, "No client code or client name."


def existing_tickets(external_ids: Iterable[str]) -> dict[str, list[Ticket]]:
    """Mirror rows with these helpdesk ids, of any source: one query for a file of up to
    10,000 tickets."""
    wanted = sorted({i for i in external_ids if i})
    found: dict[str, list[Ticket]] = defaultdict(list)
    for start in range(0, len(wanted), LOOKUP_BATCH):
        for ticket in Ticket.objects.filter(OneOf(F("external_id"), wanted[start : start + LOOKUP_BATCH])):
            found[ticket.external_id].append(ticket)
    return found


def _pick_existing(data: TicketData, account: Account, candidates: list[Ticket]) -> Ticket | None:
    same_source = [t for t in candidates if t.source == data.source]
    if same_source:
        return same_source[0]
    if data.source == TicketSource.TRIAGE_SHEET:
        helpdesk = [t for t in candidates if t.source in HELPDESK_SOURCES and t.account_id == account.pk]
        return helpdesk[0] if helpdesk else None
    adopt = [t for t in candidates if t.source == TicketSource.TRIAGE_SHEET and t.account_id == account.pk]
    return adopt[0] if adopt else None


def import_tickets(
    *,
    data: bytes,
    name: str,
    actor: AbstractBaseUser | None,
    reason: str,
    kind: str | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Import a helpdesk export (CSV) or the triage sheet (XLSX), all or nothing.

    Every row is validated and its account resolved first; one bad row and nothing is
    written, and the result carries every rejected row with its reason.
    """
    if actor is not None and not has_role(actor, DATA_STEWARD, SUPPORT_AGENT):
        raise OwnershipError("Importing tickets is for data stewards and support.", fields=[])
    result = ImportResult(name=name, dry_run=dry_run)
    try:
        parsed = importers.read(data, name=name, kind=kind)
    except MissingColumnsError as error:
        result.missing_columns = error.missing
        return result
    except importers.FileRefused as refused:
        result.refused = str(refused)
        return result
    result.kind, result.headers, result.rows = parsed.kind, parsed.headers, len(parsed.rows)
    source = importers.SOURCE_OF_KIND[parsed.kind]
    good: list[tuple[importers.RawRow, TicketData]] = []
    seen: dict[str, int] = {}
    for row in parsed.rows:
        form = TicketRowForm(row.fields, source=source, provenance=f"file {name} row {row.number}")
        if not form.is_valid():
            result.rejected.append((row, form.reason()))
            continue
        ticket = form.cleaned_data["ticket"]
        if ticket.external_id in seen:
            result.rejected.append((row, f"Ticket {ticket.external_id} is also on row {seen[ticket.external_id]}."))
            continue
        seen[ticket.external_id] = row.number
        good.append((row, ticket))
    index = _AccountIndex([t for _, t in good])
    resolved: list[tuple[TicketData, Account]] = []
    for row, ticket in good:
        account, why = index.resolve(ticket)
        if account is None:
            result.rejected.append((row, why))
        else:
            resolved.append((ticket, account))
    if result.rejected:
        result.rejected.sort(key=lambda item: item[0].number)
        return result
    with transaction.atomic():
        plan = plan_tickets(resolved=resolved)
        result.created, result.updated = len(plan.created), len(plan.updated)
        result.unchanged = len(resolved) - result.created - result.updated
        if dry_run:
            transaction.set_rollback(True)
            return result
        save_tickets(plan=plan, actor=actor, reason=f"{reason} ({name})")
    return result


@dataclass
class MirrorPlan:
    """What merging a batch of snapshots into the mirror would do, before any write:
    per snapshot its action ("created", "updated", "unchanged") and mirror row."""

    changes: list[tuple[str, Ticket]] = field(default_factory=list)
    created: list[Ticket] = field(default_factory=list)
    updated: list[Ticket] = field(default_factory=list)
    accounts: set[int] = field(default_factory=set)
    # The fields each updated ticket changed (by id() of the ticket); the rest are written
    # as they are, so only these need writing.
    changed_fields: dict[int, frozenset[str]] = field(default_factory=dict)


def plan_tickets(
    *, resolved: list[tuple[TicketData, Account]], existing: dict[str, list[Ticket]] | None = None
) -> MirrorPlan:
    """Merge snapshots (each with its account, one per ticket) into the mirror, in memory.

    Reads the tickets already mirrored (`existing`, else one query), the requesters'
    contacts and the products: three queries for a whole file, whatever its size.
    """
    if existing is None:
        existing = existing_tickets(t.external_id for t, _ in resolved)
    contacts = _contacts_by_email([t.requester_email for t, _ in resolved])
    products = _products()
    plan = MirrorPlan()
    for ticket, account in resolved:
        current = _pick_existing(ticket, account, existing.get(ticket.external_id, []))
        contact = contacts.get((account.pk, ticket.requester_email))
        product = products.get(ticket.product_name.lower()) if ticket.product_name else None
        merged, changed = _merge(ticket, account=account, existing=current, contact=contact, product=product)
        plan.accounts.add(account.pk)
        if merged is None:
            plan.changes.append(("unchanged", current))
        elif merged.pk is None:
            plan.created.append(merged)
            plan.changes.append(("created", merged))
        else:
            plan.updated.append(merged)
            plan.changed_fields[id(merged)] = frozenset(changed)
            plan.changes.append(("updated", merged))
    return plan


def save_tickets(*, plan: MirrorPlan, actor: AbstractBaseUser | None, reason: str, rescore: bool = True) -> MirrorPlan:
    """Write a plan in bulk with a history row per ticket (a ticket's own `_change_reason`
    wins over `reason`), then rescore the clients touched once the transaction commits.

    Updated tickets are written in groups that changed the same fields, each group's
    statement setting just those (a triage sheet mostly raises a priority or fills a
    gap); every history row is still the whole ticket."""
    now = timezone.now()  # one history time for the batch, not a clock read per ticket
    with transaction.atomic():
        bulkload.insert_with_history(plan.created, date=now, default_user=actor, default_reason=reason)
        groups: dict[frozenset[str], list[Ticket]] = defaultdict(list)
        for ticket in plan.updated:
            groups[plan.changed_fields.get(id(ticket), frozenset(MIRRORED_FIELDS))].append(ticket)
        for names, group in sorted(groups.items(), key=lambda item: sorted(item[0])):
            bulkload.update_with_history(
                group,
                [name for name in MIRRORED_FIELDS if name in names],
                date=now,
                default_user=actor,
                default_reason=reason,
            )
        if rescore and plan.accounts:
            touched = sorted(plan.accounts)
            from support_bridge import tasks

            transaction.on_commit(lambda: tasks.recompute_accounts_risk.delay(touched))
    return plan


def _contacts_by_email(emails: list[str]) -> dict[tuple[int, str], Contact]:
    wanted = {e for e in emails if e}
    if not wanted:
        return {}
    found = Contact.objects.annotate(lower_email=Lower("email")).filter(OneOf(Lower("email"), sorted(wanted)))
    return {(c.account_id, c.lower_email): c for c in found}


def _products() -> dict[str, Product]:
    products = {}
    for product in Product.objects.all():
        products[product.name.lower()] = product
        products[product.code.lower()] = product
    return products


def load_tickets(*, tickets: list[Ticket], reason: str) -> int:
    """Bulk-load new mirror rows (the demo world), with a history row each."""
    with transaction.atomic():
        bulkload.insert_with_history(tickets, date=timezone.now(), default_reason=reason)
    return len(tickets)


# --- Churn risk -----------------------------------------------------------------------------


@dataclass
class RiskRun:
    accounts: int = 0
    created: int = 0
    changed: int = 0
    alerts: int = 0
    high: int = 0

    def summary(self) -> str:
        return (
            f"Churn risk: {self.accounts:,} accounts scored ({self.created:,} new, {self.changed:,} changed), "
            f"{self.high:,} high, {self.alerts:,} new alert(s)."
        )


def _recompute_after_commit(account_id: int) -> None:
    from support_bridge import tasks

    transaction.on_commit(lambda: tasks.recompute_account_risk.delay(account_id))


def recompute_risk(
    *, account_ids: set[int] | list[int] | None = None, now: dt.datetime | None = None, reason: str = RISK_REASON
) -> RiskRun:
    """Score every current client (the nightly run) or just `account_ids` (a ticket event).

    Set-based: a few aggregate queries, then bulk writes of the scores that changed. The
    nightly run also stores each segment's peer median, which single-account runs read.
    A rise to high raises one alert for the account owner.
    """
    now = now or timezone.now()
    facts = risk.gather(account_ids=account_ids, now=now)
    with transaction.atomic():
        # The nightly run and a ticket's rescore take one lock: each reads the stored
        # scores after the other committed, so one rise raises one alert.
        job_lock(RISK_LOCK)
        if account_ids is None:
            medians = risk.peer_medians(facts.values())
            for segment, peer in medians.items():
                PeerBaseline.objects.update_or_create(
                    segment=segment,
                    defaults={"median_tickets": peer["median"], "accounts": peer["accounts"], "computed_at": now},
                )
            median_of = {segment: peer["median"] for segment, peer in medians.items()}
            stored = RiskScore.objects.all()
        else:
            median_of = risk.stored_medians()
            stored = RiskScore.objects.filter(OneOf(F("account_id"), list(facts)))
        assessments = risk.assess_all(facts, median_of, now=now)
        existing = {s.account_id: s for s in stored.only("pk", "account_id", "score", "band", "reasons")}
        created, changed, rises = [], [], []
        for assessment in assessments:
            score = existing.get(assessment.account_id)
            was_high = score is not None and score.band == RiskBand.HIGH
            if score is None:
                score = RiskScore(
                    account_id=assessment.account_id,
                    score=assessment.score,
                    band=assessment.band,
                    reasons=assessment.reasons,
                    computed_at=now,
                )
                created.append(score)
            elif (score.score, score.band, score.reasons) != (assessment.score, assessment.band, assessment.reasons):
                score.score, score.band, score.reasons, score.computed_at = (
                    assessment.score,
                    assessment.band,
                    assessment.reasons,
                    now,
                )
                changed.append(score)
            if assessment.band == RiskBand.HIGH and not was_high:
                rises.append(assessment)
        bulkload.insert_with_history(created, date=now, default_reason=reason)
        bulkload.update_with_history(
            changed, ["score", "band", "reasons", "computed_at"], date=now, default_reason=reason
        )
        # Unchanged scores were still checked now. `computed_at` is excluded from history,
        # so this bare update writes no customer fact.
        fresh = RiskScore.objects.filter(computed_at__lt=now)
        (fresh if account_ids is None else fresh.filter(OneOf(F("account_id"), list(facts)))).update(computed_at=now)
        if account_ids is None:
            # Prospects and churned clients are no longer scored.
            for gone in RiskScore.objects.exclude(account_id__in=risk.scored_accounts().values("pk")):
                gone._change_reason = "No longer a current client"
                gone.delete()
        _raise_risk_alerts(rises, now=now)
    return RiskRun(
        accounts=len(assessments),
        created=len(created),
        changed=len(changed),
        alerts=len(rises),
        high=sum(1 for a in assessments if a.band == RiskBand.HIGH),
    )


def _raise_risk_alerts(rises: list[risk.Assessment], *, now: dt.datetime) -> list[ChurnAlert]:
    """One alert per rise to high, written together (with a history row each, by the
    system); then each on its client's timeline, and each owner emailed after commit."""
    # At most one open risk alert per account (also a database constraint): a rise while
    # the last one is still unacknowledged is already in front of its owner.
    already_open = set(
        ChurnAlert.objects.filter(
            kind=AlertKind.RISK, acknowledged_at__isnull=True, account_id__in=[a.account_id for a in rises]
        ).values_list("account_id", flat=True)
    )
    rises[:] = [a for a in rises if a.account_id not in already_open]
    if not rises:
        return []
    accounts = Account.objects.in_bulk([a.account_id for a in rises])
    alerts = []
    for assessment in rises:
        account = accounts[assessment.account_id]
        alert = ChurnAlert(
            account=account,
            owner_id=account.owner_id,
            kind=AlertKind.RISK,
            score=assessment.score,
            band=assessment.band,
            reasons=assessment.reasons,
            created_at=now,
        )
        alert._change_reason, alert._history_user = ALERT_REASON, None
        alerts.append(alert)
    bulkload.insert_with_history(alerts, date=now, default_reason=ALERT_REASON)
    customer_services.log_system_activities(
        activities=[
            Activity(
                account=alert.account,
                kind=ActivityKind.ALERT,
                summary=f"Churn risk rose to high ({assessment.score}/100)",
                detail="; ".join(assessment.reasons),
                occurred_at=now,
            )
            for alert, assessment in zip(alerts, rises, strict=True)
        ],
        reason="Churn-risk alert for the account owner",
    )
    _notify_after_commit(alerts)
    return alerts


NOTIFY_BATCH = 200  # alerts per email task: one query and one mail connection for each batch


def _notify_after_commit(alerts: list[ChurnAlert]) -> None:
    from support_bridge import tasks

    ids = [alert.pk for alert in alerts]
    for start in range(0, len(ids), NOTIFY_BATCH):
        batch = ids[start : start + NOTIFY_BATCH]
        transaction.on_commit(lambda batch=batch: tasks.notify_alert_owners.delay(batch))


def raise_concern(*, account: Account, actor: AbstractBaseUser, message: str) -> ChurnAlert:
    """A support agent tells the account owner something is wrong, by hand."""
    if not has_role(actor, *CONCERN_ROLES):
        raise OwnershipError("Raising a concern is for support and customer relations.", fields=[])
    message = (message or "").strip()
    if not message:
        raise OwnershipError("Say what the concern is.", fields=["message"])
    score = RiskScore.objects.filter(account=account).first()
    with transaction.atomic():
        alert = ChurnAlert(
            account=account,
            owner_id=account.owner_id,
            kind=AlertKind.CONCERN,
            score=score.score if score else None,
            band=score.band if score else "",
            reasons=score.reasons if score else [],
            message=message,
            raised_by=actor,
        )
        _save(alert, actor=actor, reason="Concern raised by support")
        customer_services.log_activity(
            account=account,
            actor=actor,
            kind=ActivityKind.ALERT,
            summary="Support raised a concern for the account owner",
            detail=message,
            reason="Concern raised by support",
        )
        _notify_after_commit([alert])
    return alert


def acknowledge_alert(*, alert: ChurnAlert, actor: AbstractBaseUser, note: str) -> ChurnAlert:
    """The owner (or their manager) acknowledges an alert with what they are doing about it."""
    if alert.owner_id != actor.pk and not has_role(actor, SALES_MANAGER, DATA_STEWARD):
        raise OwnershipError("Only the account owner or a sales manager acknowledges this alert.", fields=[])
    note = (note or "").strip()
    if not note:
        raise OwnershipError("Add a note: what are you doing about it?", fields=["note"])
    with transaction.atomic():
        alert = ChurnAlert.objects.select_for_update().select_related("account").get(pk=alert.pk)
        if alert.acknowledged_at is not None:
            return alert  # already acknowledged (a double click): nothing to do twice
        alert.acknowledged_by, alert.acknowledged_at, alert.note = actor, timezone.now(), note
        _save(alert, actor=actor, reason="Alert acknowledged")
        customer_services.log_activity(
            account=alert.account,
            actor=actor,
            kind=ActivityKind.NOTE,
            summary=f"Acknowledged: {alert.get_kind_display().lower()}",
            detail=note,
            reason="Alert acknowledged",
        )
    return alert
