"""Every write to the golden record.

Each function is one atomic action with an explicit `actor` and `reason`: it checks field
ownership, validates, applies optimistic concurrency where the model has a `version`,
and saves so django-simple-history records who, what and why. Views, the admin,
commands, tasks and imports all call these; nothing else writes customer facts.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, models, transaction
from django.db.models import Max

from customers import ownership
from customers.choices import ActivityKind, AliasKind
from customers.errors import AliasTakenError, ConflictError, OwnershipError
from customers.history import changes_since
from customers.matching import alias_key
from customers.models import (
    Account,
    AccountAlias,
    Activity,
    Contact,
    Opportunity,
    Subscription,
    account_code,
)
from customers.validators import clean_abn

DEFAULT_CREATE_REASON = "Created on the customer page"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, models.Model) or isinstance(b, models.Model):
        return getattr(a, "pk", a) == getattr(b, "pk", b)
    return a == b


def _normalise_values(model: type[models.Model], values: dict[str, Any]) -> dict[str, Any]:
    values = dict(values)
    if "abn" in values:
        values["abn"] = clean_abn(values["abn"])
    for name, value in list(values.items()):
        if isinstance(value, str) and not model._meta.get_field(name).is_relation:
            values[name] = value.strip()
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


def create_opportunity(*, account: Account, actor: AbstractBaseUser, reason: str = "", **values: Any) -> Opportunity:
    """A rep opens deals for themselves; a sales manager (or steward) may assign any rep."""
    values.setdefault("owner", actor)
    with transaction.atomic():
        return _create(Opportunity(account=account), actor=actor, reason=reason, values=values)


def update_opportunity(
    *, opportunity: Opportunity, changes: dict[str, Any], actor: AbstractBaseUser, reason: str
) -> Opportunity:
    return _update(opportunity, changes=changes, expected_version=None, actor=actor, reason=reason)


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
    if contact is not None and contact.account_id != account.pk:
        raise OwnershipError("That contact belongs to another account.", fields=["contact"])
    if actor is not None:
        ownership.check_create(actor, Activity, account=account)
    activity = Activity(account=account, actor=actor, kind=kind, summary=summary, detail=detail, contact=contact)
    if occurred_at is not None:
        activity.occurred_at = occurred_at
    activity.full_clean()
    with transaction.atomic():
        _save_with_history(activity, actor=actor, reason=reason)
    return activity


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
