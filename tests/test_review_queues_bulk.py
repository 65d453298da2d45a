"""Review queues worked in bulk: held names grouped by spelling and settled by one decision;
import conflicts with human labels and formatted values, filtered, and kept or applied
all at once with one reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import AccountAlias
from migration.models import ImportConflict, MatchReview
from tests.factories import AccountFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def _held(name: str, row: int, candidates=()) -> MatchReview:
    return MatchReview.objects.create(
        store="d4", file="xero.csv", row=row, incoming_name=name, candidates=list(candidates)
    )


def test_held_names_are_grouped_by_spelling_with_one_button_for_a_single_candidate(client_for):
    account = AccountFactory(legal_name="Harbour Dental Pty Ltd")
    candidate = {"code": account.code, "name": "Harbour Dental Pty Ltd", "score": 0.82, "evidence": ["name"]}
    for row in (3, 9, 14):
        _held("Harbour Dental Nth", row, [candidate])
    _held("HARBOUR DENTAL NTH.", 20, [candidate])
    _held("Coral Bay Freight", 5)
    response = client_for("data_steward").get(reverse("migration:matchreview_list"))
    groups = response.context["page"].object_list
    assert [len(g["reviews"]) for g in groups] == [4, 1]
    assert groups[0]["spellings"] == ["Harbour Dental Nth", "HARBOUR DENTAL NTH."]
    assert f"It is {account.code} Harbour Dental Pty Ltd" in response.content.decode()


def test_one_decision_settles_every_row_with_that_spelling(client_for):
    account = AccountFactory(legal_name="Harbour Dental Pty Ltd")
    for row in (3, 9, 14):
        _held("Harbour Dental Nth", row)
    other = _held("Coral Bay Freight", 5)
    list_page = client_for("data_steward").get(reverse("migration:matchreview_list"))
    key = list_page.context["page"].object_list[0]["key"]

    response = client_for("data_steward").post(
        reverse("migration:matchreview_resolve_group"), {"key": key, "code": [account.code, ""]}, follow=True
    )

    assert "3 rows settled" in response.content.decode()
    assert MatchReview.objects.filter(status="resolved").count() == 3
    assert MatchReview.objects.get(pk=other.pk).status == "open"
    assert AccountAlias.objects.filter(account=account, value="Harbour Dental Nth").count() == 1


def test_a_group_decision_with_an_unknown_code_changes_nothing(client_for):
    _held("Harbour Dental Nth", 3)
    key = client_for("data_steward").get(reverse("migration:matchreview_list")).context["page"].object_list[0]["key"]
    client_for("data_steward").post(reverse("migration:matchreview_resolve_group"), {"key": key, "code": "CC999999"})
    assert MatchReview.objects.get().status == "open"


def test_a_group_decision_is_for_stewards_only(client_for):
    account = AccountFactory()
    _held("Harbour Dental Nth", 3)
    response = client_for("customer_relations").post(
        reverse("migration:matchreview_resolve_group"), {"key": "harbour dental nth", "code": account.code}
    )
    assert response.status_code == 403
    assert MatchReview.objects.get().status == "open"


@pytest.fixture
def conflicts():
    perth = AccountFactory(legal_name="Banksia Dental Pty Ltd")
    sydney = AccountFactory(legal_name="Coral Bay Freight Pty Ltd")
    first = SubscriptionFactory(account=perth, annual_value=Decimal("12000.00"))
    second = SubscriptionFactory(account=sydney, annual_value=Decimal("8000.00"), renewal_date=dt.date(2027, 2, 1))
    return [
        ImportConflict.objects.create(
            account=perth,
            subscription=first,
            field="annual_value",
            kept_store="d4",
            kept_value="12000.00",
            other_store="d1",
            other_value="12500.00",
        ),
        ImportConflict.objects.create(
            account=sydney,
            subscription=second,
            field="annual_value",
            kept_store="d4",
            kept_value="8000.00",
            other_store="d1",
            other_value="8800.00",
        ),
        ImportConflict.objects.create(
            account=sydney,
            subscription=second,
            field="renewal_date",
            kept_store="d1",
            kept_value="2027-02-01",
            other_store="d7",
            other_value="2027-03-01",
        ),
    ]


def test_conflicts_show_human_labels_and_formatted_values(client_for, conflicts):
    html = client_for("data_steward").get(reverse("migration:importconflict_list")).content.decode()
    assert "annual_value" not in html.split("<tbody>")[1]
    assert "$12,500" in html
    assert "1 Mar 2027" in html


def test_conflicts_filter_by_customer_field_and_store(client_for, conflicts):
    client = client_for("data_steward")
    url = reverse("migration:importconflict_list")
    assert len(client.get(url, {"q": "Coral"}).context["page"].object_list) == 2
    assert len(client.get(url, {"field": "renewal_date"}).context["page"].object_list) == 1
    assert len(client.get(url, {"store": "d7"}).context["page"].object_list) == 1


def test_apply_all_settles_the_filtered_conflicts_with_one_reason_and_history(client_for, conflicts, personas):
    response = client_for("data_steward").post(
        reverse("migration:importconflict_bulk"),
        {"field": "annual_value", "q": "", "store": "", "action": "apply", "reason": "Signed contracts checked"},
    )
    assert response.status_code == 302
    statuses = [ImportConflict.objects.get(pk=c.pk).status for c in conflicts]
    assert statuses == ["applied", "applied", "open"]
    for conflict, value in zip(conflicts[:2], ("12500.00", "8800.00"), strict=True):
        subscription = conflict.subscription
        subscription.refresh_from_db()
        assert subscription.annual_value == Decimal(value)
        latest = subscription.history.latest()
        assert (latest.history_change_reason, latest.history_user) == (
            "Signed contracts checked",
            personas["data_steward"],
        )


def test_keep_all_needs_a_reason(client_for, conflicts):
    client_for("data_steward").post(reverse("migration:importconflict_bulk"), {"action": "keep", "reason": " "})
    assert ImportConflict.objects.filter(status="open").count() == 3


def test_settling_conflicts_in_bulk_is_for_stewards_only(client_for, conflicts):
    response = client_for("finance").post(
        reverse("migration:importconflict_bulk"), {"action": "keep", "reason": "Looks fine"}
    )
    assert response.status_code == 403
    assert ImportConflict.objects.filter(status="open").count() == 3
