"""Per-field change history read from django-simple-history.

`account_changes()` builds the customer 360 History tab: for the account and every
contact, subscription, opportunity and alias of it, each changed field with old -> new,
who, when and why. Records are fetched per model in one query each and diffed in memory
(consecutive records compared field by field), so the query count does not grow with history.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import models

from customers.errors import OtherChange

# "account" is the same on every related record of one customer's history.
IGNORED_FIELDS = {
    "account",
    "version",
    "normalised_name",
    "phone_digits",
    "normalised_value",
    "updated_at",
    "created_at",
}
HISTORY_LIMIT = 500


@dataclass
class FieldChange:
    when: dt.datetime
    who: str
    why: str
    record: str  # "Account", "Contact Jane Citizen", ...
    field: str
    label: str
    old: str
    new: str
    action: str  # created / changed / deleted


def _user_label(user) -> str:
    if user is None:
        return "system"
    return user.get_full_name() or user.username


class _Labeller:
    """Turns stored values into words, resolving foreign keys in one query per model."""

    def __init__(self, model: type[models.Model], records: Iterable, names: dict | None = None):
        self.model = model
        # Shared between models of one page, so each user or product is fetched once.
        self.names: dict[tuple[type, object], str] = {} if names is None else names
        wanted: dict[type, set] = defaultdict(set)
        fk_fields = [f for f in model._meta.concrete_fields if f.is_relation and f.name not in IGNORED_FIELDS]
        for record in records:
            for f in fk_fields:
                value = getattr(record, f.attname)
                if value is not None and (f.related_model, value) not in self.names:
                    wanted[f.related_model].add(value)
        for related, pks in wanted.items():
            for obj in related._default_manager.filter(pk__in=pks):
                self.names[(related, obj.pk)] = self._object_label(obj)

    @staticmethod
    def _object_label(obj) -> str:
        if isinstance(obj, get_user_model()):
            return _user_label(obj)
        return str(obj)

    def label(self, field: str) -> str:
        name = str(self.model._meta.get_field(field).verbose_name)
        return name[:1].upper() + name[1:]  # keep acronyms such as ABN and AUD

    def value(self, field: str, raw) -> str:
        f = self.model._meta.get_field(field)
        if raw is None or raw == "":
            return "—"
        if f.is_relation:
            return self.names.get((f.related_model, raw), f"#{raw} (removed)")
        if f.choices:
            return str(dict(f.flatchoices).get(raw, raw))
        if isinstance(raw, bool):
            return "yes" if raw else "no"
        if isinstance(raw, Decimal):
            return f"{raw:,.2f}"
        return str(raw)


def _record_title(model: type[models.Model], record, labeller: _Labeller | None = None) -> str:
    """What a history row is about, by name: "Contact Jane Citizen", "Subscription DataVault"."""
    name = model._meta.verbose_name.capitalize()
    if model._meta.model_name == "account":
        return name
    if model._meta.model_name == "contact":
        return f"{name} {record.first_name} {record.last_name}"
    if model._meta.model_name == "subscription":
        product = labeller.value("product", record.product_id) if labeller is not None else ""
        return f"{name} {product}" if product and product != "—" else f"{name} #{record.id}"
    return f"{name} “{getattr(record, 'name', None) or getattr(record, 'value', record.id)}”"


def diff_records(model: type[models.Model], records: list, names: dict | None = None) -> list[FieldChange]:
    """Changes for history records of one model, oldest first, grouped by object."""
    labeller = _Labeller(model, records, names)
    tracked = [f.name for f in model._meta.concrete_fields if f.name not in IGNORED_FIELDS and f.name != "id"]
    by_object: dict[object, list] = defaultdict(list)
    for record in records:
        by_object[record.id].append(record)
    changes: list[FieldChange] = []
    for object_records in by_object.values():
        object_records.sort(key=lambda r: (r.history_date, r.history_id))
        previous = None
        for record in object_records:
            common = dict(
                when=record.history_date,
                who=_user_label(record.history_user),
                why=record.history_change_reason or "",
                record=_record_title(model, record, labeller),
            )
            if record.history_type == "+":
                # One row per new record, listing what it was created with.
                initial = [
                    f"{labeller.label(name)}: {labeller.value(name, value)}"
                    for name in tracked
                    if (value := getattr(record, model._meta.get_field(name).attname)) not in (None, "")
                ]
                changes.append(
                    FieldChange(**common, field="", label="—", old="", new="; ".join(initial), action="created")
                )
            elif record.history_type == "-":
                changes.append(FieldChange(**common, field="", label="Record", old="", new="", action="deleted"))
            elif previous is not None:
                # An update whose predecessor fell outside the fetched window is skipped.
                # Compared by attname rather than with diff_against(), which uses
                # model_to_dict() and so cannot see non-editable fields such as `code`.
                for name in tracked:
                    attname = model._meta.get_field(name).attname
                    before, after = getattr(previous, attname), getattr(record, attname)
                    if before != after:
                        changes.append(
                            FieldChange(
                                **common,
                                field=name,
                                label=labeller.label(name),
                                old=labeller.value(name, before),
                                new=labeller.value(name, after),
                                action="changed",
                            )
                        )
            previous = record
    return changes


def account_changes(account, *, limit: int = HISTORY_LIMIT) -> list[FieldChange]:
    """Every field change on the customer and its related records, newest first.

    Accounts merged into this one are included, so their history stays readable here.
    """
    from customers.models import Account, AccountAlias, Contact, Opportunity, Subscription

    ids = [account.pk, *Account.objects.merged_chain_ids(account)]
    sources = [
        (Account, Account.history.filter(id__in=ids)),
        (Contact, Contact.history.filter(account_id__in=ids)),
        (Subscription, Subscription.history.filter(account_id__in=ids)),
        (Opportunity, Opportunity.history.filter(account_id__in=ids)),
        (AccountAlias, AccountAlias.history.filter(account_id__in=ids)),
    ]
    changes: list[FieldChange] = []
    names: dict = {}
    for model, history in sources:
        records = list(history.select_related("history_user").order_by("-history_date", "-history_id")[:limit])
        if model is Account:
            merged: dict[int, list] = defaultdict(list)
            for record in records:
                if record.id != account.pk:
                    merged[record.id].append(record)
            records = [r for r in records if r.id == account.pk]
            for merged_records in merged.values():
                for change in diff_records(model, merged_records, names):
                    change.record = f"Merged account {merged_records[0].code}"
                    changes.append(change)
        changes.extend(diff_records(model, records, names))
    changes.sort(key=lambda c: c.when, reverse=True)
    return changes


def changes_since(instance: models.Model, version: int) -> list[OtherChange]:
    """What others changed on a versioned record after `version` (for conflict messages)."""
    model = type(instance)
    records = list(
        instance.history.filter(version__gte=version)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    found = [c for c in diff_records(model, records) if c.action == "changed" and c.field]
    return [
        OtherChange(field=c.field, label=c.label.lower(), old=c.old, new=c.new, who=c.who, when=c.when, why=c.why)
        for c in found
    ]


def filter_changes(
    changes: list[FieldChange], *, field: str = "", who: str = "", since=None, until=None
) -> list[FieldChange]:
    """The History tab's filters: by field label, by person, and by date (inclusive)."""
    from django.utils import timezone

    def day(change):
        return timezone.localtime(change.when).date() if timezone.is_aware(change.when) else change.when.date()

    return [
        c
        for c in changes
        if (not field or c.label == field)
        and (not who or c.who == who)
        and (since is None or day(c) >= since)
        and (until is None or day(c) <= until)
    ]
