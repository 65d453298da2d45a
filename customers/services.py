"""Every write to the golden record.

Each function is one atomic action with an explicit `actor` and `reason`: it checks field
ownership, validates, applies optimistic concurrency where the model has a `version`,
and saves so django-simple-history records who, what and why. Views, the admin,
commands, tasks and imports all call these; nothing else writes customer facts.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from simple_history.models import HistoricalChanges

from cloudcore_crm.lib import bulkload
from cloudcore_crm.lib.text import single_line
from cloudcore_crm.roles import DATA_STEWARD, has_role
from customers import dedupe, ownership
from customers.choices import ActivityKind, AliasKind, DuplicateStatus, LostReason, OpportunityStage
from customers.errors import (
    AliasTakenError,
    ConflictError,
    MergeError,
    OwnershipError,
    StaleMoveError,
)
from customers.history import changes_since
from customers.matching import alias_key
from customers.models import (
    Account,
    AccountAlias,
    AccountMerge,
    Activity,
    Contact,
    ContactDuplicateCandidate,
    ContactMerge,
    DuplicateCandidate,
    Opportunity,
    StageChange,
    Subscription,
    account_code,
)
from customers.validators import clean_abn

DEFAULT_CREATE_REASON = "Created on the customer page"
# The duplicate queue and merge records point at the records they are about; they stay put.
_NOT_MOVED = (DuplicateCandidate, ContactDuplicateCandidate, AccountMerge, ContactMerge)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, models.Model) or isinstance(b, models.Model):
        return getattr(a, "pk", a) == getattr(b, "pk", b)
    return a == b


def _normalise_values(model: type[models.Model], values: dict[str, Any]) -> dict[str, Any]:
    values = dict(values)
    if "abn" in values:
        values["abn"] = clean_abn(values["abn"])
    for name, value in list(values.items()):
        model_field = model._meta.get_field(name)
        if isinstance(value, str) and not model_field.is_relation:
            # A single-line field never keeps CR, LF or another control character (they
            # break email headers, CSVs and file names later); free text keeps its lines.
            values[name] = (value if isinstance(model_field, models.TextField) else single_line(value)).strip()
    return values


def _save_with_history(instance: models.Model, *, actor: AbstractBaseUser | None, reason: str) -> None:
    instance._change_reason = reason
    instance._history_user = actor
    instance.save()


def _create(
    instance: models.Model, *, actor: AbstractBaseUser, reason: str, values: dict[str, Any], exclude: tuple = ()
) -> models.Model:
    """Save a new record built on `instance` (which carries its account or code) with `values`.

    Supplying a field the actor does not own is refused, unless a steward overrides it
    with a reason: Customer Relations cannot set a contract value while adding a row.
    """
    model = type(instance)
    ownership.check_create(actor, model, account=getattr(instance, "account", None) if model is not Account else None)
    for field in values:
        ownership.rule_for(model, field)  # unknown fields are refused, not silently saved
    for field, value in _normalise_values(model, values).items():
        setattr(instance, field, value)
    foreign = [f for f in values if not ownership.owns(actor, instance, f)]
    if foreign:
        ownership.check_write(actor, instance, foreign, reason)
    ownership.check_assignment(actor, instance, values)
    instance.full_clean(exclude=list(exclude))
    _save_with_history(instance, actor=actor, reason=reason or DEFAULT_CREATE_REASON)
    return instance


@transaction.atomic
def _update(
    instance: models.Model,
    *,
    changes: dict[str, Any],
    expected_version: int | None,
    actor: AbstractBaseUser,
    reason: str,
) -> models.Model:
    """Apply `changes` to a record if the actor owns them and nobody saved in between."""
    model = type(instance)
    changes = _normalise_values(model, changes)
    versioned = hasattr(instance, "version")
    if versioned:
        if expected_version is None:
            raise ValueError(f"Updating a {model._meta.verbose_name} needs the version the user saw.")
        # The version claim is the UPDATE ... WHERE id=? AND version=? of DESIGN.md: on
        # PostgreSQL it row-locks, so a concurrent save waits and then finds 0 rows. Only
        # `version` changes here; the full save below records the history row.
        claimed = model._default_manager.filter(pk=instance.pk, version=expected_version).update(
            version=expected_version + 1
        )
        if not claimed:
            fresh = model._default_manager.get(pk=instance.pk)
            raise ConflictError(current_version=fresh.version, changes=changes_since(fresh, expected_version))
    current = model._default_manager.select_related(*_account_relation(model)).get(pk=instance.pk)
    changed = {name: value for name, value in changes.items() if not _same(getattr(current, name), value)}
    if not changed:
        if versioned:
            # Nothing to save: give the version back so the user's next save is not a conflict.
            model._default_manager.filter(pk=instance.pk).update(version=expected_version)
        return current
    ownership.check_write(actor, current, changed, reason)
    ownership.check_assignment(actor, current, changed)
    if not (reason or "").strip():
        raise OwnershipError("Say why you are making this change.", fields=[])
    for name, value in changed.items():
        setattr(current, name, value)
    if versioned:
        current.version = expected_version + 1
    current.full_clean()
    _save_with_history(current, actor=actor, reason=reason.strip())
    return current


def _account_relation(model: type[models.Model]) -> list[str]:
    return ["account"] if model is not Account else []


# --- Accounts -------------------------------------------------------------------------


def _next_account_number() -> int:
    return (Account.objects.aggregate(top=Max("number"))["top"] or 0) + 1


def create_account(*, actor: AbstractBaseUser, reason: str = "", number: int | None = None, **values: Any) -> Account:
    """A new client with the next free client code (CC001, CC002, ...)."""
    for attempt in range(3):
        try:
            with transaction.atomic():
                chosen = number or _next_account_number()
                base = Account(number=chosen, code=account_code(chosen))
                return _create(base, actor=actor, reason=reason, values=values, exclude=("number", "code"))
        except IntegrityError:
            # Two people took the same next number; the loser takes the one after.
            if number is not None or attempt == 2:
                raise
    raise AssertionError("unreachable")


def update_account(
    *, account: Account, changes: dict[str, Any], expected_version: int, actor: AbstractBaseUser, reason: str
) -> Account:
    return _update(account, changes=changes, expected_version=expected_version, actor=actor, reason=reason)


def reassign_owner(
    *, accounts: list[Account], owner: AbstractBaseUser, actor: AbstractBaseUser, reason: str
) -> list[Account]:
    """Give many accounts one new owner (a sales manager's bulk action), with one reason.

    Each account is saved on its own, so each gets its own history row (who, old -> new,
    why); all or none. Accounts already owned by `owner` are left as they are.
    """
    if not (reason or "").strip():
        raise OwnershipError("Say why these accounts change hands.", fields=["owner"])
    changed = []
    with transaction.atomic():
        locked = Account.objects.select_for_update().filter(pk__in=[a.pk for a in accounts]).order_by("pk")
        for account in locked:
            if account.owner_id == owner.pk:
                continue
            changed.append(
                _update(account, changes={"owner": owner}, expected_version=account.version, actor=actor, reason=reason)
            )
    return changed


def add_alias(
    *,
    account: Account,
    kind: str = AliasKind.NAME,
    value: str,
    source: str = "",
    actor: AbstractBaseUser | None,
    reason: str,
) -> AccountAlias:
    """Remember another name or external id for an account (idempotent).

    `actor=None` is the system itself (an import or a merge acting for a steward).
    """
    if actor is not None:
        ownership.check_create(actor, AccountAlias, account=account)
    value = value.strip()
    key = alias_key(kind, value)
    found = AccountAlias.objects.filter(kind=kind, normalised_value=key).select_related("account")
    for alias in found:
        if alias.account_id == account.pk:
            return alias
        if kind != AliasKind.NAME:
            raise AliasTakenError(f"{alias.get_kind_display()} {value} already belongs to {alias.account}.")
    alias = AccountAlias(account=account, kind=kind, value=value, source=source)
    alias.full_clean(exclude=["normalised_value"])
    with transaction.atomic():
        _save_with_history(alias, actor=actor, reason=reason)
    return alias


# --- Contacts -------------------------------------------------------------------------


def create_contact(*, account: Account, actor: AbstractBaseUser, reason: str = "", **values: Any) -> Contact:
    with transaction.atomic():
        return _create(Contact(account=account), actor=actor, reason=reason, values=values)


def update_contact(
    *, contact: Contact, changes: dict[str, Any], expected_version: int, actor: AbstractBaseUser, reason: str
) -> Contact:
    return _update(contact, changes=changes, expected_version=expected_version, actor=actor, reason=reason)


# --- Subscriptions --------------------------------------------------------------------


def create_subscription(*, account: Account, actor: AbstractBaseUser, reason: str = "", **values: Any) -> Subscription:
    """Customer Relations adds the subscription; its contract value and tenancy are set by
    their owners (Finance, Provisioning) afterwards, unless a steward sets them now."""
    with transaction.atomic():
        return _create(Subscription(account=account), actor=actor, reason=reason, values=values)


def update_subscription(
    *, subscription: Subscription, changes: dict[str, Any], expected_version: int, actor: AbstractBaseUser, reason: str
) -> Subscription:
    return _update(subscription, changes=changes, expected_version=expected_version, actor=actor, reason=reason)


# --- Opportunities --------------------------------------------------------------------


def _require_lost_reason(stage: str, lost_reason: str) -> None:
    if stage == OpportunityStage.LOST and lost_reason not in LostReason.values:
        raise ValidationError({"lost_reason": "Say why the deal was lost: choose a reason from the list."})


def create_opportunity(*, account: Account, actor: AbstractBaseUser, reason: str = "", **values: Any) -> Opportunity:
    """A rep opens deals for themselves; a sales manager (or steward) may assign any rep.
    The deal's first stage row records where it started."""
    values.setdefault("owner", actor)
    with transaction.atomic():
        _require_lost_reason(values.get("stage", OpportunityStage.SUSPECT), values.get("lost_reason", ""))
        opportunity = _create(Opportunity(account=account), actor=actor, reason=reason, values=values)
        StageChange.objects.create(
            opportunity=opportunity, to_stage=opportunity.stage, actor=actor, reason=reason or DEFAULT_CREATE_REASON
        )
        return opportunity


@transaction.atomic
def update_opportunity(
    *, opportunity: Opportunity, changes: dict[str, Any], actor: AbstractBaseUser, reason: str
) -> Opportunity:
    """Edit a deal; a change of stage is also kept as a stage row (who, when, why), and
    closing as lost needs a reason from the list."""
    before = Opportunity.objects.select_for_update().values_list("stage", "lost_reason").get(pk=opportunity.pk)
    stage = changes.get("stage", before[0])
    if stage != before[0]:
        _require_lost_reason(stage, changes.get("lost_reason", before[1]))
    updated = _update(opportunity, changes=changes, expected_version=None, actor=actor, reason=reason)
    if updated.stage != before[0]:
        StageChange.objects.create(
            opportunity=updated, from_stage=before[0], to_stage=updated.stage, actor=actor, reason=reason.strip()
        )
    return updated


@transaction.atomic
def move_opportunity(
    *,
    opportunity: Opportunity,
    to_stage: str,
    expected_stage: str,
    actor: AbstractBaseUser,
    reason: str = "",
    lost_reason: str = "",
    lost_note: str = "",
) -> Opportunity:
    """Move a deal to another stage from the pipeline board. `expected_stage` is the column
    the person saw it in: if someone moved it meanwhile, the move is refused and says who."""
    current = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
    if current.stage != expected_stage:
        last = StageChange.objects.filter(opportunity=current).select_related("actor").order_by("-at", "-pk").first()
        who = (last.actor.get_full_name() or last.actor.get_username()) if last and last.actor else "someone else"
        when = timezone.localtime(last.at).strftime("%-d %b %Y %H:%M") if last else ""
        raise StaleMoveError(
            f"{current.name} was moved to {current.get_stage_display()} by {who}"
            + (f" at {when}" if when else "")
            + " after you loaded the board. Nothing was changed."
        )
    changes: dict[str, Any] = {"stage": to_stage}
    if to_stage == OpportunityStage.LOST:
        changes.update(lost_reason=lost_reason, lost_note=lost_note)
    labels = dict(OpportunityStage.choices)
    reason = reason.strip() or f"Moved from {labels[expected_stage]} to {labels.get(to_stage, to_stage)} on the board"
    return update_opportunity(opportunity=current, changes=changes, actor=actor, reason=reason)


# --- Timeline -------------------------------------------------------------------------


def log_activity(
    *,
    account: Account,
    actor: AbstractBaseUser | None,
    summary: str,
    kind: str = ActivityKind.NOTE,
    detail: str = "",
    contact: Contact | None = None,
    occurred_at=None,
    reason: str = "Logged on the timeline",
) -> Activity:
    """Add an entry to the account's timeline. `actor=None` is the system itself."""
    _check_contact_of(account.pk, contact)
    if actor is not None:
        ownership.check_create(actor, Activity, account=account)
    activity = Activity(account=account, actor=actor, kind=kind, summary=summary, detail=detail, contact=contact)
    if occurred_at is not None:
        activity.occurred_at = occurred_at
    activity.full_clean()
    with transaction.atomic():
        _save_with_history(activity, actor=actor, reason=reason)
    return activity


def log_system_activities(*, activities: list[Activity], reason: str) -> list[Activity]:
    """Timeline entries by the system itself (a churn-risk alert for each of many
    clients), validated one by one and written together, each with its history row."""
    for activity in activities:
        _check_contact_of(activity.account_id, activity.contact)
        activity.actor = None
        activity.clean_fields(exclude=["account", "contact", "actor"])
        activity._history_user = None  # the system, not whoever's request is running
    with transaction.atomic():
        bulkload.insert_with_history(activities, date=timezone.now(), default_reason=reason)
    return activities


def _check_contact_of(account_id: int, contact: Contact | None) -> None:
    if contact is not None and contact.account_id != account_id:
        raise OwnershipError("That contact belongs to another account.", fields=["contact"])


# --- Steward --------------------------------------------------------------------------


def steward_update(
    *,
    instance: models.Model,
    changes: dict[str, Any],
    expected_version: int | None,
    actor: AbstractBaseUser,
    reason: str,
) -> models.Model:
    """An edit from the steward admin: the same checks as every other update."""
    return _update(instance, changes=changes, expected_version=expected_version, actor=actor, reason=reason)


# --- Duplicates: scan, review, merge, undo ---------------------------------------------

MERGE_SOURCE = "merge"


@dataclass
class ScanResult:
    """What one duplicate scan did to the queue."""

    accounts: int = 0
    account_pairs: int = 0
    contacts: int = 0
    contact_pairs: int = 0
    created: int = 0
    updated: int = 0
    removed: int = 0
    seconds: float = 0.0
    stats: dedupe.ScanStats = dataclass_field(default_factory=dedupe.ScanStats)

    def summary(self) -> str:
        return (
            f"Scanned {self.accounts:,} accounts and {self.contacts:,} contacts in {self.seconds:.1f}s: "
            f"{self.account_pairs:,} account pairs and {self.contact_pairs:,} contact pairs look like duplicates "
            f"({self.created:,} new, {self.updated:,} updated, {self.removed:,} no longer matching)."
        )


def _history_reason(text: str) -> str:
    """A change reason that fits the history tables' reason column (simple-history's
    default is 100 characters); the merge record keeps the whole reason."""
    limit = Account.history.model._meta.get_field("history_change_reason").max_length
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def _require_steward(actor: AbstractBaseUser | None, action: str) -> None:
    if not has_role(actor, DATA_STEWARD):
        raise OwnershipError(f"Only data stewards may {action}.", fields=[])


def _sync_queue(
    model: type[DuplicateCandidate | ContactDuplicateCandidate],
    found: dict[tuple[int, int], tuple[int, tuple[str, ...]]],
) -> tuple[int, int, int]:
    """Bring one queue in line with a scan: add new pairs, refresh open ones, drop open pairs
    that no longer match. Reviewed pairs (not a duplicate, merged) are left alone, so a
    decision is never proposed again."""
    a_id, b_id = (f"{side}_id" for side in model.SIDES)
    now = timezone.now()
    existing = {
        (a, b): (pk, status, score, evidence)
        for pk, a, b, status, score, evidence in model._default_manager.values_list(
            "pk", a_id, b_id, "status", "score", "evidence"
        ).iterator(chunk_size=20_000)
    }
    new, refreshed = [], []
    for (a, b), (score, evidence) in found.items():
        known = existing.get((a, b))
        if known is None:
            row = model(**{a_id: a, b_id: b}, score=score, evidence=list(evidence), found_at=now, last_seen_at=now)
            new.append(row)
        elif known[1] == DuplicateStatus.OPEN:
            refreshed.append(model(pk=known[0], score=score, evidence=list(evidence), last_seen_at=now))
    stale = [known[0] for pair, known in existing.items() if known[1] == DuplicateStatus.OPEN and pair not in found]
    model._default_manager.bulk_create(new, batch_size=2000, ignore_conflicts=True)
    model._default_manager.bulk_update(refreshed, ["score", "evidence", "last_seen_at"], batch_size=1000)
    for start in range(0, len(stale), 2000):
        model._default_manager.filter(pk__in=stale[start : start + 2000], status=DuplicateStatus.OPEN).delete()
    return len(new), len(refreshed), len(stale)


def scan_duplicates(*, records: list[dedupe.MatchRecord] | None = None) -> ScanResult:
    """Fill the review queue with account and contact pairs that look like duplicates.

    Idempotent: a second run changes nothing. `records` lets the benchmark time the same
    matching on records it built; by default every account not merged away is read.
    """
    started = time.perf_counter()
    result = ScanResult()
    records = dedupe.account_records() if records is None else records
    pairs = dedupe.find_pairs(records, result.stats)
    contacts = dedupe.contact_records()
    contact_pairs = dedupe.contact_pairs(contacts)
    with transaction.atomic():
        counts = _sync_queue(DuplicateCandidate, {(p.a.pk, p.b.pk): (p.score, p.evidence) for p in pairs})
        contact_counts = _sync_queue(
            ContactDuplicateCandidate, {(a, b): (score, evidence) for a, b, score, evidence in contact_pairs}
        )
    result.accounts, result.account_pairs = len(records), len(pairs)
    result.contacts, result.contact_pairs = len(contacts), len(contact_pairs)
    result.created, result.updated, result.removed = (x + y for x, y in zip(counts, contact_counts, strict=True))
    result.seconds = time.perf_counter() - started
    return result


def mark_not_duplicate(
    *, candidate: DuplicateCandidate | ContactDuplicateCandidate, actor: AbstractBaseUser, reason: str = ""
) -> DuplicateCandidate | ContactDuplicateCandidate:
    """Remember that a pair is two different records; no scan proposes it again."""
    _require_steward(actor, "review duplicates")
    with transaction.atomic():
        claimed = (
            type(candidate)
            ._default_manager.filter(pk=candidate.pk, status=DuplicateStatus.OPEN)
            .update(
                status=DuplicateStatus.NOT_DUPLICATE,
                reviewed_by=actor,
                reviewed_at=timezone.now(),
                review_reason=(reason or "").strip()[:300],
            )
        )
        if not claimed:
            raise MergeError("This pair was already reviewed by someone else.")
    candidate.refresh_from_db()
    return candidate


def _raw(instance: models.Model, attname: str) -> Any:
    """A field value as stored in a merge record (JSON-safe, foreign keys as ids)."""
    return json.loads(json.dumps(getattr(instance, attname), cls=DjangoJSONEncoder))


def _field_values(instance: models.Model) -> dict[str, Any]:
    return {f.attname: _raw(instance, f.attname) for f in instance._meta.concrete_fields}


def _display(instance: models.Model, name: str) -> str:
    model_field = instance._meta.get_field(name)
    if model_field.is_relation:
        related = getattr(instance, name)
        if related is None:
            return ""
        if hasattr(related, "get_full_name"):
            return related.get_full_name() or related.username
        return str(related)
    if model_field.choices:
        return str(getattr(instance, f"get_{name}_display")())
    return str(getattr(instance, name) or "")


def _links_to(model: type[models.Model]) -> list[tuple[type[models.Model], models.Field]]:
    """Every foreign key pointing at `model`, found generically so later apps' tables are
    covered; simple-history's copies and the duplicate queue itself are not real links, and
    a model may keep its rows where they are (`moves_on_merge = False`: a frozen record)."""
    links = []
    for relation in model._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and not relation.concrete and (relation.one_to_many or relation.one_to_one)):
            continue
        related = relation.related_model
        if issubclass(related, HistoricalChanges) or related in _NOT_MOVED:
            continue
        if not getattr(related, "moves_on_merge", True):
            continue
        if related is model and relation.field.name == "merged_into":
            continue
        links.append((related, relation.field))
    return sorted(links, key=lambda link: (link[0]._meta.label_lower, link[1].name))


