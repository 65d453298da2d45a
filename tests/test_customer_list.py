"""The customer list's table: cells formatted once per row print what the per-cell template
filters printed, in any language."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.template import engines
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from customers.models import Account, Product
from customers.templatetags.customer_list import customer_rows
from tests.factories import AccountFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db

# The table's cells as the template wrote them before they were formatted in Python.
PER_CELL_FILTERS = engines["django"].from_string(
    "{% load formats %}{% for account in accounts %}"
    "{{ account.get_absolute_url }}|{{ account.code }}|{{ account.display_name }}|"
    "{% if account.trading_name %}{{ account.legal_name }}{% endif %}|"
    "{{ account.get_office_display }}|{{ account.lifecycle_status }}|{{ account.get_lifecycle_status_display }}|"
    '{{ account.owner.get_full_name|default:"—" }}|{{ account.relations_coordinator.get_full_name|default:"—" }}|'
    '{{ account.contract_value|money }}|{{ account.next_renewal|date:"j M Y"|default:"—" }}\n'
    "{% endfor %}"
)
ROWS = engines["django"].from_string(
    "{% load customer_list %}{% for row in accounts|customer_rows %}"
    "{{ row.url }}|{{ row.code }}|{{ row.name }}|{{ row.legal_name }}|{{ row.office }}|{{ row.status }}|"
    "{{ row.status_label }}|{{ row.owner }}|{{ row.coordinator }}|{{ row.contract_value }}|{{ row.next_renewal }}\n"
    "{% endfor %}"
)


@pytest.fixture
def varied_accounts():
    """Accounts covering every branch of the table: trading names, missing or nameless
    people, values with cents to round, several and no live subscriptions, each month."""
    owner = UserFactory(first_name="Jo", last_name="O'Brien & Sons")
    nameless = UserFactory(first_name="", last_name="")
    values = [Decimal("0.00"), Decimal("0.50"), Decimal("1234.49"), Decimal("1234.50"), Decimal("9999999.99")]
    for month in range(1, 13):
        account = AccountFactory(
            trading_name="Swan <Dental>" if month % 2 else "",
            office="sydney" if month % 3 else "perth",
            lifecycle_status=["prospect", "onboarding", "active", "churned"][month % 4],
            owner=owner if month % 2 else None,
            relations_coordinator=nameless if month % 3 == 0 else None,
        )
        SubscriptionFactory(
            account=account,
            annual_value=values[month % len(values)],
            start_date=dt.date(2026, 1, 1),
            renewal_date=dt.date(2026 + month % 2, month, month + 15),
        )
        if month % 4 == 0:
            SubscriptionFactory(account=account, annual_value=Decimal("1000.25"), renewal_date=None)
    AccountFactory()  # no subscriptions: $0 and no renewal
    SubscriptionFactory(account=AccountFactory(), status="cancelled")  # nothing live


@pytest.mark.parametrize("language", ["en-au", "de", "fr"])
def test_customer_rows_print_what_the_per_cell_filters_printed(varied_accounts, language):
    with translation.override(language):
        before = PER_CELL_FILTERS.render({"accounts": list(Account.objects.for_list())})
        after = ROWS.render({"accounts": list(Account.objects.for_list_table(Account.objects.all()))})
    assert after == before
    assert after.count("\n") == Account.objects.count()


def test_customer_rows_link_each_code_to_its_customer_360(varied_accounts):
    accounts = list(Account.objects.for_list_table(Account.objects.all()))
    assert [row["url"] for row in customer_rows(accounts)] == [a.get_absolute_url() for a in accounts]


def test_customer_list_shows_contract_value_and_next_renewal(client_for, personas):
    account = AccountFactory(legal_name="Meridian Health Partners Pty Ltd", owner=personas["sales_rep"])
    SubscriptionFactory(account=account, annual_value=Decimal("48000.40"), renewal_date=dt.date(2027, 2, 1))
    SubscriptionFactory(account=account, annual_value=Decimal("1000.00"), renewal_date=dt.date(2027, 3, 1))
    html = client_for("support_agent").get("/customers/").content.decode()
    assert f'<a href="/customers/{account.code}/">{account.code}</a>' in html
    assert "$49,000" in html and "1 Feb 2027" in html and "Sales Rep Demo" in html


def test_customer_list_pages_through_the_filtered_accounts_in_code_order(client_for, settings):
    settings.CUSTOMER_LIST_PAGE_SIZE = 2
    perth = [AccountFactory(office="perth") for _ in range(5)]
    AccountFactory(office="sydney")
    client = client_for("executive")

    def page(number):
        response = client.get("/customers/", {"office": "perth", "page": number})
        return [a.code for a in response.context["page"].object_list], response.content.decode()

    codes, html = page(2)
    assert codes == [perth[2].code, perth[3].code]
    assert "5 customers" in html and "Page 2 of 3" in html
    assert page(3)[0] == [perth[4].code]
    assert page(99)[0] == [perth[4].code]  # past the end: the last page, as before


def test_customer_list_table_rows_keep_the_order_of_the_page_they_read(varied_accounts):
    newest_first = Account.objects.active_records().order_by("-number")[:3]
    rows = Account.objects.for_list_table(newest_first)
    assert [a.code for a in rows] == [a.code for a in newest_first]


def test_customer_list_filter_selects_offer_sales_reps_and_active_products_in_plain_queries(client_for, personas):
    chosen = Product.objects.filter(is_active=True).first()
    retired = Product.objects.create(code="retired", name="Retired Product", kind="product", is_active=False)
    with CaptureQueriesContext(connection) as queries:
        html = client_for("executive").get("/customers/", {"product": chosen.pk}).content.decode()
    assert f'<option value="{personas["sales_rep"].pk}">Sales Rep Demo</option>' in html
    assert f'<option value="{chosen.pk}" selected>{chosen.name}</option>' in html
    assert retired.name not in html
    # Not through server-side cursors (PostgreSQL): three round trips each for a dozen rows.
    assert not [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DECLARE")]
