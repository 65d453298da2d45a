"""The legacy import checked on an estate the project did not generate.

`tests/estates/handmade/` holds five clients' stores written by hand in the real export
layouts (Xero's Sales Invoices export, Outlook's calendar CSV, Freshdesk's ticket export,
the client register saved as CSV), with a truth file worked out by hand. It covers what the
generator and the importers could agree on by construction: subscriptions only Xero and
the calendar know, monthly, quarterly and annual billing in a partial-year export, a
credit note, a voided and a draft invoice, a planted drift and one within tolerance,
Freshdesk's five-point survey labels and an unknown one, products typed loosely, a staff
name with odd spacing, one nobody has and one two users share.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import override_settings

from customers.demo import ensure_demo_users
from customers.models import Account, Subscription
from migration.choices import ConflictKind, HeldKind, HeldStatus
from migration.models import EvidencedSubscription, HeldValue, ImportConflict
from migration.services import map_held_value, run_import
from support_bridge.models import Ticket
from support_bridge.services import recompute_risk

ESTATE = Path(__file__).parent / "estates" / "handmade"
TRUTH = json.loads((ESTATE / "truth.json").read_text())
NOW = dt.datetime.fromisoformat(TRUTH["now"])
MD5 = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _paths() -> list[Path]:
    return sorted(p for p in ESTATE.iterdir() if p.is_file())


def _counts() -> dict[str, int]:
    return {
        "subscription history": Subscription.history.count(),
        "account history": Account.history.count(),
        "conflicts": ImportConflict.objects.count(),
        "evidence": EvidencedSubscription.objects.count(),
        "tickets": Ticket.objects.count(),
    }


@pytest.fixture(scope="module")
def imported(django_db_setup, django_db_blocker) -> Iterator[dict]:
    """Import the hand-made estate twice, map the unknown staff name, import a third time;
    inside a transaction rolled back at the end."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=MD5), transaction.atomic():
        users, _ = ensure_demo_users()
        steward = users["data_steward"]
        User = get_user_model()
        staff = {
            "praman": User.objects.create_user("praman", first_name="Priya", last_name="Raman"),
            "twalsh": User.objects.create_user("twalsh", first_name="Tom", last_name="Walsh"),
            "mwong": User.objects.create_user("mwong", first_name="Mei", last_name="Wong"),
            "slee1": User.objects.create_user("slee1", first_name="Sam", last_name="Lee"),
            "slee2": User.objects.create_user("slee2", first_name="Sam", last_name="Lee"),
        }
        first = run_import(paths=_paths(), actor=steward)
        recompute_risk(now=NOW)
        result = {
            "first": first,
            "staff": staff,
            "after_first": _counts(),
            "owners_after_first": dict(Account.objects.values_list("code", "owner__username")),
            "held_after_first": {(h.kind, h.value): h.rows for h in HeldValue.objects.all()},
        }
        result["second"] = run_import(paths=_paths(), actor=steward)
        result["after_second"] = _counts()
        held = HeldValue.objects.get(kind=HeldKind.STAFF, value="Mei Chen")
        map_held_value(held=held, actor=steward, user=staff["mwong"])
        result["third"] = run_import(paths=_paths(), actor=steward)
        yield result
        transaction.set_rollback(True)


def _subscription(code: str, product: str) -> Subscription:
    return Subscription.objects.live().get(account__code=code, product__code=product)


@pytest.mark.django_db
def test_every_true_subscription_exists_and_no_other(imported):
    expected = {(s["code"], s["product"]) for s in TRUTH["subscriptions"]}
    found = set(Subscription.objects.live().values_list("account__code", "product__code"))
    assert found == expected


@pytest.mark.django_db
@pytest.mark.parametrize("truth", TRUTH["subscriptions"], ids=lambda s: f"{s['code']}-{s['product']}")
def test_every_subscription_carries_the_annual_value_xero_bills(imported, truth):
    assert _subscription(truth["code"], truth["product"]).annual_value == Decimal(truth["annual_value"]), truth["why"]


@pytest.mark.django_db
@pytest.mark.parametrize("truth", TRUTH["subscriptions"], ids=lambda s: f"{s['code']}-{s['product']}")
def test_every_renewal_date_is_right(imported, truth):
    assert _subscription(truth["code"], truth["product"]).renewal_date == dt.date.fromisoformat(truth["renewal_date"])


@pytest.mark.django_db
def test_subscriptions_only_xero_and_the_calendar_know_are_listed_for_customer_relations(imported):
    expected = {(s["code"], s["product"]) for s in TRUTH["subscriptions"] if s["from_evidence"]}
    listed = set(EvidencedSubscription.objects.values_list("account__code", "product__code"))
    assert listed == expected
    banksia = EvidencedSubscription.objects.get(account__code="CC101", product__code="managed-services")
    assert banksia.stores == ["d4", "d7"]
    assert banksia.subscription == _subscription("CC101", "managed-services")
    assert "INV-2101" in banksia.detail