def _save_moved(row: models.Model, *, actor: AbstractBaseUser, reason: str) -> None:
    if hasattr(row, "version") and isinstance(row.version, int):
        row.version += 1  # an edit opened before the move now gets a clear conflict
    with transaction.atomic():
        _save_with_history(row, actor=actor, reason=reason)


def _move_rows(*, source: models.Model, target: models.Model, actor: AbstractBaseUser, reason: str) -> list[dict]:
    """Point every row that points at `source` at `target`, each saved with history.

    A row the survivor already has its own of under a uniqueness rule (its risk score, an
    open churn alert, a name it carries) stays with the duplicate, which leaves every list
    with the merge; the merge record names it."""
    moved = []
    for related, fk in _links_to(type(source)):
        rows, stayed = [], []
        for row in related._default_manager.filter(**{fk.name: source}).order_by("pk"):
            setattr(row, fk.name, target)
            try:
                _save_moved(row, actor=actor, reason=reason)
            except IntegrityError:
                stayed.append(row.pk)
            else:
                rows.append(row.pk)
        if rows or stayed:
            moved.append(
                {
                    "model": related._meta.label_lower,
                    "label": str(related._meta.verbose_name_plural),
                    "field": fk.name,
                    "pks": rows,
                    "stayed": stayed,
                }
            )
    return moved


