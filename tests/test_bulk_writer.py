"""The bulk form of the customer services (imports): the same ownership rules, validation
and per-record history (who, what, why) as one-record saves, and no lost update."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from customers.bulk import BulkWriter, StaleRecordsError
from customers.choices import AliasKind
from customers.errors import AliasTakenError, OwnershipError
from customers.history import account_changes
from customers.models import Account, AccountAlias, Contact, Subscription, account_code
from tests.factories import AccountFactory, SubscriptionFactory, product

pytestmark = pytest.mark.django_db


def _new_account(writer: BulkWriter, number: int, reason: str, **values) -> Account:
    values.setdefault("legal_name", f"Bulk Client {number} Pty Ltd")
    return writer.create(Account(number=number, code=account_code(number)), values=values, reason=reason)


def test_records_created_together_get_one_history_row_each_with_their_own_reason(personas):
    steward = personas["data_steward"]
    writer = BulkWriter(steward)
    first = _new_account(writer, 501, "Import run #1: cm.xlsx row 4", phone="08 9212 0001")
    second = _new_account(writer, 502, "Import run #1: cm.xlsx row 5")
    writer.create(Contact(account=first), values={"first_name": "Ada", "last_name": "Ng"}, reason="row 4")
    writer.update(first, {"website": "https://bulk.example"}, reason="Import run #1: cm.xlsx row 9")
    assert Account.objects.count() == 0  # nothing is written before the flush

    writer.flush()

    first.refresh_from_db()
    assert first.normalised_name == "bulk client 501" and first.phone_digits == "0892120001"
    assert first.website == "https://bulk.example"
    history = first.history.get()
    assert history.history_type == "+" and history.history_user == steward
    assert history.history_change_reason == "Import run #1: cm.xlsx row 4; Import run #1: cm.xlsx row 9"
    assert second.history.get().history_change_reason == "Import run #1: cm.xlsx row 5"
    assert Contact.objects.get().account == first
    assert writer.written == {"accounts created": 2, "contacts created": 1}


def test_updates_bump_the_version_and_read_as_field_changes_on_the_history_tab(personas):
    finance = personas["finance"]
    subscription = SubscriptionFactory(annual_value=Decimal("1000.00"))
    writer = BulkWriter(finance)

    assert writer.update(subscription, {"annual_value": Decimal("1000.00")}, reason="same") is False
    assert writer.update(subscription, {"annual_value": Decimal("1200.00")}, reason="Xero, 12 invoice lines")
    writer.flush()

    subscription.refresh_from_db()
    assert (subscription.annual_value, subscription.version) == (Decimal("1200.00"), 2)
    change = next(c for c in account_changes(subscription.account) if c.field == "annual_value")
    assert (change.old, change.new, change.why) == ("1,000.00", "1,200.00", "Xero, 12 invoice lines")
    assert change.who == finance.get_full_name()


def test_ownership_is_enforced_before_anything_is_collected(personas):
    support = BulkWriter(personas["support_agent"])
    with pytest.raises(OwnershipError):
        _new_account(support, 601, "row 1")

    relations = BulkWriter(personas["customer_relations"])
    subscription = SubscriptionFactory()
    with pytest.raises(OwnershipError, match="Finance"):
        relations.update(subscription, {"annual_value": Decimal("5.00")}, reason="row 2")
    with pytest.raises(OwnershipError):
        relations.create(Subscription(account=subscription.account), values={"annual_value": 1}, reason="row 3")
    assert relations.pending == 0

    steward = BulkWriter(personas["data_steward"])
    with pytest.raises(OwnershipError, match="Say why"):
        steward.update(subscription, {"annual_value": Decimal("5.00")}, reason="")


def test_a_field_that_is_no_customer_fact_is_refused_every_time_it_comes(personas):
    writer = BulkWriter(personas["data_steward"])
    account = AccountFactory()
    good = {"first_name": "Ann", "last_name": "Lee"}
    for _ in range(2):  # the second time too, after the same names were accepted once
        writer.create(Contact(account=account), values=good, reason="row 1")
        with pytest.raises(OwnershipError, match="not an editable customer fact"):
            writer.create(Contact(account=account), values=good | {"version": 7}, reason="row 2")
    assert writer.pending == 2


def test_bad_values_are_refused_field_by_field(personas):
    writer = BulkWriter(personas["data_steward"])
    account = AccountFactory()
    with pytest.raises(ValidationError) as refused:
        writer.create(
            Subscription(account=account),
            values={"product": product(), "seats": 0, "start_date": dt.date(2026, 1, 1)},
            reason="row 7",
        )
    assert "seats" in refused.value.message_dict


def test_a_bad_value_is_refused_every_time_it_comes_and_a_good_one_passes(personas):
    # Validation results are remembered per field and value; a failure never is.
    writer = BulkWriter(personas["data_steward"])
    for _ in range(2):
        with pytest.raises(ValidationError) as refused:
            writer.create(Account(number=0), values={"legal_name": "Web Co", "website": "not a url"}, reason="row 2")
        assert "website" in refused.value.message_dict
    for number in (901, 902):
        account = Account(number=number, code=account_code(number))
        writer.create(account, values={"legal_name": "Web Co", "website": "https://web.example"}, reason="row 3")
        assert account.website == "https://web.example"


def test_a_record_saved_by_someone_else_meanwhile_stops_the_flush(personas):
    subscription = SubscriptionFactory(seats=5)
    writer = BulkWriter(personas["data_steward"])
    writer.update(subscription, {"seats": 7}, reason="row 3")
    Subscription.objects.filter(pk=subscription.pk).update(seats=6, version=2)  # a user saved it

    with pytest.raises(StaleRecordsError, match="changed while this ran"):
        writer.flush()

    fresh = Subscription.objects.get(pk=subscription.pk)
    assert (fresh.seats, fresh.version, fresh.history.count()) == (6, 2, 1)


def test_aliases_are_added_once_whether_already_stored_or_just_collected(personas):
    writer = BulkWriter(personas["data_steward"])
    existing = AccountFactory()
    AccountAlias.objects.create(account=existing, kind=AliasKind.NAME, value="ACME")
    new = _new_account(writer, 701, "row 1")

    assert writer.add_alias(account=existing, value="Acme", source="row 2", reason="row 2") is False
    assert writer.add_alias(account=new, value="Bulk 701", source="row 3", reason="row 3") is True
    assert writer.add_alias(account=new, value="BULK 701", source="row 4", reason="row 4") is False
    writer.flush()
    assert writer.add_alias(account=new, value="bulk 701", source="row 5", reason="row 5") is False

    writer.add_alias(account=existing, kind=AliasKind.XERO_CONTACT, value="XC-1", source="Xero", reason="row 6")
    with pytest.raises(AliasTakenError):
        writer.add_alias(account=new, kind=AliasKind.XERO_CONTACT, value="XC-1", source="Xero", reason="row 7")
    writer.flush()
    assert AccountAlias.objects.filter(account=new).get().history.get().history_change_reason == "row 3"
