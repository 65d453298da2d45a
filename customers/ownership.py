"""Who may write which customer fact: the field-ownership table of DESIGN.md, declared once.

Services enforce it (`check_write`, `check_create`); forms only reflect it (read-only
fields labelled "owned by Finance"). A data steward may override any field, but only
with a reason, and the override is recorded in history like any other change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models

from cloudcore_crm.roles import (
    CUSTOMER_RELATIONS,
    DATA_STEWARD,
    EXECUTIVE,
    FINANCE,
    PROVISIONING,
    ROLE_LABELS,
    ROLE_NAMES,
    SALES_MANAGER,
    SALES_REP,
    roles_of,
)
from customers.errors import OwnershipError


@dataclass(frozen=True)
class Rule:
    """Roles that own a field, plus relationship-based owners."""

    roles: frozenset[str]
    account_rep: bool = False  # the account's own sales rep (Account.owner)
    record_owner: bool = False  # the record's own owner (Opportunity.owner)

    def describe(self) -> str:
        if self.roles == frozenset(ROLE_NAMES):
            return "anyone"
        names = [ROLE_LABELS[r] for r in sorted(self.roles)]
        if self.account_rep:
            names.append("the account's sales rep")
        if self.record_owner:
            names.append("its sales rep")
        return " or ".join(names)


def _rule(*roles: str, account_rep: bool = False, record_owner: bool = False) -> Rule:
    return Rule(frozenset(roles), account_rep=account_rep, record_owner=record_owner)


RELATIONS = _rule(CUSTOMER_RELATIONS)
CONTACTS = _rule(CUSTOMER_RELATIONS, account_rep=True)
OPPORTUNITIES = _rule(SALES_MANAGER, record_owner=True)
# Anyone who talks to the customer may log it; the executive reads everything, writes nothing.
TIMELINE = _rule(*(role for role in ROLE_NAMES if role != EXECUTIVE))

OWNERSHIP: dict[str, dict[str, Rule]] = {
    "account": {
        **dict.fromkeys(
            [
                "legal_name",
                "trading_name",
                "abn",
                "industry",
                "segment",
                "office",
                "lifecycle_status",
                "relations_coordinator",
                "phone",
                "website",
                "street",
                "suburb",
                "state",
                "postcode",
            ],
            RELATIONS,
        ),
        "owner": _rule(SALES_MANAGER),
        "xero_contact_id": _rule(FINANCE),
        "billing_contact": _rule(FINANCE),
    },
    "contact": dict.fromkeys(["first_name", "last_name", "title", "email", "phone", "is_primary"], CONTACTS),
    "subscription": {
        **dict.fromkeys(["product", "seats", "start_date", "term_months", "renewal_date", "status"], RELATIONS),
        "annual_value": _rule(FINANCE),
        "tenancy_ref": _rule(PROVISIONING),
        "order_ref": RELATIONS,
    },
    "opportunity": dict.fromkeys(
        ["name", "kind", "product", "stage", "amount", "expected_close", "owner", "source", "lost_reason", "lost_note"],
        OPPORTUNITIES,
    ),
    "activity": dict.fromkeys(["kind", "contact", "occurred_at", "summary", "detail"], TIMELINE),
}

# Fields naming a person that a record owner may set only to themselves: a rep opens a
# deal for themselves but cannot hand it to another rep (a sales manager or steward assigns).
SELF_ASSIGN_ONLY: dict[str, frozenset[str]] = {"opportunity": frozenset({"owner"})}
ASSIGNERS = frozenset({SALES_MANAGER})

# Who may add a new record of each kind (relationship rules read the parent account).
CREATION: dict[str, Rule] = {
    "account": RELATIONS,
    "contact": CONTACTS,
    "subscription": RELATIONS,
    "opportunity": _rule(SALES_MANAGER, SALES_REP),
    "activity": TIMELINE,
    "accountalias": _rule(CUSTOMER_RELATIONS),
}


def _key(model: type[models.Model] | models.Model) -> str:
    return model._meta.model_name


def _account_of(instance: models.Model):
    return instance if _key(instance) == "account" else getattr(instance, "account", None)


def rule_for(model: type[models.Model] | models.Model, field: str) -> Rule:
    try:
        return OWNERSHIP[_key(model)][field]
    except KeyError:
        raise OwnershipError(f"{field!r} on {_key(model)} is not an editable customer fact.", fields=[field]) from None


def owned_fields(model: type[models.Model] | models.Model) -> list[str]:
    return list(OWNERSHIP[_key(model)])


def _satisfies(user, rule: Rule, instance: models.Model | None, account=None) -> bool:
    held = roles_of(user)
    if held & rule.roles:
        return True
    if rule.account_rep:
        account = account or (_account_of(instance) if instance is not None else None)
        if account is not None and account.owner_id == user.pk:
            return True
    return bool(rule.record_owner and instance is not None and getattr(instance, "owner_id", None) == user.pk)


def owns(user, instance: models.Model, field: str) -> bool:
    """True when the user owns this field of this record (steward override not counted)."""
    return _satisfies(user, rule_for(instance, field), instance)


def can_override(user) -> bool:
    return DATA_STEWARD in roles_of(user)


def can_write(user, instance: models.Model, field: str) -> bool:
    return owns(user, instance, field) or can_override(user)


def writable_fields(user, instance: models.Model, fields: Iterable[str] | None = None) -> list[str]:
    return [f for f in (fields or owned_fields(instance)) if can_write(user, instance, f)]


def owner_label(model: type[models.Model] | models.Model, field: str) -> str:
    owners = rule_for(model, field).describe()
    return "anyone may add" if owners == "anyone" else f"owned by {owners}"


def sentence(text: str) -> str:
    """'owned by Finance' -> 'Owned by Finance.' (keeps the role's capitals)."""
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def check_write(user, instance: models.Model, fields: Iterable[str], reason: str) -> list[str]:
    """Raise OwnershipError unless the user may change every field; return the fields
    changed by steward override (which need a reason)."""
    fields = list(fields)
    not_owned = [f for f in fields if not owns(user, instance, f)]
    if not not_owned:
        return []
    if can_override(user):
        if not (reason or "").strip():
            raise OwnershipError(
                "A data steward override needs a reason: say why you are changing " + ", ".join(not_owned) + ".",
                fields=not_owned,
            )
        return not_owned
    raise OwnershipError(
        "; ".join(f"{instance._meta.get_field(f).verbose_name} is {owner_label(instance, f)}" for f in not_owned)
        + ". You cannot change it.",
        fields=not_owned,
    )


def require_write(user, instance: models.Model, fields: Iterable[str], reason: str) -> None:
    """`check_write` where the caller needs only the refusal: a data steward who gave a
    reason may write every field, so the fields are not checked one by one (an import
    writes a few hundred thousand values as a steward)."""
    if (reason or "").strip() and can_override(user):
        return
    check_write(user, instance, fields, reason)


def can_assign(user) -> bool:
    """May hand a self-assign-only field (an opportunity's owner) to someone else."""
    return bool(roles_of(user) & ASSIGNERS) or can_override(user)


def check_assignment(user, instance: models.Model, values: dict) -> None:
    """Refuse a record owner setting a self-assign-only field (an opportunity's owner) to
    someone else: only an assigner (a sales manager) or a steward override hands it over."""
    for field in SELF_ASSIGN_ONLY.get(_key(instance), ()):
        if field not in values or can_assign(user):
            continue
        value = values[field]
        new_owner_id = getattr(value, "pk", value)
        if new_owner_id is not None and new_owner_id != user.pk:
            raise OwnershipError(
                f"Only {ROLE_LABELS[SALES_MANAGER]} or a data steward assigns a {instance._meta.verbose_name} "
                "to someone else.",
                fields=[field],
            )


def can_create(user, model: type[models.Model], *, account=None) -> bool:
    return _satisfies(user, CREATION[_key(model)], None, account=account) or can_override(user)


def check_create(user, model: type[models.Model], *, account=None) -> None:
    if not can_create(user, model, account=account):
        raise OwnershipError(
            f"Adding a {model._meta.verbose_name} is for {CREATION[_key(model)].describe()}.", fields=[]
        )


def can_edit_any(user, instance: models.Model) -> bool:
    return bool(writable_fields(user, instance))