def _restore_rows(
    *, moved: list[dict], source: models.Model, target: models.Model, actor: AbstractBaseUser, reason: str
) -> None:
    """Point the rows a merge moved back at the duplicate; refuse if any has gone or moved on."""
    plan = []
    for entry in moved:
        related = apps.get_model(entry["model"])
        fk = related._meta.get_field(entry["field"])
        rows = list(related._default_manager.filter(pk__in=entry["pks"], **{fk.name: target}))
        if len(rows) != len(entry["pks"]):
            missing = sorted(set(entry["pks"]) - {row.pk for row in rows})
            raise MergeError(
                f"{len(missing)} {related._meta.verbose_name_plural} moved by the merge no longer belong to "
                f"{target} (ids {', '.join(map(str, missing[:10]))}); undoing would not restore them exactly."
            )
        plan.append((fk, rows))
    for fk, rows in plan:
        for row in rows:
            setattr(row, fk.name, source)
            _save_moved(row, actor=actor, reason=reason)


def _claim(model: type[models.Model], record: models.Model, label: str) -> models.Model:
    """Bump the version the user saw, or explain why not (merged meanwhile, or edited)."""
    claimed = model._default_manager.filter(pk=record.pk, version=record.version, merged_into__isnull=True).update(
        version=F("version") + 1
    )
    fresh = model._default_manager.select_for_update().get(pk=record.pk)
    if claimed:
        return fresh
    if fresh.merged_into_id:
        raise MergeError(f"{label} has already been merged into {fresh.merged_into}; nothing was changed.")
    changes = changes_since(fresh, record.version)
    detail = "; ".join(f"{c.who} changed {c.label} from “{c.old}” to “{c.new}”" for c in changes)
    raise MergeError(
        f"{label} was changed after you opened this pair"
        + (f" ({detail})" if detail else "")
        + ". Nothing was merged: review the pair again."
    )


