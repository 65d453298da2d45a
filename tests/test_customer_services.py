"""Services: field ownership, history (who, what, why), optimistic concurrency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from customers import ownership, services
from customers.errors import ConflictError, OwnershipError
from customers.history import account_changes
from customers.models import Account, Contact, Subscription
from tests.factories import (
    AccountFactory,
    ContactFactory,
    OpportunityFactory,
    SubscriptionFactory,
    UserFactory,
    product,
)

pytestmark = pytest.mark.django_db


# --- Field ownership, one test per owned field ----------------------------------------

SAMPLE_VALUES = {
    ("account", "legal_name"): "Renamed Pty Ltd",
    ("account", "trading_name"): "Renamed",
    ("account", "abn"): "51824753556",
    ("account", "industry"): "health",
    ("account", "segment"): "mid",
    ("account", "office"): "sydney",
    ("account", "lifecycle_status"): "churned",
    ("account", "phone"): "08 9000 1111",
    ("account", "website"): "https://renamed.example",
    ("account", "street"): "1 Hay St",
    ("account", "suburb"): "Perth",
    ("account", "state"): "WA",
    ("account", "postcode"): "6000",
    ("account", "xero_contact_id"): "xero-123",
    ("contact", "first_name"): "Jo",
    ("contact", "last_name"): "Bloggs",
    ("contact", "title"): "CFO",
    ("contact", "email"): "jo@example.com",
    ("contact", "phone"): "0400 111 222",
    ("contact", "is_primary"): True,
    ("subscription", "seats"): 99,
    ("subscription", "start_date"): dt.date(2025, 1, 1),
    ("subscription", "term_months"): 24,
    ("subscription", "renewal_date"): dt.date(2027, 1, 1),
    ("subscription", "status"): "cancelled",
    ("subscription", "annual_value"): Decimal("99999.00"),
    ("subscription", "tenancy_ref"): "DV-PER-99999",
    ("subscription", "order_ref"): "ORD-2026-00042",
    ("opportunity", "name"): "Bigger deal",
    ("opportunity", "kind"): "upsell",
    ("opportunity", "stage"): "proposal",
    ("opportunity", "amount"): Decimal("1234.00"),
    ("opportunity", "expected_close"): dt.date(2027, 3, 1),
    ("opportunity", "source"): "referral",
    ("opportunity", "lost_reason"): "price",
    ("opportunity", "lost_note"): "Went with the incumbent",
}


def _record(kind: str, personas):
    account = AccountFactory(owner=personas["sales_rep"])
    if kind == "account":
        return account
    if kind == "contact":
        return ContactFactory(account=account)
    if kind == "subscription":
        return SubscriptionFactory(account=account)
    return OpportunityFactory(account=account, owner=personas["sales_rep"])


def _update(instance, changes, actor, reason="test change"):
    version = getattr(instance, "version", None)
    if isinstance(instance, Account):
        return services.update_account(
            account=instance, changes=changes, expected_version=version, actor=actor, reason=reason
        )
    if isinstance(instance, Contact):
        return services.update_contact(
            contact=instance, changes=changes, expected_version=version, actor=actor, reason=reason
        )
    if isinstance(instance, Subscription):
        return services.update_subscription(
            subscription=instance, changes=changes, expected_version=version, actor=actor, reason=reason
        )
    return services.update_opportunity(opportunity=instance, changes=changes, actor=actor, reason=reason)


def _expected_writers(kind: str, field: str) -> set[str]:
    rule = ownership.OWNERSHIP[kind][field]
    writers = set(rule.roles)
    if rule.account_rep or rule.record_owner:
        writers.add("sales_rep")  # the persona who owns the account and the opportunity
    return writers


@pytest.mark.parametrize(("kind", "field"), sorted(SAMPLE_VALUES))
def test_only_the_owning_roles_can_change_each_field(kind, field, personas):
    writers = _expected_writers(kind, field)
    for role, user in personas.items():
        if role == "data_steward":
            continue  # stewards override; tested below
        instance = _record(kind, personas)
        change = {field: SAMPLE_VALUES[(kind, field)]}
        if role in writers:
            saved = _update(instance, change, user)
            assert getattr(saved, field) == SAMPLE_VALUES[(kind, field)], role
        else:
            with pytest.raises(OwnershipError):
                _update(instance, change, user)
            instance.refresh_from_db()
            assert getattr(instance, field) != SAMPLE_VALUES[(kind, field)], role


@pytest.mark.parametrize("reason", ["", "  ", "Client master row 4"])
def test_require_write_refuses_exactly_what_check_write_refuses(reason, personas):
    for kind, field in sorted(SAMPLE_VALUES):
        for role, user in personas.items():
            instance = _record(kind, personas)
            try:
                ownership.check_write(user, instance, [field], reason)
                refused = None
            except OwnershipError as error:
                refused = str(error)
            try:
                ownership.require_write(user, instance, [field], reason)
                assert refused is None, (kind, field, role)
            except OwnershipError as error:
                assert str(error) == refused, (kind, field, role)


def test_every_owned_field_has_an_ownership_test():
    declared = {
        (kind, field)
        for kind in ("account", "contact", "subscription", "opportunity")
        for field in ownership.OWNERSHIP[kind]
    }
    relational = {
        ("account", "owner"),
        ("account", "relations_coordinator"),
        ("account", "billing_contact"),
        ("subscription", "product"),
        ("opportunity", "product"),
        ("opportunity", "owner"),
    }
    assert declared - relational <= set(SAMPLE_VALUES)


def test_support_agent_cannot_change_contract_value(personas):
    subscription = SubscriptionFactory(annual_value=Decimal("12000.00"))
    with pytest.raises(OwnershipError, match="owned by Finance"):
        services.update_subscription(
            subscription=subscription,
            changes={"annual_value": Decimal("1.00")},
            expected_version=subscription.version,
            actor=personas["support_agent"],
            reason="trying",
        )
    subscription.refresh_from_db()
    assert subscription.annual_value == Decimal("12000.00")
    assert subscription.version == 1


def test_sales_manager_assigns_the_account_owner(personas):
    account = AccountFactory()
    saved = services.update_account(
        account=account,
        changes={"owner": personas["sales_rep"]},
        expected_version=1,
        actor=personas["sales_manager"],
        reason="New territory",
    )
    assert saved.owner == personas["sales_rep"]
    with pytest.raises(OwnershipError):
        services.update_account(
            account=saved,
            changes={"owner": None},
            expected_version=saved.version,
            actor=personas["customer_relations"],
            reason="no",
        )


def test_a_rep_edits_contacts_only_on_their_own_accounts(personas):
    theirs = ContactFactory(account=AccountFactory(owner=personas["sales_rep"]))
    other = ContactFactory(account=AccountFactory())
    services.update_contact(
        contact=theirs, changes={"title": "CEO"}, expected_version=1, actor=personas["sales_rep"], reason="Met them"
    )
    with pytest.raises(OwnershipError):
        services.update_contact(
            contact=other, changes={"title": "CEO"}, expected_version=1, actor=personas["sales_rep"], reason="Met them"
        )


def test_a_rep_cannot_open_an_opportunity_for_another_rep(personas):
    account = AccountFactory()
    with pytest.raises(OwnershipError):
        services.create_opportunity(
            account=account, actor=personas["sales_rep"], name="x", owner=personas["sales_manager"]
        )
    opp = services.create_opportunity(account=account, actor=personas["sales_rep"], name="Mine")
    assert opp.owner == personas["sales_rep"]


def test_steward_override_needs_a_reason_and_is_recorded(personas):
    subscription = SubscriptionFactory()
    steward = personas["data_steward"]
    with pytest.raises(OwnershipError, match="reason"):
        services.update_subscription(
            subscription=subscription,
            changes={"annual_value": Decimal("5.00")},
            expected_version=1,
            actor=steward,
            reason="  ",
        )
    saved = services.update_subscription(
        subscription=subscription,
        changes={"annual_value": Decimal("5.00")},
        expected_version=1,
        actor=steward,
        reason="Xero invoice INV-9 is right",
    )
    record = saved.history.latest()
    assert record.history_user == steward
    assert record.history_change_reason == "Xero invoice INV-9 is right"
    assert record.annual_value == Decimal("5.00")


# --- History: who, what, why ----------------------------------------------------------


def test_a_contact_phone_change_shows_in_history_with_who_what_why(personas):
    contact = ContactFactory(phone="08 9212 3456")
    services.update_contact(
        contact=contact,
        changes={"phone": "0412 345 678"},
        expected_version=1,
        actor=personas["customer_relations"],
        reason="Customer called with a new mobile",
    )
    changes = [c for c in account_changes(contact.account) if c.field == "phone" and c.action == "changed"]
    assert len(changes) == 1
    change = changes[0]
    assert (change.old, change.new) == ("08 9212 3456", "0412 345 678")
    assert change.who == personas["customer_relations"].get_full_name()
    assert change.why == "Customer called with a new mobile"
    assert change.record.startswith("Contact")


def test_creating_records_writes_history_with_actor_and_reason(personas):
    account = services.create_account(
        actor=personas["customer_relations"],
        reason="Signed up at expo",
        legal_name="Expo Widgets Pty Ltd",
        abn="51 824 753 556",
    )
    assert account.code.startswith("CC")
    assert account.abn == "51824753556"
    record = account.history.get()
    assert record.history_type == "+"
    assert record.history_user == personas["customer_relations"]
    assert record.history_change_reason == "Signed up at expo"


def test_a_deleted_users_history_rows_stay_and_name_nobody(db):
    # history_user has no database constraint (cloudcore_crm.lib.history); Django's
    # on_delete must still clear it, or the rows would point at a user who is gone.
    leaver = UserFactory(username="leaver", roles=["customer_relations"])
    account = services.create_account(actor=leaver, reason="Last day", legal_name="Leaver Widgets Pty Ltd")

    leaver.delete()

    record = account.history.get()
    assert record.history_user_id is None and record.history_change_reason == "Last day"


def test_history_tables_index_only_the_columns_history_is_read_by():
    # Every other index simple-history copies from the tracked table is paid for on each
    # history row an import writes (cloudcore_crm.lib.history).
    from django.apps import apps
    from simple_history.models import HistoricalChanges

    read_by = {"id", "account", "history_id", "history_date", "history_user"}
    history_models = [m for m in apps.get_models() if issubclass(m, HistoricalChanges)]
    assert len(history_models) >= 10
    for model in history_models:
        indexed = {f.name for f in model._meta.fields if f.db_index or f.primary_key}
        indexed |= {name for index in model._meta.indexes for name in index.fields}
        assert indexed <= read_by, (model.__name__, indexed - read_by)
        assert "id" in indexed and "history_date" in indexed


def test_an_update_without_a_reason_is_refused(personas):
    account = AccountFactory()
    with pytest.raises(OwnershipError, match="why"):
        services.update_account(
            account=account,
            changes={"phone": "08 1234 5678"},
            expected_version=1,
            actor=personas["customer_relations"],
            reason="",
        )


def test_saving_unchanged_values_writes_no_history_and_keeps_the_version(personas):
    account = AccountFactory(phone="08 1234 5678")
    services.update_account(
        account=account,
        changes={"phone": "08 1234 5678"},
        expected_version=1,
        actor=personas["customer_relations"],
        reason="same",
    )
    account.refresh_from_db()
    assert account.version == 1
    assert account.history.count() == 1


def test_account_codes_are_sequential(personas):
    first = services.create_account(actor=personas["customer_relations"], legal_name="One Pty Ltd")
    second = services.create_account(actor=personas["customer_relations"], legal_name="Two Pty Ltd")
    assert second.number == first.number + 1
    assert second.code == f"CC{second.number:03d}"


# --- Bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"abn": "51 824 753 557"}, "abn"),
        ({"abn": "1234"}, "abn"),
        ({"postcode": "60000"}, "postcode"),
        ({"legal_name": ""}, "legal_name"),
    ],
)
def test_invalid_account_values_are_refused_and_nothing_is_saved(changes, field, personas):
    account = AccountFactory(legal_name="Before Pty Ltd")
    with pytest.raises(ValidationError) as excinfo:
        services.update_account(
            account=account, changes=changes, expected_version=1, actor=personas["customer_relations"], reason="typo"
        )
    assert field in excinfo.value.message_dict
    account.refresh_from_db()
    assert account.version == 1
    assert account.legal_name == "Before Pty Ltd"


def test_a_renewal_before_the_start_is_refused(personas):
    subscription = SubscriptionFactory(start_date=dt.date(2026, 1, 1), renewal_date=dt.date(2027, 1, 1))
    with pytest.raises(ValidationError):
        services.update_subscription(
            subscription=subscription,
            changes={"renewal_date": dt.date(2025, 1, 1)},
            expected_version=1,
            actor=personas["customer_relations"],
            reason="x",
        )
    subscription.refresh_from_db()
    assert subscription.renewal_date == dt.date(2027, 1, 1)


def test_a_negative_contract_value_is_refused(personas):
    subscription = SubscriptionFactory()
    with pytest.raises(ValidationError):
        services.update_subscription(
            subscription=subscription,
            changes={"annual_value": Decimal("-1")},
            expected_version=1,
            actor=personas["finance"],
            reason="x",
        )


def test_a_subscription_needs_customer_relations_to_add(personas):
    account = AccountFactory()
    with pytest.raises(OwnershipError):
        services.create_subscription(
            account=account, actor=personas["finance"], product=product(), start_date=dt.date(2026, 1, 1)
        )
    sub = services.create_subscription(
        account=account,
        actor=personas["customer_relations"],
        product=product(),
        start_date=dt.date(2026, 1, 1),
        renewal_date=dt.date(2027, 1, 1),
    )
    assert sub.annual_value == Decimal("0.00")


# --- Optimistic concurrency ------------------------------------------------------------


def test_two_stale_saves_give_exactly_one_conflict_and_lose_nothing(personas):
    contact = ContactFactory(phone="08 9000 0000", title="Manager")
    both_saw = contact.version
    services.update_contact(
        contact=contact,
        changes={"phone": "08 9000 1111"},
        expected_version=both_saw,
        actor=personas["customer_relations"],
        reason="new number",
    )
    with pytest.raises(ConflictError) as excinfo:
        services.update_contact(
            contact=contact,
            changes={"title": "Director"},
            expected_version=both_saw,
            actor=personas["sales_rep"] if contact.account.owner_id else personas["data_steward"],
            reason="promotion",
        )
    conflict = excinfo.value
    assert [(c.field, c.old, c.new) for c in conflict.changes] == [("phone", "08 9000 0000", "08 9000 1111")]
    assert conflict.changes[0].who == personas["customer_relations"].get_full_name()
    assert "changed phone" in str(conflict)
    contact.refresh_from_db()
    assert (contact.phone, contact.title, contact.version) == ("08 9000 1111", "Manager", both_saw + 1)


def test_creating_an_account_cannot_set_fields_another_team_owns(personas):
    with pytest.raises(OwnershipError, match="Sales management"):
        services.create_account(
            actor=personas["customer_relations"], legal_name="Sneaky Pty Ltd", owner=personas["sales_rep"]
        )
    with pytest.raises(OwnershipError, match="Finance"):
        services.create_account(
            actor=personas["customer_relations"], legal_name="Sneaky Pty Ltd", xero_contact_id="X-1"
        )
    assert not Account.objects.exists()
    steward_made = services.create_account(
        actor=personas["data_steward"],
        legal_name="Imported Pty Ltd",
        xero_contact_id="X-1",
        reason="From the Xero export",
    )
    assert steward_made.xero_contact_id == "X-1"


def test_an_unknown_field_is_refused_not_ignored(personas):
    with pytest.raises(OwnershipError, match="not an editable"):
        services.create_account(actor=personas["customer_relations"], legal_name="A", version=7)


def test_an_external_id_names_one_account(personas):
    from customers.errors import AliasTakenError

    first, second = AccountFactory(), AccountFactory()
    services.add_alias(account=first, kind="xero_contact", value="ABC-1", actor=None, reason="import")
    again = services.add_alias(account=first, kind="xero_contact", value="abc-1 ", actor=None, reason="import")
    assert first.aliases.count() == 1 and again.account == first
    with pytest.raises(AliasTakenError, match=first.code):
        services.add_alias(account=second, kind="xero_contact", value="ABC-1", actor=None, reason="import")
    with pytest.raises(OwnershipError):
        services.add_alias(account=second, value="Second Trading", actor=personas["support_agent"], reason="x")


def test_account_field_changes_appear_in_history(personas):
    account = AccountFactory(legal_name="Old Name Pty Ltd", owner=None)
    services.update_account(
        account=account,
        changes={"owner": personas["sales_rep"]},
        expected_version=1,
        actor=personas["sales_manager"],
        reason="Territory change",
    )
    changed = [c for c in account_changes(account) if c.action == "changed"]
    assert [(c.field, c.old, c.new, c.why) for c in changed] == [
        ("owner", "—", personas["sales_rep"].get_full_name(), "Territory change")
    ]
