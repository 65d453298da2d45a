"""The fast bulk writes under the bulk services: the rows they store read back exactly as
the ORM's own saves would (COPY on PostgreSQL, executemany on SQLite)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from cloudcore_crm.lib import bulkload
from customers.choices import SubscriptionStatus
from customers.models import Account, Contact, Subscription, account_code
from migration.models import Provenance
from support_bridge.choices import RiskBand
from support_bridge.models import RiskScore
from tests.factories import AccountFactory, product

pytestmark = pytest.mark.django_db


def test_inserted_records_get_their_ids_and_children_point_at_parents_written_first():
    accounts = [Account(number=n, code=account_code(n), legal_name=f"Copy Client {n}") for n in (801, 802)]
    contacts = [Contact(account=accounts[0], first_name="Ada", last_name="Ng", email="ada@copy.example")]

    bulkload.insert(accounts)
    bulkload.insert(contacts)

    assert all(a.pk for a in accounts) and accounts[0].pk != accounts[1].pk
    assert not accounts[0]._state.adding
    contact = Contact.objects.get(pk=contacts[0].pk)
    assert contact.account_id == accounts[0].pk and contact.email == "ada@copy.example"
    # auto_now columns are filled as a save fills them
    assert Account.objects.get(pk=accounts[1].pk).updated_at is not None


def test_values_of_every_kind_read_back_unchanged():
    account = AccountFactory()
    subscription = Subscription(
        account=account,
        product=product(),
        seats=12,
        annual_value=Decimal("12345.67"),
        start_date=dt.date(2026, 1, 31),
        renewal_date=dt.date(2027, 1, 31),
        term_months=12,
        status=SubscriptionStatus.ACTIVE,
        tenancy_ref="DV-τ-007",  # non-ASCII text survives COPY
    )
    bulkload.insert([subscription])

    stored = Subscription.objects.get(pk=subscription.pk)
    assert stored.annual_value == Decimal("12345.67")
    assert (stored.start_date, stored.renewal_date) == (dt.date(2026, 1, 31), dt.date(2027, 1, 31))
    assert stored.status == SubscriptionStatus.ACTIVE and stored.tenancy_ref == "DV-τ-007"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the binary COPY path is PostgreSQL's")
def test_rows_go_by_binary_copy_and_an_integer_out_of_range_is_refused_not_wrapped():
    # Every column of these tables has a binary form, so COPY sends numbers, not text.
    assert bulkload._binary_types(tuple(Subscription._meta.concrete_fields)) is not None
    assert bulkload._binary_types(tuple(Provenance._meta.concrete_fields)) is not None
    account = AccountFactory()
    too_many = Subscription(account=account, product=product(), seats=2**32, term_months=12)

    # Binary COPY would store 2**32 in an integer column as 0; it is refused before it goes.
    with pytest.raises(ValueError, match="out of the column's range"), transaction.atomic():
        bulkload.insert([too_many])
    assert not Subscription.objects.filter(account=account).exists()


def test_history_rows_say_who_what_and_why_per_record(personas):
    steward = personas["data_steward"]
    now = timezone.now()
    accounts = [Account(number=n, code=account_code(n), legal_name=f"History Client {n}") for n in (811, 812)]
    accounts[0]._history_user, accounts[0]._change_reason = steward, "Import run #7: cm.xlsx row 4"

    bulkload.insert_with_history(accounts, date=now, default_reason="demo world")

    first, second = (Account.objects.get(pk=a.pk).history.get() for a in accounts)
    assert (first.history_type, first.history_user, first.history_change_reason) == (
        "+",
        steward,
        "Import run #7: cm.xlsx row 4",
    )
    assert first.legal_name == "History Client 811" and first.history_date == now
    assert (second.history_user, second.history_change_reason) == (None, "demo world")


def test_json_fields_round_trip_and_updates_write_a_change_row():
    account = AccountFactory()
    now = timezone.now()
    score = RiskScore(account=account, score=81, band=RiskBand.HIGH, reasons=["7 tickets", "CSAT 4.2"], computed_at=now)
    bulkload.insert_with_history([score], date=now, default_reason="nightly")

    score.reasons = ["8 tickets"]
    bulkload.update_with_history([score], ["reasons"], date=now, default_reason="rescored")

    assert RiskScore.objects.get(pk=score.pk).reasons == ["8 tickets"]
    kinds = list(score.history.order_by("history_id").values_list("history_type", "reasons"))
    assert kinds == [("+", ["7 tickets", "CSAT 4.2"]), ("~", ["8 tickets"])]


def test_equal_json_values_of_different_types_stay_apart_in_one_batch():
    # Encoded JSON is remembered per batch; [1] and [True] are equal as Python keys.
    account = AccountFactory()
    now = timezone.now()
    scores = [
        RiskScore(account=account, score=10, band=RiskBand.LOW, reasons=[1], computed_at=now),
        RiskScore(account=AccountFactory(), score=10, band=RiskBand.LOW, reasons=[True], computed_at=now),
        RiskScore(account=AccountFactory(), score=10, band=RiskBand.LOW, reasons=[1], computed_at=now),
        # Lists of ints are written as text directly: negative, big and empty ones too.
        RiskScore(account=AccountFactory(), score=10, band=RiskBand.LOW, reasons=[-3, 2**40, 0], computed_at=now),
        RiskScore(account=AccountFactory(), score=10, band=RiskBand.LOW, reasons=[], computed_at=now),
    ]
    bulkload.insert(scores)
    stored = [RiskScore.objects.get(pk=s.pk).reasons for s in scores]
    assert stored == [[1], [True], [1], [-3, 2**40, 0], []] and type(stored[1][0]) is bool


def test_update_writes_only_the_named_fields_of_the_given_records():
    accounts = [
        AccountFactory(legal_name=f"Client {n} Pty Ltd", industry="other", phone="08 5550 0000") for n in range(3)
    ]
    for account, industry in zip(accounts, ["finance", "health", "retail"], strict=True):
        account.industry, account.phone = industry, "unsaved"
    accounts[2].postcode = "0800"  # text that looks like a number keeps its zero

    bulkload.update(accounts[1:], ["industry", "postcode"])

    stored = Account.objects.in_bulk([a.pk for a in accounts])
    assert [stored[a.pk].industry for a in accounts] == ["other", "health", "retail"]  # the first was not given
    assert stored[accounts[2].pk].postcode == "0800"
    assert {stored[a.pk].phone for a in accounts} == {"08 5550 0000"}  # not named: not written


def test_upsert_replaces_the_row_with_the_same_key_and_adds_the_rest():
    account = AccountFactory()
    kind = ContentType.objects.get_for_model(Account).pk
    row = {
        "content_type_id": kind,
        "object_id": account.pk,
        "store": "d1",
        "file": "cm.xlsx",
        "sheet": "Clients",
        "row": 4,
        "rows": [4],
        "fields": ["legal_name"],
        "run_id": None,
        "recorded_at": timezone.now(),
    }
    key = ["content_type", "object_id", "store", "file", "sheet"]
    update = ["row", "rows", "fields"]
    bulkload.upsert(Provenance, [row], unique=key, update=update)
    bulkload.upsert(
        Provenance, [row | {"rows": [4, 9], "fields": ["abn"]}, row | {"sheet": "Notes"}], unique=key, update=update
    )

    stored = {p.sheet: p for p in Provenance.objects.all()}
    assert set(stored) == {"Clients", "Notes"}
    assert (stored["Clients"].rows, stored["Clients"].fields) == ([4, 9], ["abn"])


def test_rows_given_as_values_of_named_columns_are_written_as_their_dicts_would_be():
    account = AccountFactory()
    kind = ContentType.objects.get_for_model(Account).pk
    when = timezone.now()
    names = ["content_type_id", "object_id", "store", "file", "sheet", "row", "rows", "fields", "recorded_at"]
    as_dict = dict(zip(names, (kind, account.pk, "d1", "a.xlsx", "Clients", 4, [4, 9], ["abn"], when), strict=True))
    bulkload.insert_rows(Provenance, [as_dict])
    bulkload.insert_rows(Provenance, [(kind, account.pk, "d1", "b.xlsx", "Clients", 4, [4, 9], ["abn"], when)], names)
    bulkload.upsert(
        Provenance,
        [(kind, account.pk, "d1", "b.xlsx", "Clients", 5, [5], ["phone"], when)],
        names=names,
        unique=["content_type", "object_id", "store", "file", "sheet"],
        update=["row", "rows", "fields"],
    )

    stored = {p.file: (p.row, p.rows, p.fields, p.recorded_at) for p in Provenance.objects.all()}
    assert stored == {"a.xlsx": (4, [4, 9], ["abn"], when), "b.xlsx": (5, [5], ["phone"], when)}
    bulkload.insert_rows(Provenance, [], names)  # nothing to write: no statement, no error
    assert Provenance.objects.count() == 2


# --- Writing behind ---------------------------------------------------------------------------

behind_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="COPYs are written behind on PostgreSQL")


def _slow_copies(monkeypatch, seconds=0.3):
    """Every COPY queued from here waits `seconds` in the writing thread before its data
    goes out: a statement that did not wait for it would run first and miss its rows."""
    submit = bulkload._WriteBehind.submit

    def slow_submit(self, statement, chunks):
        def delayed():
            import time

            time.sleep(seconds)
            yield from chunks

        submit(self, statement, None if chunks is None else delayed())

    monkeypatch.setattr(bulkload._WriteBehind, "submit", slow_submit)


@behind_only
def test_a_query_after_copies_written_behind_sees_their_rows(monkeypatch):
    _slow_copies(monkeypatch)
    accounts = [Account(number=n, code=account_code(n), legal_name=f"Behind Client {n}") for n in (811, 812)]
    with bulkload.writing_behind():
        bulkload.insert(accounts)
        bulkload.insert_history(accounts, date=timezone.now(), default_reason="written behind")
        assert connection._write_behind is not None
        # Savepoints queue in their place among the COPYs rather than waiting for them.
        with transaction.atomic():
            bulkload.insert([Contact(account=accounts[0], first_name="Bo", last_name="Hind")])
        assert Account.objects.filter(number__in=[811, 812]).count() == 2
        assert Contact.objects.filter(account=accounts[0], last_name="Hind").exists()
        assert Account.history.filter(number=811, history_change_reason="written behind").exists()
    assert connection._write_behind is None


@behind_only
def test_an_error_in_a_copy_written_behind_is_raised_as_djangos_at_the_next_statement(monkeypatch):
    from django.db import IntegrityError

    AccountFactory(number=821, code=account_code(821))
    _slow_copies(monkeypatch, seconds=0.1)
    with bulkload.writing_behind():
        with pytest.raises(IntegrityError), transaction.atomic():
            bulkload.insert([Account(number=822, code=account_code(821), legal_name="Same Code")])  # code is unique
            bulkload.insert([Account(number=823, code=account_code(823), legal_name="Queued Behind It")])
            Account.objects.count()  # the first statement after them raises the COPY's error
        # Rolled back to the savepoint: the block goes on, and writes again.
        bulkload.insert([Account(number=824, code=account_code(824), legal_name="After The Error")])
    assert set(Account.objects.filter(number__gte=821).values_list("number", flat=True)) == {821, 824}


@behind_only
def test_copies_still_queued_when_the_block_fails_are_dropped_with_its_thread(monkeypatch):
    import threading

    _slow_copies(monkeypatch)
    with pytest.raises(RuntimeError), transaction.atomic(), bulkload.writing_behind():
        bulkload.insert([Account(number=831, code=account_code(831), legal_name="Never Kept")])
        bulkload.insert([Account(number=832, code=account_code(832), legal_name="Never Sent")])
        raise RuntimeError("the import failed")
    assert not [t for t in threading.enumerate() if t.name == "bulkload-write-behind"]
    assert not Account.objects.filter(number__in=[831, 832]).exists()


def test_without_postgresql_writing_behind_writes_at_once():
    with bulkload.writing_behind():
        bulkload.insert([Account(number=841, code=account_code(841), legal_name="Written Now")])
        if connection.vendor != "postgresql":
            assert getattr(connection, "_write_behind", None) is None
        assert Account.objects.filter(number=841).exists()


def test_records_inserted_without_ids_read_back_as_saved():
    from migration.models import MatchReview

    candidates = [{"code": "CC851", "name": "Held Pty Ltd", "score": 91}]
    review = MatchReview(store="d2", file="export.csv", row=7, incoming_name="Held P/L", candidates=candidates)
    bulkload.insert_records([review])
    stored = MatchReview.objects.get(file="export.csv", row=7)
    assert stored.candidates == candidates and stored.status == review.status and stored.created_at is not None
    assert review.pk is None  # the table's sequence gave the id; nothing asked for it back
