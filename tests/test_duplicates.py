"""Duplicates: matching, the scan and its queue, the review pages, merge with provenance, undo."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers import dedupe, services
from customers.choices import AliasKind, DuplicateStatus
from customers.errors import ConflictError, MergeError, OwnershipError
from customers.history import account_changes
from customers.matching import email_domain, name_key, normalise_name, phone_e164
from customers.models import (
    Account,
    AccountAlias,
    AccountMerge,
    Activity,
    Contact,
    ContactDuplicateCandidate,
    DuplicateCandidate,
    Opportunity,
    Subscription,
)
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    AliasFactory,
    ContactFactory,
    OpportunityFactory,
    SubscriptionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ABN = "51824753556"
OTHER_ABN = "53004085616"
RELATED = (Contact, Subscription, Opportunity, Activity, AccountAlias)


def _pair(a: Account, b: Account) -> DuplicateCandidate:
    low, high = sorted((a.pk, b.pk))
    return DuplicateCandidate.objects.get(account_a_id=low, account_b_id=high)


def _fresh(account: Account) -> Account:
    return Account.objects.get(pk=account.pk)


# --- Matching ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key", "removed"),
    [
        ("Acme Pty Ltd", "acme", ("Pty Ltd",)),
        ("Acme Pty. Ltd.", "acme", ("Pty Ltd",)),
        ("Acme Pty Limited", "acme", ("Pty Limited",)),
        ("Acme Proprietary Limited", "acme", ("Proprietary Limited",)),
        ("ACME P/L", "acme", ("P/L",)),
        ("Acme Inc.", "acme", ("Inc",)),
        ("Smith & Jones", "smith and jones", ()),
        ("The Trustee for the Smith Family Trust", "smith family trust", ()),
        ("Smith Nominees Pty Ltd ATF The Smith Family Trust", "smith family trust", ()),
    ],
)
def test_names_normalise_legal_suffixes_ampersands_and_trustees(name, key, removed):
    parsed = name_key(name)
    assert (parsed.key, parsed.removed) == (key, removed)


def test_a_trading_as_name_is_matched_on_both_its_legal_and_trading_parts():
    parsed = name_key("Acme Holdings Pty Ltd t/a Acme Widgets")
    assert (parsed.key, parsed.trading) == ("acme holdings", "acme widgets")
    assert normalise_name("Acme Pty Ltd trading as Acme Widgets") == "acme"


def test_phones_compare_in_e164_and_free_mail_domains_say_nothing():
    assert phone_e164("(08) 9212 3456") == phone_e164("+61 8 9212 3456") == "+61892123456"
    assert phone_e164("9212 3456", state="WA") == "+61892123456"
    assert email_domain("Jane.Citizen@ACME.example") == "acme.example"
    assert email_domain("jane@gmail.com") == email_domain("jane@bigpond.com") == ""


def test_find_matches_tells_an_importer_which_accounts_look_like_an_incoming_record():
    acme = AccountFactory(legal_name="Acme Pty Ltd", abn=ABN, phone="08 5550 1234")
    AccountFactory(legal_name="Zenith Dental")
    by_name = dedupe.find_matches(name="ACME LIMITED")
    assert [m.code for m in by_name] == [acme.code]
    assert by_name[0].evidence == ("same name after removing 'Limited' and 'Pty Ltd'",)
    by_abn = dedupe.find_matches(name="Harbour Widgets", abn="51 824 753 556")
    assert by_abn[0].code == acme.code and "same ABN (51 824 753 556)" in by_abn[0].evidence
    assert dedupe.find_matches(name="Acme Widgets", phone="+61 8 5550 1234")[0].code == acme.code
    assert dedupe.find_matches(name="Completely Different") == []


def test_an_in_memory_index_answers_the_same_question_for_bulk_imports():
    acme = AccountFactory(legal_name="Acme Pty Ltd")
    index = dedupe.AccountIndex(dedupe.account_records())
    found = index.find(dedupe.MatchRecord.build(legal_name="Acme Pty. Limited"))
    assert [m.code for m in found] == [acme.code]


def test_a_typo_is_a_match_but_a_different_short_word_is_not():
    def score(x: str, y: str):
        return dedupe.score_pair(
            dedupe.MatchRecord.build(pk=1, legal_name=x), dedupe.MatchRecord.build(pk=2, legal_name=y)
        )

    assert score("Korvana Dental Pty Ltd", "Korvnaa Dental")[1] == ("names one letter apart after removing 'Pty Ltd'",)
    assert score("Hill Dental", "Hall Dental") is None
    assert score("Tran Physiotherapy", "Ryan Physiotherapy") is None


# --- Scan and queue ---------------------------------------------------------------------


def test_the_acme_variants_are_found_with_evidence():
    full = AccountFactory(legal_name="Acme Pty Ltd")
    short = AccountFactory(legal_name="Acme")
    shouty = AccountFactory(legal_name="ACME")
    AccountFactory(legal_name="Zenith Dental Pty Ltd")

    result = services.scan_duplicates()

    assert result.account_pairs == 3
    assert _pair(full, short).evidence == ["same name after removing 'Pty Ltd'"]
    assert _pair(full, shouty).evidence == ["same name after removing 'Pty Ltd'"]
    assert _pair(short, shouty).evidence == ["same name apart from case and punctuation"]
    assert all(c.status == DuplicateStatus.OPEN and c.score >= 90 for c in DuplicateCandidate.objects.all())


def test_a_same_abn_pair_is_found_whatever_the_names():
    a = AccountFactory(legal_name="Zenith Dental Group Pty Ltd", abn=ABN)
    b = AccountFactory(legal_name="Harbour Smiles", abn=ABN)
    services.scan_duplicates()
    pair = _pair(a, b)
    assert pair.evidence == ["same ABN (51 824 753 556)"]
    assert pair.score >= 96


def test_two_different_valid_abns_are_two_companies_whatever_the_names():
    AccountFactory(legal_name="Acme Pty Ltd", abn=ABN)
    AccountFactory(legal_name="Acme", abn=OTHER_ABN)
    assert services.scan_duplicates().account_pairs == 0


def test_shared_phone_and_company_email_domain_corroborate_a_name():
    a = AccountFactory(legal_name="Acme", phone="(08) 5550 1234")
    b = AccountFactory(legal_name="Acme Widgets", phone="+61 8 5550 1234")
    ContactFactory(account=a, email="jane@acme.example")
    ContactFactory(account=b, email="raj@acme.example")
    services.scan_duplicates()
    assert _pair(a, b).evidence == [
        "one name contains the other",
        "same phone number (+61 8 5550 1234)",
        "same email domain (acme.example)",
    ]


def test_not_a_duplicate_is_remembered_across_rescans(personas):
    a, b = AccountFactory(legal_name="Acme Pty Ltd"), AccountFactory(legal_name="ACME")
    services.scan_duplicates()
    services.mark_not_duplicate(candidate=_pair(a, b), actor=personas["data_steward"], reason="Two franchisees")

    again = services.scan_duplicates()

    pair = _pair(a, b)
    assert pair.status == DuplicateStatus.NOT_DUPLICATE
    assert (pair.reviewed_by, pair.review_reason) == (personas["data_steward"], "Two franchisees")
    assert again.created == 0 and not DuplicateCandidate.objects.open().exists()


def test_a_rescan_changes_nothing_and_drops_pairs_that_no_longer_match(personas):
    a, b = AccountFactory(legal_name="Acme Pty Ltd"), AccountFactory(legal_name="ACME")
    services.scan_duplicates()
    assert services.scan_duplicates().created == 0
    assert DuplicateCandidate.objects.count() == 1
    services.update_account(
        account=b, changes={"legal_name": "Zenith Dental"}, expected_version=1, actor=personas["data_steward"],
        reason="Typed over the wrong record",
    )  # fmt: skip
    assert services.scan_duplicates().removed == 1
    assert not DuplicateCandidate.objects.filter(account_a=a).exists()


def test_the_scan_task_and_command_call_the_same_service(capsys):
    from django.core.management import call_command

    from customers.tasks import scan_duplicates

    AccountFactory(legal_name="Acme Pty Ltd"), AccountFactory(legal_name="ACME")
    assert "1 account pairs" in scan_duplicates.delay().get()
    call_command("scan_duplicates")
    assert "1 account pairs" in capsys.readouterr().out
    assert DuplicateCandidate.objects.count() == 1


# --- Merge ------------------------------------------------------------------------------


@pytest.fixture
def acme(personas):
    """Sales' full record and Finance's "ACME", each with related rows."""
    survivor = AccountFactory(
        legal_name="Acme Pty Ltd",
        abn=ABN,
        phone="08 5550 1234",
        website="https://acme.example",
        xero_contact_id="xero-11",
    )
    duplicate = AccountFactory(
        legal_name="ACME", trading_name="Acme Widgets", xero_contact_id="xero-77", suburb="Perth", postcode="6000"
    )
    contact = ContactFactory(account=duplicate, first_name="Raj", last_name="Patel", email="raj@acme.example")
    rows = {
        "contact": contact,
        "subscription": SubscriptionFactory(account=duplicate, annual_value=Decimal("9000.00")),
        "opportunity": OpportunityFactory(account=duplicate, owner=personas["sales_rep"]),
        "activity": ActivityFactory(account=duplicate, contact=contact),
        "alias": AliasFactory(account=duplicate, kind=AliasKind.LEGACY_CODE, value="LEG-0042"),
    }
    ContactFactory(account=survivor, first_name="Jane", last_name="Citizen")
    services.update_contact(
        contact=contact, changes={"phone": "0491 570 156"}, expected_version=1, actor=personas["customer_relations"],
        reason="Raj gave his mobile",
    )  # fmt: skip
    services.scan_duplicates()
    return survivor, duplicate, rows


def _counts(account: Account) -> dict[str, int]:
    return {model.__name__: model.objects.filter(account=account).count() for model in RELATED}


def _merge(acme, personas, **choices):
    survivor, duplicate, _rows = acme
    return services.merge_accounts(
        survivor=survivor,
        duplicate=duplicate,
        choices=choices or {"suburb": "duplicate", "postcode": "duplicate"},
        actor=personas["data_steward"],
        reason="Same client entered by Sales and Finance",
        candidate=_pair(survivor, duplicate),
    )


def test_a_merge_moves_every_related_row_leaves_history_readable_and_redirects_the_old_code(acme, personas, client_for):
    survivor, duplicate, rows = acme
    before = _counts(survivor)

    merge = _merge(acme, personas)

    assert _counts(_fresh(duplicate)) == dict.fromkeys(_counts(duplicate), 0)
    after = _counts(survivor)
    assert {k: after[k] - before[k] for k in after} == {
        "Contact": 1,
        "Subscription": 1,
        "Opportunity": 1,
        "Activity": 1,
        # the moved legacy code, plus the duplicate's code, trading name and Xero id as aliases
        "AccountAlias": 4,
    }
    survivor = _fresh(survivor)
    assert (survivor.xero_contact_id, survivor.suburb, survivor.website) == ("xero-11", "Perth", "https://acme.example")
    assert _fresh(duplicate).merged_into == survivor
    aliases = set(AccountAlias.objects.filter(account=survivor).values_list("kind", "value"))
    assert {
        (AliasKind.LEGACY_CODE, "LEG-0042"),
        (AliasKind.LEGACY_CODE, duplicate.code),
        (AliasKind.NAME, "Acme Widgets"),
        (AliasKind.XERO_CONTACT, "xero-77"),
    } <= aliases
    # The merge entry: who, why, where each surviving value came from, which rows moved.
    assert merge.merged_by == personas["data_steward"]
    assert merge.provenance["suburb"] == {"label": "Suburb", "from": duplicate.code, "value": "Perth"}
    assert merge.provenance["legal_name"] == {"label": "Legal name", "from": survivor.code, "value": "Acme Pty Ltd"}
    assert merge.provenance["xero_contact_id"]["from"] == survivor.code
    contacts_moved = {
        "model": "customers.contact",
        "label": "contacts",
        "field": "account",
        "pks": [rows["contact"].pk],
        "stayed": [],
    }
    assert contacts_moved in merge.moved
    assert merge.duplicate_values["legal_name"] == "ACME"
    assert _pair(survivor, duplicate).status == DuplicateStatus.MERGED
    # Every moved row says who moved it and why.
    moved = rows["contact"].history.latest()
    assert (moved.history_user, moved.account_id) == (personas["data_steward"], survivor.pk)
    assert moved.history_change_reason.startswith(f"Merged {duplicate.code} into {survivor.code}")
    # History stays readable from the survivor: the merged account's and the moved contact's.
    changes = account_changes(survivor)
    assert any(c.record == f"Merged account {duplicate.code}" for c in changes)
    assert any(c.record == "Contact Raj Patel" and c.why == "Raj gave his mobile" for c in changes)
    # The old code redirects, and merged accounts leave the list and search.
    client = client_for("support_agent")
    response = client.get(reverse("customers:account_detail", kwargs={"code": duplicate.code}))
    assert response.status_code == 302 and response.url == survivor.get_absolute_url()
    history = client.get(reverse("customers:account_history", kwargs={"code": duplicate.code.lower()}))
    assert history.url == reverse("customers:account_history", kwargs={"code": survivor.code})
    assert duplicate not in Account.objects.for_list()
    assert list(Account.objects.for_list().search("ACME")) == [survivor]


def _snapshot(*accounts: Account) -> dict:
    """Every field of the accounts and of every row pointing at them (except versions)."""
    ids = [a.pk for a in accounts]
    state = {("Account", a["id"]): a for a in Account.objects.filter(pk__in=ids).values()}
    for model in RELATED:
        for row in model.objects.filter(account_id__in=ids).values():
            state[(model.__name__, row["id"])] = row
    for row in state.values():
        row.pop("version", None)
        row.pop("updated_at", None)
    return state


def test_undo_restores_row_counts_and_field_values_exactly(acme, personas):
    survivor, duplicate, _rows = acme
    before = _snapshot(survivor, duplicate)
    merge = _merge(acme, personas)

    services.unmerge_accounts(merge=merge, actor=personas["data_steward"], reason="Two franchisees after all")

    assert _snapshot(survivor, duplicate) == before
    merge.refresh_from_db()
    assert (merge.undone_by, merge.undo_reason) == (personas["data_steward"], "Two franchisees after all")
    assert _pair(survivor, duplicate).status == DuplicateStatus.OPEN
    assert _fresh(duplicate).history.latest().history_change_reason.startswith("Undid the merge")
    with pytest.raises(MergeError, match="already undone"):
        services.unmerge_accounts(merge=merge, actor=personas["data_steward"], reason="again")


def test_undo_is_refused_after_thirty_days_or_over_later_edits(acme, personas):
    survivor, duplicate, _rows = acme
    merge = _merge(acme, personas)
    services.update_account(
        account=_fresh(survivor), changes={"suburb": "Subiaco"}, expected_version=_fresh(survivor).version,
        actor=personas["customer_relations"], reason="Moved office",
    )  # fmt: skip
    with pytest.raises(MergeError, match="edited after the merge"):
        services.unmerge_accounts(merge=merge, actor=personas["data_steward"], reason="undo")
    AccountMerge.objects.filter(pk=merge.pk).update(merged_at=timezone.now() - dt.timedelta(days=31))
    merge.refresh_from_db()
    with pytest.raises(MergeError, match="can be undone for 30 days"):
        services.unmerge_accounts(merge=merge, actor=personas["data_steward"], reason="undo")
    assert _fresh(duplicate).merged_into_id == survivor.pk


def test_a_non_steward_is_refused_by_the_service_and_the_pages(acme, personas, client_for):
    survivor, duplicate, _rows = acme
    for role in ("customer_relations", "sales_manager", "finance"):
        with pytest.raises(OwnershipError, match="Only data stewards"):
            services.merge_accounts(
                survivor=survivor, duplicate=duplicate, choices={}, actor=personas[role], reason="tidy"
            )
    merge = _merge(acme, personas)
    with pytest.raises(OwnershipError, match="Only data stewards"):
        services.unmerge_accounts(merge=merge, actor=personas["customer_relations"], reason="undo")
    client = client_for("customer_relations")
    assert client.get(reverse("customers:duplicate_list")).status_code == 403
    assert client.post(reverse("customers:merge_detail", args=[merge.pk]), {"reason": "x"}).status_code == 403
    assert _fresh(duplicate).merged_into_id == survivor.pk


def test_merging_into_itself_into_a_merged_record_or_over_an_edit_is_a_clear_error(acme, personas):
    survivor, duplicate, _rows = acme
    steward = personas["data_steward"]
    with pytest.raises(MergeError, match="cannot be merged into itself"):
        services.merge_accounts(survivor=survivor, duplicate=survivor, choices={}, actor=steward, reason="x")

    # Someone edits the duplicate after the steward opened the pair: a conflict, nothing lost.
    seen = Account.objects.get(pk=duplicate.pk)
    services.update_account(
        account=duplicate, changes={"phone": "08 5550 9999"}, expected_version=1, actor=personas["customer_relations"],
        reason="New number",
    )  # fmt: skip
    with pytest.raises(MergeError, match=r"changed after you opened this pair \(Customer Relations Demo changed phone"):
        services.merge_accounts(survivor=survivor, duplicate=seen, choices={}, actor=steward, reason="x")
    assert _fresh(duplicate).merged_into_id is None
    assert _fresh(duplicate).phone == "08 5550 9999"
    assert Contact.objects.filter(account=duplicate).count() == 1

    third = AccountFactory(legal_name="Acme (WA)")
    _merge((survivor, _fresh(duplicate), None), personas)
    with pytest.raises(MergeError, match="already been merged"):
        services.merge_accounts(survivor=third, duplicate=_fresh(duplicate), choices={}, actor=steward, reason="x")
    with pytest.raises(MergeError, match="already been merged"):
        services.merge_accounts(survivor=_fresh(duplicate), duplicate=third, choices={}, actor=steward, reason="x")
    with pytest.raises(MergeError, match="Say why"):
        services.merge_accounts(survivor=third, duplicate=_fresh(survivor), choices={}, actor=steward, reason=" ")


def test_a_merge_moves_the_rows_of_every_table_that_points_at_an_account_and_no_other():
    """Written by hand: a new table pointing at accounts or contacts fails this test until
    someone decides whether a merge moves its rows (`moves_on_merge = False` keeps them)."""
    links = {(model._meta.label_lower, fk.name) for model, fk in services._links_to(Account)}
    assert links == {
        ("customers.contact", "account"),
        ("customers.subscription", "account"),
        ("customers.opportunity", "account"),
        ("customers.activity", "account"),
        ("customers.accountalias", "account"),
        ("migration.importconflict", "account"),
        ("migration.evidencedsubscription", "account"),
        ("support_bridge.ticket", "account"),
        ("support_bridge.webhookevent", "account"),  # its related_name is "+": found all the same
        ("support_bridge.riskscore", "account"),
        ("support_bridge.churnalert", "account"),
        ("renewals.renewalcase", "account"),
        ("onboarding.order", "account"),
        ("billing_sync.xerocontact", "account"),
        ("billing_sync.xeroinvoiceline", "account"),
        ("billing_sync.discrepancy", "account"),
        # Not: history copies, the duplicate queue, merge records, an account merged into
        # the duplicate earlier (it stays merged into it), a frozen month's account rows.
    }
    contact_links = {(model._meta.label_lower, fk.name) for model, fk in services._links_to(Contact)}
    assert contact_links == {
        ("customers.account", "billing_contact"),
        ("customers.activity", "contact"),
        ("support_bridge.ticket", "contact"),
    }


def test_a_merge_of_two_scored_accounts_leaves_the_duplicates_own_score_alert_and_frozen_month(personas, client_for):
    """Every account is scored nightly: a merge must not fail because both have a score."""
    from reports.models import AccountSnapshot, MonthSnapshot
    from support_bridge.models import ChurnAlert, RiskScore
    from tests.factories_support import ChurnAlertFactory, RiskScoreFactory

    survivor = AccountFactory(legal_name="Acme Pty Ltd", owner=personas["sales_rep"])
    duplicate = AccountFactory(legal_name="ACME", owner=personas["sales_rep"])
    kept_score = RiskScoreFactory(account=survivor, score=20, band="low")
    gone_score = RiskScoreFactory(account=duplicate, score=80, band="high")
    kept_alert, gone_alert = ChurnAlertFactory(account=survivor), ChurnAlertFactory(account=duplicate)
    acknowledged = ChurnAlertFactory(
        account=duplicate, acknowledged_by=personas["sales_rep"], acknowledged_at=timezone.now()
    )
    month = MonthSnapshot.objects.create(month=dt.date(2026, 10, 1), source="live", as_of=timezone.now())
    frozen = {
        account.pk: AccountSnapshot.objects.create(
            snapshot=month,
            account=account,
            code=account.code,
            name=account.legal_name,
            lifecycle_status="active",
            office="perth",
            segment="smb",
        )
        for account in (survivor, duplicate)
    }

    merge = services.merge_accounts(
        survivor=survivor, duplicate=duplicate, choices={}, actor=personas["data_steward"], reason="Same client"
    )

    # The survivor keeps its own score and open alert; the duplicate's stay with it (out of
    # every list with the merge); the acknowledged alert has no rival and moves.
    assert RiskScore.objects.get(pk=kept_score.pk).account_id == survivor.pk
    assert RiskScore.objects.get(pk=gone_score.pk).account_id == duplicate.pk
    assert ChurnAlert.objects.get(pk=kept_alert.pk).account_id == survivor.pk
    assert ChurnAlert.objects.get(pk=gone_alert.pk).account_id == duplicate.pk
    assert ChurnAlert.objects.get(pk=acknowledged.pk).account_id == survivor.pk
    # A frozen month is never edited.
    assert {row.pk: row.account_id for row in AccountSnapshot.objects.all()} == {
        frozen[survivor.pk].pk: survivor.pk,
        frozen[duplicate.pk].pk: duplicate.pk,
    }
    entries = {entry["model"]: entry for entry in merge.moved}
    assert entries["support_bridge.riskscore"]["pks"] == []
    assert entries["support_bridge.riskscore"]["stayed"] == [gone_score.pk]
    assert entries["support_bridge.churnalert"]["pks"] == [acknowledged.pk]
    assert entries["support_bridge.churnalert"]["stayed"] == [gone_alert.pk]
    assert "reports.accountsnapshot" not in entries
    page = client_for("data_steward").get(reverse("customers:merge_detail", args=[merge.pk])).content.decode()
    assert "Rows moved</dt><dd>1 churn alert</dd>" in page
    assert "Left with the duplicate</dt><dd>1 churn alert, 1 risk score <span" in page

    services.unmerge_accounts(merge=merge, actor=personas["data_steward"], reason="Two clients after all")
    assert ChurnAlert.objects.get(pk=acknowledged.pk).account_id == duplicate.pk
    assert RiskScore.objects.get(pk=gone_score.pk).account_id == duplicate.pk
    assert RiskScore.objects.get(pk=kept_score.pk).account_id == survivor.pk


def test_a_merge_keeps_the_duplicates_other_abn_and_xero_contact_as_aliases(personas):
    # The duplicate's ABN sorts after the survivor's and its Xero id before: both kept.
    survivor = AccountFactory(legal_name="Acme Pty Ltd", abn=ABN, xero_contact_id="xero-77")
    duplicate = AccountFactory(legal_name="Acme Widgets", abn=OTHER_ABN, xero_contact_id="xero-11")
    assert duplicate.abn > survivor.abn and duplicate.xero_contact_id < survivor.xero_contact_id
    services.merge_accounts(
        survivor=survivor, duplicate=duplicate, choices={}, actor=personas["data_steward"], reason="Same client"
    )
    aliases = set(AccountAlias.objects.filter(account=survivor).values_list("kind", "value"))
    assert {(AliasKind.ABN, OTHER_ABN), (AliasKind.XERO_CONTACT, "xero-11")} <= aliases
    # And the other way round: the duplicate's ABN sorts before the survivor's.
    third = AccountFactory(legal_name="Swan River Dental", abn="53004085616")
    fourth = AccountFactory(legal_name="Swan River Dental Pty Ltd", abn="33102417032")
    assert fourth.abn < third.abn
    services.merge_accounts(
        survivor=third, duplicate=fourth, choices={}, actor=personas["data_steward"], reason="Same client"
    )
    assert AccountAlias.objects.filter(account=third, kind=AliasKind.ABN, value="33102417032").exists()
    # The same ABN and Xero id on both: no alias repeats what the survivor already says.
    first = AccountFactory(legal_name="Bluegum Pty Ltd", abn="51824753556", xero_contact_id="xero-5")
    second = AccountFactory(legal_name="Bluegum", abn="51824753556", xero_contact_id="xero-5")
    services.merge_accounts(
        survivor=first, duplicate=second, choices={}, actor=personas["data_steward"], reason="Same client"
    )
    kinds = set(AccountAlias.objects.filter(account=first).values_list("kind", flat=True))
    assert AliasKind.ABN not in kinds and AliasKind.XERO_CONTACT not in kinds


def test_a_merge_records_people_by_full_name_and_an_empty_value_as_empty(personas):
    nameless = UserFactory(username="mchen", first_name="", last_name="")
    survivor = AccountFactory(
        legal_name="Acme Pty Ltd", owner=None, relations_coordinator=personas["customer_relations"]
    )
    duplicate = AccountFactory(legal_name="ACME", owner=personas["sales_rep"], relations_coordinator=nameless)
    merge = services.merge_accounts(
        survivor=survivor, duplicate=duplicate, choices={"relations_coordinator": "duplicate"},
        actor=personas["data_steward"], reason="Same client",
    )  # fmt: skip
    assert merge.provenance["owner"] == {"label": "Owner", "from": survivor.code, "value": ""}
    assert merge.provenance["relations_coordinator"]["value"] == "mchen"
    assert personas["sales_rep"].get_full_name()
    other = AccountFactory(legal_name="Other", owner=personas["sales_rep"])
    again = services.merge_accounts(
        survivor=other, duplicate=AccountFactory(legal_name="Other Co", owner=None), choices={},
        actor=personas["data_steward"], reason="Same client",
    )  # fmt: skip
    assert again.provenance["owner"]["value"] == personas["sales_rep"].get_full_name()


def test_a_merge_moves_each_row_one_version_on(acme, personas):
    _survivor, _duplicate, rows = acme
    before = {name: type(row).objects.get(pk=row.pk).version for name, row in rows.items() if hasattr(row, "version")}
    _merge(acme, personas)
    after = {name: type(rows[name]).objects.get(pk=rows[name].pk).version for name in before}
    assert after == {name: version + 1 for name, version in before.items()}


def test_an_account_merged_into_the_duplicate_earlier_stays_merged_into_it(personas):
    first, second, third = (AccountFactory(legal_name=f"Acme {n}") for n in ("One", "Two", "Three"))
    steward = personas["data_steward"]
    services.merge_accounts(survivor=second, duplicate=first, choices={}, actor=steward, reason="Same client")
    merge = services.merge_accounts(
        survivor=third, duplicate=_fresh(second), choices={}, actor=steward, reason="Same client"
    )
    assert _fresh(first).merged_into_id == second.pk  # its code redirects through the chain
    assert not any(entry["model"] == "customers.account" for entry in merge.moved)


def test_merge_and_undo_reasons_are_cut_at_three_hundred_characters(acme, personas):
    survivor, duplicate, _rows = acme
    reason = "x" * 301
    merge = services.merge_accounts(
        survivor=survivor, duplicate=duplicate, choices={}, actor=personas["data_steward"], reason=reason,
        candidate=_pair(survivor, duplicate),
    )  # fmt: skip
    assert merge.reason == "x" * 300
    assert _pair(survivor, duplicate).review_reason == "x" * 300
    services.unmerge_accounts(merge=merge, actor=personas["data_steward"], reason="y" * 301)
    merge.refresh_from_db()
    assert merge.undo_reason == "y" * 300


@pytest.mark.parametrize("elsewhere_first", [True, False], ids=["an-older-account", "a-newer-account"])
def test_undo_is_refused_when_the_duplicate_was_pointed_elsewhere_by_hand(personas, elsewhere_first):
    older = AccountFactory(legal_name="Somebody Else") if elsewhere_first else None
    survivor, duplicate = AccountFactory(legal_name="Acme Pty Ltd"), AccountFactory(legal_name="ACME")
    elsewhere = older or AccountFactory(legal_name="Somebody Else")
    merge = services.merge_accounts(
        survivor=survivor, duplicate=duplicate, choices={}, actor=personas["data_steward"], reason="Same client"
    )
    Account.objects.filter(pk=duplicate.pk).update(merged_into=elsewhere)
    with pytest.raises(MergeError, match="is no longer merged into"):
        services.unmerge_accounts(merge=merge, actor=personas["data_steward"], reason="undo")
    assert _fresh(duplicate).merged_into_id == elsewhere.pk


def test_undo_names_at_most_ten_of_the_moved_rows_that_have_gone(personas):
    survivor, duplicate = AccountFactory(legal_name="Acme Pty Ltd"), AccountFactory(legal_name="ACME")
    contacts = [ContactFactory(account=duplicate) for _ in range(11)]
    merge = services.merge_accounts(
        survivor=survivor, duplicate=duplicate, choices={}, actor=personas["data_steward"], reason="Same client"
    )
    Contact.objects.filter(pk__in=[c.pk for c in contacts]).delete()
    with pytest.raises(MergeError) as refused:
        services.unmerge_accounts(merge=merge, actor=personas["data_steward"], reason="undo")
    ids = ", ".join(str(c.pk) for c in contacts[:10])
    assert f"11 contacts moved by the merge no longer belong to {survivor} (ids {ids});" in str(refused.value)


def test_future_imports_resolve_the_duplicates_names_and_ids_to_the_survivor(acme, personas):
    survivor, duplicate, _rows = acme
    _merge(acme, personas)
    assert [m.code for m in dedupe.find_matches(name="ACME")] == [survivor.code]
    assert AccountAlias.objects.get(kind=AliasKind.LEGACY_CODE, normalised_value=duplicate.code.lower()).account == (
        survivor
    )


# --- Contacts ---------------------------------------------------------------------------


def test_contacts_with_the_same_email_or_name_are_found_merged_and_unmerged(personas):
    account = AccountFactory(legal_name="Meridian Health")
    jane = ContactFactory(account=account, first_name="Jane", last_name="Citizen", email="jane@meridian.example")
    again = ContactFactory(account=account, first_name="jane", last_name="citizen", email="JANE@meridian.example")
    services.update_account(
        account=account, changes={"billing_contact": again}, expected_version=1, actor=personas["finance"],
        reason="Invoices to Jane",
    )  # fmt: skip
    call = ActivityFactory(account=account, contact=again)
    services.scan_duplicates()
    candidate = ContactDuplicateCandidate.objects.get()
    assert candidate.evidence == ["same email address (jane@meridian.example)", "same name at the same account"]

    merge = services.merge_contacts(
        survivor=jane,
        duplicate=again,
        choices={},
        actor=personas["data_steward"],
        reason="One Jane",
        candidate=candidate,
    )
    call.refresh_from_db()
    assert call.contact == jane and _fresh(account).billing_contact == jane
    assert list(Account.objects.for_360().get(pk=account.pk).contacts.all()) == [jane]

    services.unmerge_contacts(merge=merge, actor=personas["data_steward"], reason="Two Janes")
    call.refresh_from_db()
    assert call.contact == again and _fresh(account).billing_contact == again
    assert Contact.objects.get(pk=again.pk).merged_into is None


# --- Pages ------------------------------------------------------------------------------


def test_the_new_account_form_warns_about_a_likely_duplicate(client_for):
    acme = AccountFactory(legal_name="Acme Pty Ltd")
    client = client_for("customer_relations")
    url = reverse("customers:account_add")
    data = {"legal_name": "ACME Pty. Limited", "industry": "other", "segment": "small", "office": "perth"}
    data["lifecycle_status"] = "active"

    warned = client.post(url, data)

    assert warned.status_code == 200
    assert "This looks like an existing customer" in warned.content.decode()
    assert f"{acme.code}</strong> Acme Pty Ltd" in warned.content.decode()
    assert Account.objects.count() == 1
    created = client.post(url, {**data, "create_anyway": "on"})
    assert created.status_code == 302 and Account.objects.count() == 2


def test_a_steward_merges_a_pair_from_the_review_page(acme, client_for):
    survivor, duplicate, _rows = acme
    client = client_for("data_steward")
    url = reverse("customers:duplicate_detail", args=[_pair(survivor, duplicate).pk])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Xero contact id" in html and "xero-77" in html and "same name" in html

    form = page.context["form"]
    data = {"survivor": "a", "reason": "Same client", "version_a": survivor.version, "version_b": duplicate.version}
    data.update({f"keep_{name}": "a" for name in form.differing})
    data["keep_xero_contact_id"] = "b"
    response = client.post(url, {**data, "action": "merge"})

    assert response.status_code == 302 and response.url == survivor.get_absolute_url()
    assert _fresh(survivor).xero_contact_id == "xero-77"
    note = client.get(survivor.get_absolute_url()).content.decode()
    assert "Merged from" in note and duplicate.code in note


def test_a_stale_review_page_shows_a_conflict_and_merges_nothing(acme, client_for, personas):
    survivor, duplicate, _rows = acme
    client = client_for("data_steward")
    url = reverse("customers:duplicate_detail", args=[_pair(survivor, duplicate).pk])
    form = client.get(url).context["form"]
    services.update_account(
        account=survivor, changes={"phone": "08 5550 7777"}, expected_version=1, actor=personas["customer_relations"],
        reason="New number",
    )  # fmt: skip
    data = {"survivor": "a", "reason": "Same client", "version_a": 1, "version_b": 1, "action": "merge"}
    data.update({f"keep_{name}": "a" for name in form.differing})
    response = client.post(url, data)
    assert response.status_code == 409
    assert "changed after you opened this pair" in response.content.decode()
    assert _fresh(duplicate).merged_into_id is None


def test_a_steward_marks_not_a_duplicate_and_undoes_a_merge_from_the_pages(acme, client_for, personas):
    survivor, duplicate, _rows = acme
    client = client_for("data_steward")
    pair = _pair(survivor, duplicate)
    response = client.post(reverse("customers:duplicate_detail", args=[pair.pk]), {"action": "not_duplicate"})
    assert response.status_code == 302
    pair.refresh_from_db()
    assert pair.status == DuplicateStatus.NOT_DUPLICATE

    merge = _merge(acme, personas)
    page = client.get(reverse("customers:merge_detail", args=[merge.pk]))
    assert "Undo this merge" in page.content.decode()
    assert client.post(reverse("customers:merge_detail", args=[merge.pk]), {"reason": ""}).status_code == 400
    undone = client.post(reverse("customers:merge_detail", args=[merge.pk]), {"reason": "Wrong pair"})
    assert undone.status_code == 302 and _fresh(duplicate).merged_into_id is None


def test_the_scan_runs_on_demand_from_the_queue(client_for):
    AccountFactory(legal_name="Acme Pty Ltd"), AccountFactory(legal_name="ACME")
    client = client_for("data_steward")
    response = client.post(reverse("customers:duplicate_scan"), follow=True)
    assert "1 account pairs" in response.content.decode()
    assert "same name" in response.content.decode()


def _queue_queries(client, url: str, django_assert_max_num_queries) -> int:
    with django_assert_max_num_queries(12), CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("kind", ["accounts", "contacts"])
def test_queue_page_query_count_does_not_grow_with_data(kind, client_for, personas, django_assert_max_num_queries):
    client = client_for("data_steward")
    url = f"{reverse('customers:duplicate_list')}?kind={kind}"

    def add_pairs(n: int):
        for i in range(n):
            account = AccountFactory(legal_name=f"Company {i} {kind} {n} Pty Ltd")
            AccountFactory(legal_name=f"Company {i} {kind} {n}")
            ContactFactory(account=account, email=f"same{i}.{n}@example.com")
            ContactFactory(account=account, email=f"same{i}.{n}@example.com")
        services.scan_duplicates()

    add_pairs(2)
    merge_pair = DuplicateCandidate.objects.select_related("account_a", "account_b").first()
    services.merge_accounts(
        survivor=merge_pair.account_a, duplicate=merge_pair.account_b, choices={}, actor=personas["data_steward"],
        reason="Same", candidate=merge_pair,
    )  # fmt: skip
    small = _queue_queries(client, url, django_assert_max_num_queries)
    add_pairs(12)
    assert _queue_queries(client, url, django_assert_max_num_queries) == small


def test_the_review_page_runs_a_fixed_number_of_queries(acme, client_for, django_assert_max_num_queries):
    survivor, duplicate, _rows = acme
    client = client_for("data_steward")
    with django_assert_max_num_queries(12):
        client.get(reverse("customers:duplicate_detail", args=[_pair(survivor, duplicate).pk]))


def test_the_survivors_page_query_count_is_fixed_with_or_without_merges(acme, personas, client_for):
    survivor, _duplicate, _rows = acme
    client = client_for("data_steward")
    with CaptureQueriesContext(connection) as before:
        client.get(survivor.get_absolute_url())
    _merge(acme, personas)
    with CaptureQueriesContext(connection) as after:
        client.get(survivor.get_absolute_url())
    assert len(after.captured_queries) == len(before.captured_queries)


def test_merge_choices_must_name_real_fields(acme, personas):
    survivor, duplicate, _rows = acme
    with pytest.raises(MergeError, match=r"^Unknown merge choices: code\.$"):
        services.merge_accounts(
            survivor=survivor, duplicate=duplicate, choices={"code": "duplicate"}, actor=personas["data_steward"],
            reason="x",
        )  # fmt: skip
    with pytest.raises(MergeError, match=r"^Unknown merge choices: \{'suburb': 'both'\}\.$"):
        services.merge_accounts(
            survivor=survivor, duplicate=duplicate, choices={"suburb": "both"}, actor=personas["data_steward"],
            reason="x",
        )  # fmt: skip
    with pytest.raises(ValidationError):
        # A merged value must still make a valid record (here: a duplicate's bad website).
        Account.objects.filter(pk=duplicate.pk).update(website="not a url")
        services.merge_accounts(
            survivor=survivor, duplicate=_fresh(duplicate), choices={"website": "duplicate"},
            actor=personas["data_steward"], reason="x",
        )  # fmt: skip
    assert _fresh(duplicate).merged_into_id is None


def test_the_merge_page_runs_a_fixed_number_of_queries(acme, personas, client_for, django_assert_max_num_queries):
    merge = _merge(acme, personas)
    client = client_for("data_steward")
    with django_assert_max_num_queries(8):
        assert client.get(reverse("customers:merge_detail", args=[merge.pk])).status_code == 200


def test_a_long_merge_reason_is_kept_whole_on_the_merge_record_and_fits_the_history_column(acme, personas):
    survivor, duplicate, _rows = acme
    reason = "Same client: " + "confirmed with the customer by phone and checked against Xero; " * 4
    merge = services.merge_accounts(
        survivor=survivor, duplicate=duplicate, choices={}, actor=personas["data_steward"], reason=reason
    )
    assert merge.reason == reason.strip()
    why = _fresh(duplicate).history.latest().history_change_reason
    limit = Account.history.model._meta.get_field("history_change_reason").max_length or len(why)
    assert len(why) <= limit and why.startswith(f"Merged {duplicate.code} into {survivor.code}: Same client")


def test_an_edit_opened_before_a_merge_is_refused_as_a_conflict(acme, personas):
    survivor, duplicate, _rows = acme
    seen = {account.pk: account.version for account in (survivor, duplicate)}
    _merge(acme, personas)
    assert {a.pk: a.version for a in Account.objects.filter(pk__in=seen)} == {pk: v + 1 for pk, v in seen.items()}
    with pytest.raises(ConflictError):
        services.update_account(
            account=_fresh(survivor), changes={"phone": "08 5550 9999"}, expected_version=seen[survivor.pk],
            actor=personas["customer_relations"], reason="New number",
        )  # fmt: skip


def test_undo_is_refused_over_any_later_edit_of_a_merged_value(acme, personas):
    survivor, _duplicate, _rows = acme
    merge = _merge(acme, personas)  # the suburb came from the duplicate: "Perth"
    services.update_account(
        account=_fresh(survivor), changes={"suburb": "Armadale"}, expected_version=_fresh(survivor).version,
        actor=personas["customer_relations"], reason="Moved",
    )  # fmt: skip
    with pytest.raises(MergeError, match=r"edited after the merge \(suburb\)"):
        services.unmerge_accounts(merge=merge, actor=personas["data_steward"], reason="undo")


def test_undo_keeps_an_alias_the_survivor_had_before_the_merge(acme, personas):
    survivor, _duplicate, _rows = acme
    own = AliasFactory(account=survivor, kind=AliasKind.NAME, value="Acme Widgets")  # the duplicate's trading name
    merge = _merge(acme, personas)
    assert own.pk not in merge.added_aliases
    services.unmerge_accounts(merge=merge, actor=personas["data_steward"], reason="Two clients after all")
    assert AccountAlias.objects.filter(pk=own.pk, account=survivor).exists()


def test_undo_moves_both_accounts_one_version_on(acme, personas):
    survivor, duplicate, _rows = acme
    merge = _merge(acme, personas)
    seen = {account.pk: account.version for account in Account.objects.filter(pk__in=[survivor.pk, duplicate.pk])}
    services.unmerge_accounts(merge=merge, actor=personas["data_steward"], reason="Two clients after all")
    assert {a.pk: a.version for a in Account.objects.filter(pk__in=seen)} == {pk: v + 1 for pk, v in seen.items()}


def test_a_merge_whose_xero_id_names_a_third_account_is_refused_and_merges_nothing(personas):
    survivor = AccountFactory(legal_name="Acme Pty Ltd", xero_contact_id="xero-1")
    duplicate = AccountFactory(legal_name="ACME", xero_contact_id="xero-2")
    third = AccountFactory(legal_name="Acme Holdings")
    AliasFactory(account=third, kind=AliasKind.XERO_CONTACT, value="xero-2")
    with pytest.raises(MergeError, match=r"xero-2 already belongs to .* Nothing was merged\."):
        services.merge_accounts(
            survivor=survivor, duplicate=duplicate, choices={}, actor=personas["data_steward"], reason="Same client"
        )
    assert _fresh(duplicate).merged_into_id is None and not AccountMerge.objects.exists()