def _merge(
    *,
    model: type[models.Model],
    merge_model: type[models.Model],
    survivor: models.Model,
    duplicate: models.Model,
    choices: dict[str, str],
    actor: AbstractBaseUser,
    reason: str,
    candidate: models.Model | None,
    label: Callable[[models.Model], str],
) -> tuple[models.Model, models.Model, models.Model]:
    """The merge shared by accounts and contacts: check, claim both versions, move the rows,
    apply the chosen values, mark the duplicate merged and write the merge record."""
    _require_steward(actor, "merge duplicates")
    reason = (reason or "").strip()
    if not reason:
        raise MergeError("Say why you are merging these records.")
    if survivor.pk == duplicate.pk:
        raise MergeError(f"{label(survivor)} cannot be merged into itself.")
    fields = ownership.owned_fields(model)
    unknown = sorted(set(choices) - set(fields))
    if unknown or any(side not in ("survivor", "duplicate") for side in choices.values()):
        raise MergeError(f"Unknown merge choices: {', '.join(unknown) or choices}.")
    with transaction.atomic():
        kept = _claim(model, survivor, label(survivor))
        gone = _claim(model, duplicate, label(duplicate))
        duplicate_values = _field_values(gone)  # as it was, before the merge touched it
        history_reason = _history_reason(f"Merged {label(gone)} into {label(kept)}: {reason}")
        moved = _move_rows(source=gone, target=kept, actor=actor, reason=history_reason)
        provenance, before, after = {}, {}, {}
        for name in fields:
            attname = model._meta.get_field(name).attname
            if _raw(kept, attname) == _raw(gone, attname):
                continue
            source = gone if choices.get(name) == "duplicate" else kept
            field_label = str(model._meta.get_field(name).verbose_name)
            provenance[name] = {
                "label": field_label[:1].upper() + field_label[1:],
                "from": label(source),
                "value": _display(source, name),
            }
            if source is gone:
                before[attname] = _raw(kept, attname)
                setattr(kept, attname, getattr(gone, attname))
                after[attname] = _raw(kept, attname)
        kept.full_clean()
        _save_with_history(kept, actor=actor, reason=history_reason)
        gone.merged_into = kept
        _save_with_history(gone, actor=actor, reason=history_reason)
        merge = merge_model._default_manager.create(
            survivor=kept,
            duplicate=gone,
            candidate=candidate,
            merged_by=actor,
            reason=reason[:300],
            provenance=provenance,
            survivor_before=before,
            survivor_after=after,
            duplicate_values=duplicate_values,
            moved=moved,
        )
        _close_candidates(merge_model, kept, gone, actor, reason)
    return merge, kept, gone


