"""The customer services in bulk, for imports: the same ownership checks, validation and
per-record reasons as `customers.services`, but records are collected in memory and
written with a few statements per model instead of a few per record.

    writer = BulkWriter(actor)
    account = writer.create(Account(number=12, code="CC012"), values={...}, reason="row 57")
    writer.create(Contact(account=account), values={...}, reason="row 57")
    writer.update(subscription, {"annual_value": total}, reason="Xero, 12 invoice lines")
    writer.flush()

`flush` inserts the new records (parents first), applies the updates after checking that
nobody saved those records since they were read (`version`), and writes one history row
per record with who and why, so the History tab reads exactly as for a one-record save.
A record created and changed again before the flush gets one history row naming every
source of its values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from cloudcore_crm.lib import bulkload
from customers import ownership
from customers.choices import AliasKind
from customers.errors import AliasTakenError, DomainError, OwnershipError
from customers.matching import alias_key
from customers.models import Account, AccountAlias, Activity, Contact, Opportunity, StageChange, Subscription
from customers.services import _normalise_values, _same

# Parents before children, so a child's account has its id when the child is inserted.
WRITE_ORDER: tuple[type[models.Model], ...] = (Account, Contact, Subscription, Opportunity, Activity, AccountAlias)
# Columns computed from others by `set_derived_fields` (written along with their sources).
DERIVED = {
    Account: ["normalised_name", "phone_digits"],
    Contact: ["phone_digits"],
    AccountAlias: ["normalised_value"],
}
BATCH = 1000
MAX_REASONS = 3


class StaleRecordsError(DomainError):
    """Records the writer read were saved by someone else before it could write them."""


@dataclass
class _Pending:
    instance: models.Model
    reasons: list[str]
    fields: set[str] = field(default_factory=set)
    version: int | None = None  # the version read, for an update


def _joined(reasons: list[str]) -> str:
    unique = list(dict.fromkeys(r for r in reasons if r))
    if len(unique) <= MAX_REASONS:
        return "; ".join(unique)
    return "; ".join(unique[:MAX_REASONS]) + f"; and {len(unique) - MAX_REASONS} more"


def _validate(instance: models.Model, names: Iterable[str]) -> None:
    """Field validation of the values being written, as `Model.clean_fields` does it
    (relations are model instances already, and the database checks the table
    constraints at the flush)."""
    errors = {}
    for model_field, attname, blank, empty_values, remembered in _validated_fields(type(instance), tuple(names)):
        raw_value = getattr(instance, attname)
        if blank and raw_value in empty_values:
            continue
        try:
            setattr(instance, attname, _cleaned(model_field, raw_value, instance, remembered))
        except ValidationError as error:
            errors[model_field.name] = error.error_list
    if errors:
        raise ValidationError(errors)


def _cleaned(model_field: models.Field, value: Any, instance: models.Model, remembered: dict | None) -> Any:
    """`Field.clean`, remembered per field and value where the result depends on the value
    alone (`remembered` is None where it does not): an import repeats values (a status,
    a segment, a term) thousands of times. A value that fails is not remembered, so its
    error is raised afresh each time."""
    if remembered is None:
        return model_field.clean(value, instance)
    key = (type(value), value)  # the type keeps 1, 1.0 and True apart
    try:
        return remembered[key]
    except KeyError:
        pass
    except TypeError:  # unhashable (a list for a JSON field): not remembered
        return model_field.clean(value, instance)
    cleaned = model_field.clean(value, instance)
    if len(remembered) >= _CLEANED_PER_FIELD:
        remembered.clear()
    remembered[key] = cleaned
    return cleaned


_CLEANED: dict[models.Field, dict[tuple, Any]] = {}  # model field -> {(type, value): cleaned value}
_CLEANED_PER_FIELD = 20_000


@cache  # by the names in the order given: a writer passes the same few orders again and again
def _validated_fields(model: type[models.Model], names: tuple[str, ...]) -> list[tuple]:
    """(field, attname, blank, empty values, its remembered cleanings or None) for each
    named field that `_validate` cleans."""
    wanted = set(names)
    validated = []
    for f in model._meta.fields:
        if f.name in wanted and not f.is_relation and not f.generated:
            # A field whose `validate` is its own may read the instance: never remembered.
            remembered = _CLEANED.setdefault(f, {}) if type(f).validate is models.Field.validate else None
            validated.append((f, f.attname, f.blank, f.empty_values, remembered))
    return validated


@cache  # a refusal raises and is not remembered; an accepted set of names is asked again and again
def _require_owned_fields(model: type[models.Model], names: tuple[str, ...]) -> None:
    for name in names:
        ownership.rule_for(model, name)


class BulkWriter:
    """Creates and updates by one actor, written together at `flush`."""

    def __init__(self, actor: AbstractBaseUser):
        self.actor = actor
        self._creates: dict[type, dict[int, _Pending]] = {model: {} for model in WRITE_ORDER}
        self._updates: dict[type, dict[int, _Pending]] = {model: {} for model in WRITE_ORDER}
        self._aliases: dict[tuple[str, str], set[int]] | None = None  # (kind, key) -> account refs
        self._keep: list[Account] = []  # accounts referred to by id(), kept alive
        self.written: dict[str, int] = {}
        # Deals created or moved: each becomes a stage row (from, to, why) at the flush.
        self._stage_moves: list[tuple[Opportunity, str, str, str]] = []

    @property
    def pending(self) -> int:
        return sum(len(c) for c in self._creates.values()) + sum(len(u) for u in self._updates.values())

    def is_new(self, instance: models.Model) -> bool:
        return id(instance) in self._creates[type(instance)]

    # --- Collecting ------------------------------------------------------------------
    def create(self, instance: models.Model, *, values: dict[str, Any], reason: str) -> models.Model:
        """A new record built on `instance` (which carries its account, or its code)."""
        model = type(instance)
        account = getattr(instance, "account", None) if model is not Account else None
        ownership.check_create(self.actor, model, account=account)
        _require_owned_fields(model, tuple(values))  # unknown fields are refused, not silently saved
        values = _normalise_values(model, values)
        for name, value in values.items():
            setattr(instance, name, value)
        if model in DERIVED:
            instance.set_derived_fields()  # so matching sees the normalised name at once
        ownership.require_write(self.actor, instance, values, reason)  # a steward's override needs the reason
        _validate(instance, values)
        self._creates[model][id(instance)] = _Pending(instance, [reason])
        if model is Opportunity:
            self._stage_moves.append((instance, "", instance.stage, reason))
        return instance

    def update(self, instance: models.Model, changes: dict[str, Any], *, reason: str) -> bool:
        """Change fields the actor owns; returns False when nothing differs."""
        model = type(instance)
        changes = _normalise_values(model, changes)
        changed = {name: value for name, value in changes.items() if not _same(getattr(instance, name), value)}
        if not changed:
            return False
        if not (reason or "").strip():
            raise OwnershipError("Say why you are making this change.", fields=[])
        ownership.require_write(self.actor, instance, changed, reason)
        if model is Opportunity and "stage" in changed:
            self._stage_moves.append((instance, instance.stage, changed["stage"], reason))
        for name, value in changed.items():
            setattr(instance, name, value)
        if model in DERIVED:
            instance.set_derived_fields()
        _validate(instance, changed)
        key = id(instance)
        if key in self._creates[model]:
            self._creates[model][key].reasons.append(reason)
            return True
        pending = self._updates[model].get(key)
        if pending is None:
            pending = self._updates[model][key] = _Pending(instance, [], version=getattr(instance, "version", None))
        pending.fields.update(changed)
        pending.reasons.append(reason)
        return True

    def add_alias(self, *, account: Account, value: str, source: str, reason: str, kind: str = AliasKind.NAME) -> bool:
        """Remember another name or external id for an account (idempotent, like
        `services.add_alias`); returns True when the alias is new."""
        ownership.check_create(self.actor, AccountAlias, account=account)
        value = value.strip()
        key = (kind, alias_key(kind, value))
        holders = self._alias_holders().setdefault(key, set())
        ref = self._ref(account)
        if ref in holders:
            return False
        if holders and kind != AliasKind.NAME:
            raise AliasTakenError(f"{AliasKind(kind).label} {value} already belongs to another account.")
        holders.add(ref)
        alias = AccountAlias(account=account, kind=kind, value=value, source=source)
        _validate(alias, ["kind", "value", "source"])
        self._creates[AccountAlias][id(alias)] = _Pending(alias, [reason])
        return True

    def _alias_holders(self) -> dict[tuple[str, str], set[int]]:
        if self._aliases is None:
            self._aliases = {}
            for account_id, kind, key in AccountAlias.objects.values_list("account_id", "kind", "normalised_value"):
                self._aliases.setdefault((kind, key), set()).add(account_id)
        return self._aliases

    def _ref(self, account: Account) -> int:
        """An account's id, or for one not yet written a negative stand-in that stays
        valid after the flush (the flush maps it to the real id)."""
        if account.pk is not None and not self.is_new(account):
            return account.pk
        self._keep.append(account)
        return -id(account)

    # --- Writing ---------------------------------------------------------------------
    @transaction.atomic
    def flush(self) -> None:
        self._now = timezone.now()  # one history time per flush (and no clock read per record)
        # Every new record's id first: written behind (`bulkload.writing_behind`), the
        # inserts then queue their COPYs without an id query waiting for the ones before.
        for model in WRITE_ORDER:
            bulkload.assign_ids([item.instance for item in self._creates[model].values()])
        for model in WRITE_ORDER:
            self._insert(model, list(self._creates[model].values()))
        for model in WRITE_ORDER:
            self._apply(model, list(self._updates[model].values()))
        self._insert_stage_moves()
        if self._aliases is not None:
            # Accounts written now are known by their ids from here on.
            written = {-id(account): account.pk for account in self._keep}
            for key, holders in self._aliases.items():
                if any(ref < 0 for ref in holders):
                    self._aliases[key] = {written.get(ref, ref) for ref in holders}
            self._keep.clear()
        for model in WRITE_ORDER:
            self._creates[model].clear()
            self._updates[model].clear()

    def _insert_stage_moves(self) -> None:
        moves = [
            StageChange(
                opportunity_id=deal.pk, from_stage=old, to_stage=new, actor=self.actor, at=self._now, reason=reason
            )
            for deal, old, new, reason in self._stage_moves
            if old != new
        ]
        self._stage_moves.clear()
        if moves:
            bulkload.insert(moves)
            self._count(StageChange, "created", len(moves))

    def _ready(self, model: type[models.Model], pending: list[_Pending]) -> list[models.Model]:
        """The instances to write, each carrying who and why for its history row."""
        for item in pending:
            if model in DERIVED:
                item.instance.set_derived_fields()
            item.instance._change_reason = _joined(item.reasons)
            item.instance._history_user = self.actor
        return [item.instance for item in pending]

    def _insert(self, model: type[models.Model], pending: list[_Pending]) -> None:
        if not pending:
            return
        instances = self._ready(model, pending)
        bulkload.insert(instances)
        bulkload.insert_history(instances, date=self._now)
        self._count(model, "created", len(instances))

    def _apply(self, model: type[models.Model], pending: list[_Pending]) -> None:
        if not pending:
            return
        versioned = hasattr(model, "version")
        if versioned:
            self._claim_versions(model, pending)
        instances = self._ready(model, pending)
        names = set().union(*(item.fields for item in pending))
        columns = sorted(names | set(DERIVED.get(model, ())) | ({"version"} if versioned else set()))
        bulkload.update(instances, columns)
        bulkload.insert_history(instances, history_type="~", date=self._now)
        self._count(model, "updated", len(instances))

    @staticmethod
    def _claim_versions(model: type[models.Model], pending: list[_Pending]) -> None:
        """Lock the rows and check nobody saved them since they were read; then bump
        their version, as a one-record update does."""
        current: dict[int, int] = {}
        ids = [item.instance.pk for item in pending]
        for start in range(0, len(ids), BATCH):
            rows = model.objects.select_for_update().filter(pk__in=ids[start : start + BATCH])
            current.update(rows.values_list("pk", "version"))
        stale = [item.instance for item in pending if current.get(item.instance.pk) != item.version]
        if stale:
            names = ", ".join(str(instance) for instance in stale[:5])
            raise StaleRecordsError(
                f"{len(stale)} {model._meta.verbose_name_plural} changed while this ran ({names}); "
                "nothing was written. Run it again."
            )
        for item in pending:
            item.instance.version = item.version + 1

    def _count(self, model: type[models.Model], action: str, number: int) -> None:
        key = f"{model._meta.verbose_name_plural} {action}"
        self.written[key] = self.written.get(key, 0) + number