@pytest.mark.django_db
def test_every_planted_drift_is_flagged_for_finance_with_both_values_and_the_invoices(imported):
    drifts = ImportConflict.objects.filter(kind=ConflictKind.DRIFT)
    assert {(d.account.code, d.subscription.product.code) for d in drifts} == {
        (d["code"], d["product"]) for d in TRUTH["drifts"]
    }
    drift = drifts.get()
    assert drift.evidence["master"] == "30000.00"
    assert drift.evidence["xero"] == "33000.00"
    assert drift.evidence["record_holds"] == "Xero"
    assert drift.evidence["invoices"] == ["INV-2301", "INV-2302"]
    assert drift.evidence["cadence"] == "quarterly"


@pytest.mark.django_db
def test_a_subscription_xero_cannot_tell_the_value_of_is_flagged_not_guessed(imported):
    untold = ImportConflict.objects.filter(kind=ConflictKind.UNTOLD)
    assert {(u.account.code, u.subscription.product.code) for u in untold} == {
        (u["code"], u["product"]) for u in TRUTH["untold"]
    }


@pytest.mark.django_db
def test_every_ticket_is_mirrored_to_its_client(imported):
    for code, facts in TRUTH["clients"].items():
        mirrored = set(Ticket.objects.filter(account__code=code).values_list("external_id", flat=True))
        assert mirrored == set(facts["tickets"]), code


@pytest.mark.django_db
def test_five_point_survey_labels_are_ratings_and_an_unknown_label_costs_only_the_rating(imported):
    ratings = dict(Ticket.objects.filter(account__code="CC104").values_list("external_id", "satisfaction"))
    assert ratings["4003"] == 3  # Not satisfied
    assert ratings["4004"] == 0  # Extremely dissatisfied
    assert ratings["4009"] == 10  # Extremely satisfied
    assert ratings["4010"] == 8  # Satisfied
    assert ratings["4008"] is None  # "Meh": imported, unrated
    warnings = imported["first"].report["warnings"]
    assert sum("'Meh'" in w for w in warnings) == 1


@pytest.mark.django_db
def test_the_troubled_client_is_high_risk_with_its_reasons(imported):
    account = Account.objects.get(code=TRUTH["troubled"]["code"])
    risk = account.risk_score
    assert risk.band == TRUTH["troubled"]["band"]
    reasons = " ".join(risk.reasons)
    assert "8 tickets in 180 days" in reasons
    assert "satisfaction fell from 9.0 to 2.2" in reasons


@pytest.mark.django_db
def test_staff_names_match_ignoring_case_and_spacing(imported):
    owners = imported["owners_after_first"]
    assert owners["CC101"] == "praman"  # "priya  RAMAN"
    assert owners["CC102"] == "twalsh"
    assert owners["CC103"] is None  # "Mei Chen": nobody, until a steward maps her


@pytest.mark.django_db
def test_unknown_values_are_held_once_with_their_row_counts(imported):
    held = imported["held_after_first"]
    for item in TRUTH["held"]:
        assert held.get((item["kind"], item["value"])) == item["rows"], item
    warnings = imported["first"].report["warnings"]
    assert any("no staff member called 'Mei Chen'" in w and "(2 rows)" in w for w in warnings)
    assert sum("Mei Chen" in w for w in warnings) == 1
    assert any("'Sam Lee' fits more than one staff member" in w for w in warnings)


@pytest.mark.django_db
def test_a_mapped_staff_name_fills_the_owners_at_the_next_import(imported):
    owners = dict(Account.objects.values_list("code", "owner__username"))
    assert owners["CC103"] == "mwong"
    assert owners["CC104"] == "mwong"
    assert HeldValue.objects.get(kind=HeldKind.STAFF, value="Mei Chen").status == HeldStatus.MAPPED


@pytest.mark.django_db
def test_bad_lines_are_rejected_with_their_row_and_reason_and_nothing_else_is_lost(imported):
    files = {f.name: f for f in imported["first"].files.all()}
    for name, rows in TRUTH["rejected"].items():
        text = files[name].rejected_csv
        assert [int(line.split(",")[0]) for line in text.splitlines()[1:]] == rows, name
    assert "cannot tell the product" in files["xero_sales_invoices.csv"].rejected_csv
    assert "Jarrah Mining" in files["outlook_renewals.csv"].rejected_csv


@pytest.mark.django_db
def test_a_second_import_changes_nothing(imported):
    assert imported["after_second"] == imported["after_first"]
    for store, counts in imported["second"].report["stores"].items():
        assert counts.get("created", 0) == 0, store
        assert counts.get("updated", 0) == 0, store
        assert counts.get("values updated", 0) == 0, store