def _close_candidates(
    merge_model: type[models.Model], kept: models.Model, gone: models.Model, actor: AbstractBaseUser, reason: str
) -> None:
    """The merged pair is done; other open pairs with the merged-away record are superseded."""
    queue = merge_model._meta.get_field("candidate").related_model
    a, b = queue.SIDES
    low, high = sorted((kept.pk, gone.pk))
    queue._default_manager.filter(**{a: low, b: high}).update(
        status=DuplicateStatus.MERGED, reviewed_by=actor, reviewed_at=timezone.now(), review_reason=reason[:300]
    )
    queue._default_manager.filter(Q(**{a: gone}) | Q(**{b: gone}), status=DuplicateStatus.OPEN).update(
        status=DuplicateStatus.SUPERSEDED
    )


def _alias_values(gone: Account, kept: Account) -> list[tuple[str, str]]:
    """The duplicate's names and ids, as aliases of the survivor (imports and webhooks that
    still use them then resolve to the survivor)."""
    kept_keys = {form.key for form in dedupe.name_forms(kept.legal_name, kept.trading_name)}
    values = [(AliasKind.LEGACY_CODE, gone.code)]
    for name in (gone.legal_name, gone.trading_name):
        if name and alias_key(AliasKind.NAME, name) not in kept_keys:
            values.append((AliasKind.NAME, name))
    if gone.abn and gone.abn != kept.abn:
        values.append((AliasKind.ABN, gone.abn))
    if gone.xero_contact_id and gone.xero_contact_id != kept.xero_contact_id:
        values.append((AliasKind.XERO_CONTACT, gone.xero_contact_id))
    return values


