"""Edges of the rules the mutation run (tools/mutation_run.py) showed untested: each test
here fails for a mutant that survived the rest of the suite."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from customers.validators import abn_is_valid, clean_abn, format_abn, validate_abn
from support_bridge import signing

NOW = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
BODY = b'{"id": "evt-1"}'


# --- ABN: the ATO checksum, worked by hand --------------------------------------------
# 51 824 753 556: digits 5,1,8,2,4,7,5,3,5,5,6; first minus 1 -> 4; weights
# 10,1,3,5,7,9,11,13,15,17,19: 40+1+24+10+28+63+55+39+75+85+114 = 534 = 6 x 89.


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("51824753556", True),
        ("51 824 753 556", True),
        ("53004085616", True),  # another ATO example
        ("51824753557", False),  # last digit off by one: 534 + 19 = 553, not a multiple of 89
        ("61824753556", False),  # first digit off by one: 534 + 10
        ("01824753556", False),  # a leading zero is never an ABN (even if the sum worked)
        ("5182475355", False),  # ten digits
        ("518247535560", False),  # twelve
        ("5182475355a", False),
        ("", False),
    ],
)
def test_the_abn_checksum_by_hand(value, valid):
    assert abn_is_valid(value) is valid


def test_a_leading_zero_abn_whose_weighted_sum_divides_by_89_is_still_refused():
    # A first digit 0 counts as -1 (weight 10: -10); find two last digits that bring the
    # weighted sum to a multiple of 89, so only the leading-zero rule can refuse it.
    for last_two in range(100):
        digits = "0" + "00000000" + f"{last_two:02d}"
        numbers = [int(d) for d in digits]
        numbers[0] -= 1
        weighted = sum(w * n for w, n in zip((10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19), numbers, strict=True))
        if weighted % 89 == 0:
            assert not abn_is_valid(digits)
            return
    pytest.fail("no leading-zero candidate found")


def test_validate_abn_names_the_format_or_the_checksum():
    with pytest.raises(ValidationError) as short:
        validate_abn("1234")
    assert short.value.code == "abn_format"
    with pytest.raises(ValidationError) as bad:
        validate_abn("51824753557")
    assert bad.value.code == "abn_checksum"
    assert validate_abn(" 51 824 753 556 ") is None


def test_clean_and_format_abn():
    assert clean_abn(" 51 824\t753 556 ") == "51824753556"
    assert clean_abn("") == "" and clean_abn(None) == ""
    assert format_abn("51824753556") == "51 824 753 556"
    assert format_abn("5182475355") == "5182475355"  # not eleven digits: shown as given
    assert format_abn("518247535560") == "518247535560"


# --- Webhook signing ----------------------------------------------------------------------


def _ts(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _verify(secret: str = "s1", *, moment: dt.datetime = NOW, secrets=("s1",), body: bytes = BODY, signature=None):
    ts = _ts(moment)
    return signing.verify(
        secrets=secrets,
        timestamp=ts,
        signature=signing.sign(secret, ts, body) if signature is None else signature,
        body=BODY,
        now=NOW,
    )


def test_a_signature_is_base64_hmac_sha256_of_timestamp_then_body():
    import base64
    import hashlib
    import hmac

    expected = base64.b64encode(hmac.new(b"k", b"2026-03-01T12:00:00Z" + BODY, hashlib.sha256).digest()).decode()
    assert signing.sign("k", "2026-03-01T12:00:00Z", BODY) == expected


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        (dt.timedelta(0), True),
        (dt.timedelta(minutes=5), True),  # exactly five minutes either way is inside the window
        (-dt.timedelta(minutes=5), True),
        (dt.timedelta(minutes=5, seconds=1), False),
        (-dt.timedelta(minutes=5, seconds=1), False),
    ],
)
def test_the_replay_window_is_five_minutes_inclusive(offset, accepted):
    assert _verify(moment=NOW + offset) is accepted


def test_a_fresh_timestamp_with_a_wrong_signature_is_refused():
    assert _verify("not-the-secret") is False
    assert _verify(signature="bm9wZQ==") is False


def test_any_configured_secret_is_accepted_and_none_configured_refuses():
    assert _verify("s2", secrets=("s1", "s2")) is True
    assert _verify("s1", secrets=("s1", "s2")) is True
    assert _verify("s1", secrets=()) is False


def test_a_signature_with_surrounding_whitespace_is_accepted():
    ts = _ts(NOW)
    good = signing.sign("s1", ts, BODY)
    assert signing.verify(secrets=["s1"], timestamp=ts, signature=f" {good}\n", body=BODY, now=NOW)


@pytest.mark.parametrize("missing", ["timestamp", "signature"])
def test_a_missing_header_is_refused(missing):
    ts = _ts(NOW)
    kwargs = {"timestamp": ts, "signature": signing.sign("s1", ts, BODY)}
    kwargs[missing] = ""
    assert signing.verify(secrets=["s1"], body=BODY, now=NOW, **kwargs) is False


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("2026-03-01T12:00:00Z", NOW),
        (" 2026-03-01T12:00:00+00:00 ", NOW),
        ("2026-03-01T20:00:00+08:00", NOW),
        ("2026-03-01T12:00:00", None),  # no zone: ambiguous, refused
        ("yesterday", None),
    ],
)
def test_timestamps_must_be_iso_with_a_zone(text, parsed):
    assert signing.parse_timestamp(text) == parsed


def test_an_abn_whose_second_digit_is_zero_is_valid_and_a_leading_zero_never_is():
    # 50 001 000 016: digits 5,0,0,0,1,0,0,0,0,1,6 (first minus 1 -> 4), weighted
    # 4x10 + 1x7 + 1x17 + 6x19 = 40 + 7 + 17 + 114 = 178 = 2 x 89.
    assert abn_is_valid("50001000016")
    # 05 001 000 041: -1x10 + 5x1 + 1x7 + 4x17 + 1x19 = -10 + 5 + 7 + 68 + 19 = 89: the sum
    # works, but an ABN never starts with 0.
    assert not abn_is_valid("05001000041")


# --- Ownership: the words the forms show, and relationship rules by record --------------


def test_ownership_labels_name_the_owning_team_as_a_sentence():
    from customers import ownership
    from customers.models import Account, Opportunity

    assert ownership.owner_label(Account, "xero_contact_id") == "owned by Finance"
    assert ownership.sentence("owned by Finance") == "Owned by Finance."
    assert ownership.sentence("Owned by Finance.") == "Owned by Finance."
    assert ownership.owner_label(Opportunity, "amount") == "owned by Sales management or its sales rep"
    assert ownership.owner_label(Account, "legal_name") == "owned by Customer Relations"


@pytest.mark.django_db
def test_a_field_that_is_no_customer_fact_is_refused_as_ownership_not_a_crash(personas):
    from customers import ownership
    from customers.errors import OwnershipError
    from customers.models import Account

    with pytest.raises(OwnershipError, match="not an editable customer fact"):
        ownership.rule_for(Account, "code")


@pytest.mark.django_db
def test_an_earlier_user_cannot_edit_a_later_reps_opportunity(personas):
    """The record-owner rule is identity, not an ordering of ids: the sales rep (created
    first) may not edit a deal of a rep created after them."""
    from customers import services
    from customers.errors import OwnershipError
    from tests.factories import AccountFactory, OpportunityFactory, UserFactory

    later = UserFactory(username="later_rep", roles=["sales_rep"])
    assert later.pk > personas["sales_rep"].pk
    deal = OpportunityFactory(account=AccountFactory(owner=later), owner=later, name="Later's deal")
    with pytest.raises(OwnershipError):
        services.update_opportunity(
            opportunity=deal, changes={"name": "Mine now"}, actor=personas["sales_rep"], reason="take"
        )
    deal.refresh_from_db()
    assert deal.name == "Later's deal"


@pytest.mark.django_db
def test_an_earlier_user_cannot_edit_the_contacts_of_a_later_reps_account(personas):
    from customers import services
    from customers.errors import OwnershipError
    from tests.factories import AccountFactory, ContactFactory, UserFactory

    later = UserFactory(username="later_rep", roles=["sales_rep"])
    contact = ContactFactory(account=AccountFactory(owner=later), title="CFO")
    with pytest.raises(OwnershipError):
        services.update_contact(
            contact=contact,
            changes={"title": "CEO"},
            expected_version=contact.version,
            actor=personas["sales_rep"],
            reason="not mine",
        )
    contact.refresh_from_db()
    assert contact.title == "CFO"


def test_ownership_labels_name_the_relationship_owners():
    from customers import ownership
    from customers.models import Account, Contact

    assert ownership.owner_label(Contact, "phone") == "owned by Customer Relations or the account's sales rep"
    assert ownership.owner_label(Account, "owner") == "owned by Sales management"


@pytest.mark.django_db
def test_bulk_writes_need_a_stewards_reason_too(personas):
    """`require_write` (imports) lets a steward with a reason through, and no one else."""
    from customers import ownership
    from customers.errors import OwnershipError
    from tests.factories import AccountFactory

    account = AccountFactory()
    assert ownership.require_write(personas["data_steward"], account, ["legal_name"], "import run 7") is None
    with pytest.raises(OwnershipError, match="needs a reason"):
        ownership.require_write(personas["data_steward"], account, ["legal_name"], "  ")
    with pytest.raises(OwnershipError):
        ownership.require_write(personas["finance"], account, ["legal_name"], "import run 7")
    assert ownership.require_write(personas["finance"], account, ["xero_contact_id"], "") is None


def test_an_ownership_rule_is_a_frozen_value():
    import dataclasses

    from customers import ownership

    rule = ownership.OWNERSHIP["account"]["legal_name"]
    assert hash(rule) == hash(ownership.OWNERSHIP["account"]["phone"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.roles = frozenset()


@pytest.mark.django_db
def test_a_later_rep_cannot_hand_their_deal_to_an_earlier_colleague(personas):
    """Handing a deal over is for a sales manager, whichever colleague's id is smaller."""
    from customers import services
    from customers.errors import OwnershipError
    from tests.factories import AccountFactory, OpportunityFactory, UserFactory

    later = UserFactory(username="later_rep", roles=["sales_rep"])
    assert personas["sales_rep"].pk < later.pk
    deal = OpportunityFactory(account=AccountFactory(owner=later), owner=later, name="Later's deal")
    with pytest.raises(OwnershipError, match="to someone else"):
        services.update_opportunity(
            opportunity=deal, changes={"owner": personas["sales_rep"]}, actor=later, reason="hand over"
        )
    deal.refresh_from_db()
    assert deal.owner == later
