"""Lists people can work with: "mine" for every role, invalid filters dropped with a note,
sortable columns, page sizes, exports of exactly what is filtered, and the sales manager's
bulk owner reassignment."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from customers.exports import safe_cell
from customers.models import Account
from tests.factories import AccountFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db
LIST = reverse("customers:account_list")


def _codes(response) -> list[str]:
    return [row.code for row in response.context["page"].object_list]


@pytest.fixture
def three(personas):
    rep, relations = personas["sales_rep"], personas["customer_relations"]
    a = AccountFactory(legal_name="Banksia Dental Pty Ltd", owner=rep)
    b = AccountFactory(legal_name='=HYPERLINK("http://evil.example")', relations_coordinator=relations)
    c = AccountFactory(legal_name="Coral Bay Freight Pty Ltd")
    SubscriptionFactory(account=a, annual_value=Decimal("1000.00"), renewal_date=dt.date(2027, 3, 1))
    SubscriptionFactory(account=b, annual_value=Decimal("9000.00"), renewal_date=dt.date(2027, 1, 1))
    SubscriptionFactory(account=c, annual_value=Decimal("5000.00"), renewal_date=dt.date(2027, 2, 1))
    return a, b, c


def test_mine_shows_a_coordinator_the_accounts_they_coordinate(client_for, three):
    _a, b, _c = three
    response = client_for("customer_relations").get(LIST, {"mine": "on"})
    assert _codes(response) == [b.code]


def test_mine_shows_a_sales_rep_the_accounts_they_own(client_for, three):
    a, _b, _c = three
    assert _codes(client_for("sales_rep").get(LIST, {"mine": "on"})) == [a.code]


def test_the_home_page_links_all_your_accounts_to_mine(client_for, three):
    html = client_for("customer_relations").get(reverse("home")).content.decode()
    assert f'href="{LIST}?mine=on"' in html


def test_an_invalid_filter_is_dropped_with_a_note_and_the_valid_ones_kept(client_for, three, personas):
    a, _b, _c = three
    response = client_for("sales_manager").get(LIST, {"owner": "999999", "q": "Banksia"})
    assert _codes(response) == [a.code]  # the search still narrows
    html = response.content.decode()
    assert "Ignored the owner filter “999999”" in html


def test_a_coordinator_filter_narrows_to_their_accounts(client_for, three, personas):
    _a, b, _c = three
    response = client_for("sales_manager").get(LIST, {"coordinator": personas["customer_relations"].pk})
    assert _codes(response) == [b.code]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [("value", [0, 2, 1]), ("-value", [1, 2, 0]), ("renewal", [1, 2, 0]), ("-name", [2, 0, 1])],
)
def test_the_list_sorts_by_a_column(client_for, three, sort, expected):
    response = client_for("sales_manager").get(LIST, {"sort": sort})
    assert _codes(response) == [three[i].code for i in expected]


def test_the_page_size_can_be_chosen(client_for, three):
    assert len(_codes(client_for("sales_manager").get(LIST, {"per_page": "25"}))) == 3
    assert client_for("sales_manager").get(LIST, {"per_page": "25"}).context["page_size"] == 25
    assert client_for("sales_manager").get(LIST, {"per_page": "7"}).context["page_size"] == 50


def test_the_csv_export_holds_exactly_the_filtered_rows_with_formulas_as_text(client_for, three):
    _a, b, _c = three
    response = client_for("executive").get(LIST, {"q": "HYPERLINK", "export": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "Code"
    assert [r[0] for r in rows[1:]] == [b.code]
    assert rows[1][1] == '\'=HYPERLINK("http://evil.example")'


def test_the_xlsx_export_is_sorted_as_the_list_and_formula_cells_are_text(client_for, three):
    response = client_for("executive").get(LIST, {"sort": "-value", "export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [three[1].code, three[2].code, three[0].code]
    formula_cell = sheet.cell(row=2, column=2)
    assert formula_cell.data_type == "s"
    assert formula_cell.value.startswith("'=")
    assert rows[1][8] == 9000.0


@pytest.mark.parametrize("text", ["=1+1", "+61 8 9212 3456", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_safe_cell_writes_formula_like_text_as_text(text):
    assert safe_cell(text) == "'" + text


def test_safe_cell_leaves_numbers_and_plain_text_alone():
    assert safe_cell(Decimal("-5.00")) == Decimal("-5.00")
    assert safe_cell("Banksia Dental") == "Banksia Dental"


def test_a_sales_manager_reassigns_the_selected_accounts_with_one_reason(client_for, three, personas):
    a, b, c = three
    new_rep = UserFactory(first_name="Nina", last_name="Ng", roles=["sales_rep"])
    response = client_for("sales_manager").post(
        reverse("customers:account_bulk_owner"),
        {"codes": [a.code, c.code], "owner": new_rep.pk, "reason": "Territory change", "next": f"{LIST}?q=x"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?q=x"
    for account in (a, c):
        account.refresh_from_db()
        assert account.owner == new_rep
        latest = account.history.latest()
        assert (latest.owner_id, latest.history_change_reason, latest.history_user) == (
            new_rep.pk,
            "Territory change",
            personas["sales_manager"],
        )
    b.refresh_from_db()
    assert b.owner is None


@pytest.mark.parametrize("role", ["sales_rep", "customer_relations", "finance", "executive", "support_agent"])
def test_only_a_sales_manager_may_reassign_in_bulk(client_for, three, role):
    a, _b, _c = three
    new_rep = UserFactory(roles=["sales_rep"])
    response = client_for(role).post(
        reverse("customers:account_bulk_owner"), {"codes": [a.code], "owner": new_rep.pk, "reason": "x"}
    )
    assert response.status_code == 403
    a.refresh_from_db()
    assert a.owner.username == "sales_rep"
    assert Account.history.filter(id=a.pk).count() == 1


def test_a_bulk_reassignment_without_a_reason_changes_nothing(client_for, three):
    a, _b, _c = three
    new_rep = UserFactory(roles=["sales_rep"])
    client_for("sales_manager").post(reverse("customers:account_bulk_owner"), {"codes": [a.code], "owner": new_rep.pk})
    a.refresh_from_db()
    assert a.owner.username == "sales_rep"


def test_the_bulk_bar_is_offered_to_a_sales_manager_only(client_for, three):
    assert 'id="bulk-owner"' in client_for("sales_manager").get(LIST).content.decode()
    assert 'id="bulk-owner"' not in client_for("sales_rep").get(LIST).content.decode()


def test_history_names_a_subscription_by_its_product_and_filters_by_field_person_and_date(client_for, personas):
    from customers import services

    account = AccountFactory(legal_name="Banksia Dental Pty Ltd")
    subscription = SubscriptionFactory(account=account, seats=10)
    services.update_subscription(
        subscription=subscription,
        changes={"seats": 12},
        expected_version=subscription.version,
        actor=personas["customer_relations"],
        reason="Two more seats",
    )
    services.update_account(
        account=account,
        changes={"phone": "08 9000 0000"},
        expected_version=account.version,
        actor=personas["data_steward"],
        reason="New switchboard",
    )
    url = reverse("customers:account_history", args=[account.code])
    client = client_for("executive")

    changes = client.get(url, {"field": "Seats or quantity"}).context["changes"]
    assert [(c.record, c.old, c.new) for c in changes] == [(f"Subscription {subscription.product}", "10", "12")]
    changes = client.get(url, {"who": "Data Steward Demo"}).context["changes"]
    assert [c.why for c in changes] == ["New switchboard"]
    assert client.get(url, {"until": "2000-01-01"}).context["changes"] == []
    response = client.get(url, {"field": "Seats or quantity", "until": "not a date"})
    assert len(response.context["changes"]) == 1
    assert "Ignored the to filter" in response.content.decode()


def test_history_exports_what_is_filtered(client_for, personas):
    account = AccountFactory(legal_name="Banksia Dental Pty Ltd")
    url = reverse("customers:account_history", args=[account.code])
    response = client_for("executive").get(url, {"export": "xlsx"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("When", "Who", "Record")
    assert len(rows) == 2  # the account's creation


@pytest.mark.parametrize(
    ("value", "shown"),
    [(Decimal("48000.00"), "$48,000"), (Decimal("1234.50"), "$1,234.50"), ("12500.00", "$12,500"), (None, "—")],
)
def test_money_reads_the_same_everywhere(value, shown):
    from cloudcore_crm.lib.formats import money

    assert money(value) == shown


def test_dates_and_abns_read_the_same_everywhere():
    from cloudcore_crm.lib.formats import abn, day

    assert day(dt.date(2027, 2, 1)) == "1 Feb 2027"
    assert day("2027-03-01") == "1 Mar 2027"
    assert abn("51824753556") == "51 824 753 556"