def merge_accounts(
    *,
    survivor: Account,
    duplicate: Account,
    choices: dict[str, str],
    actor: AbstractBaseUser,
    reason: str,
    candidate: DuplicateCandidate | None = None,
) -> AccountMerge:
    """Merge `duplicate` into `survivor` in one transaction.

    `choices` maps an account field to "survivor" or "duplicate": whose value survives
    (unnamed fields keep the survivor's). The `version` of each account passed in is the
    one the steward saw; if either changed since, nothing is merged. Every row pointing at
    the duplicate moves (saved with history), the duplicate's names and ids become aliases,
    and its code redirects to the survivor. `unmerge_accounts` undoes it within 30 days.
    """
    with transaction.atomic():
        merge, kept, gone = _merge(
            model=Account,
            merge_model=AccountMerge,
            survivor=survivor,
            duplicate=duplicate,
            choices=choices,
            actor=actor,
            reason=reason,
            candidate=candidate,
            label=lambda account: account.code,
        )
        existing = set(AccountAlias.objects.filter(account=kept).values_list("pk", flat=True))
        added = []
        for kind, value in _alias_values(gone, kept):
            try:
                alias = add_alias(
                    account=kept,
                    kind=kind,
                    value=value,
                    source=f"{MERGE_SOURCE} of {gone.code}",
                    actor=actor,
                    reason=_history_reason(f"Merged {gone.code} into {kept.code}: {merge.reason}"),
                )
            except AliasTakenError as error:
                raise MergeError(f"{error} Nothing was merged.") from error
            if alias.pk not in existing:
                added.append(alias.pk)
        merge.added_aliases = added
        merge.save(update_fields=["added_aliases"])
    return merge


def _unmerge(
    *,
    merge_model: type[AccountMerge | ContactMerge],
    merge: AccountMerge | ContactMerge,
    actor: AbstractBaseUser,
    reason: str,
    label: Callable[[models.Model], str],
) -> AccountMerge | ContactMerge:
    _require_steward(actor, "undo merges")
    reason = (reason or "").strip()
    if not reason:
        raise MergeError("Say why you are undoing this merge.")
    model = merge_model._meta.get_field("survivor").related_model
    with transaction.atomic():
        merge = merge_model._default_manager.select_for_update().get(pk=merge.pk)
        if merge.undone_at is not None:
            raise MergeError(f"This merge was already undone on {timezone.localtime(merge.undone_at):%d %b %Y}.")
        if not merge.can_undo:
            raise MergeError(
                f"A merge can be undone for {merge.UNDO_DAYS} days; this one was made on "
                f"{timezone.localtime(merge.merged_at):%d %b %Y}."
            )
        kept = model._default_manager.select_for_update().get(pk=merge.survivor_id)
        gone = model._default_manager.select_for_update().get(pk=merge.duplicate_id)
        if kept.merged_into_id:
            raise MergeError(f"{label(kept)} has since been merged into {kept.merged_into}; undo that merge first.")
        if gone.merged_into_id != kept.pk:
            raise MergeError(f"{label(gone)} is no longer merged into {label(kept)}.")
        edited = [
            str(model._meta.get_field(attname.removesuffix("_id")).verbose_name)
            for attname, value in merge.survivor_after.items()
            if _raw(kept, attname) != value
        ]
        if edited:
            raise MergeError(
                f"{label(kept)} was edited after the merge ({', '.join(edited)}); undoing would overwrite those "
                "edits. Change them back first, or edit the records by hand."
            )
        history_reason = _history_reason(f"Undid the merge of {label(gone)} into {label(kept)}: {reason}")
        for alias in AccountAlias.objects.filter(pk__in=merge.added_aliases):
            alias._change_reason, alias._history_user = history_reason, actor
            alias.delete()
        _restore_rows(moved=merge.moved, source=gone, target=kept, actor=actor, reason=history_reason)
        for attname, value in merge.survivor_before.items():
            setattr(kept, attname, model._meta.get_field(attname.removesuffix("_id")).to_python(value))
        kept.version += 1
        kept.full_clean()
        _save_with_history(kept, actor=actor, reason=history_reason)
        gone.merged_into = None
        gone.version += 1
        _save_with_history(gone, actor=actor, reason=history_reason)
        merge.undone_by, merge.undone_at, merge.undo_reason = actor, timezone.now(), reason[:300]
        merge.save(update_fields=["undone_by", "undone_at", "undo_reason"])
        if merge.candidate_id:
            queue = merge_model._meta.get_field("candidate").related_model
            queue._default_manager.filter(pk=merge.candidate_id).update(
                status=DuplicateStatus.OPEN, reviewed_by=None, reviewed_at=None, review_reason=""
            )
    return merge


def unmerge_accounts(*, merge: AccountMerge, actor: AbstractBaseUser, reason: str) -> AccountMerge:
    """Undo a merge within 30 days: both accounts, their values and every moved row as
    they were, and the aliases the merge added removed."""
    return _unmerge(merge_model=AccountMerge, merge=merge, actor=actor, reason=reason, label=lambda a: a.code)


def _contact_label(contact: Contact) -> str:
    return f"{contact.full_name} (#{contact.pk})"


def merge_contacts(
    *,
    survivor: Contact,
    duplicate: Contact,
    choices: dict[str, str],
    actor: AbstractBaseUser,
    reason: str,
    candidate: ContactDuplicateCandidate | None = None,
) -> ContactMerge:
    """Merge one contact into another: activities and billing-contact references move,
    chosen values survive, and `unmerge_contacts` undoes it within 30 days."""
    merge, _kept, _gone = _merge(
        model=Contact,
        merge_model=ContactMerge,
        survivor=survivor,
        duplicate=duplicate,
        choices=choices,
        actor=actor,
        reason=reason,
        candidate=candidate,
        label=_contact_label,
    )
    return merge


def unmerge_contacts(*, merge: ContactMerge, actor: AbstractBaseUser, reason: str) -> ContactMerge:
    return _unmerge(merge_model=ContactMerge, merge=merge, actor=actor, reason=reason, label=_contact_label)
