"""The customer pages as each role uses them: read everything, edit what you own."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Account, Contact, Subscription
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    AliasFactory,
    ContactFactory,
    OpportunityFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cc009(personas):
    account = AccountFactory(
        number=9,
        code="CC009",
        legal_name="Meridian Health Partners Pty Ltd",
        owner=personas["sales_rep"],
        relations_coordinator=personas["customer_relations"],
    )
    SubscriptionFactory(account=account, annual_value=Decimal("48000.00"), renewal_date=dt.date(2027, 2, 1))
    ContactFactory(account=account, first_name="Priya", last_name="Shah", phone="08 9212 3456")
    OpportunityFactory(account=account, name="Analytics Pro upsell", owner=personas["sales_rep"])
    return account


def test_support_agent_sees_contract_values_renewals_and_opportunities_read_only(client_for, cc009):
    response = client_for("support_agent").get(reverse("customers:account_detail", args=["CC009"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "$48,000" in html
    assert "1 Feb 2027" in html
    assert "Analytics Pro upsell" in html
    assert "Priya Shah" in html
    assert "/edit/" not in html and "Add subscription" not in html


def test_customer_codes_are_case_insensitive_in_urls(client_for, cc009):
    assert client_for("executive").get("/customers/cc009/").status_code == 200


def test_customer_relations_changes_a_phone_and_history_shows_it(client_for, cc009, personas):
    contact = cc009.contacts.get()
    client = client_for("customer_relations")
    url = reverse("customers:contact_edit", args=[cc009.code, contact.pk])
    form = client.get(url)
    assert form.status_code == 200
    response = client.post(
        url,
        {
            "first_name": "Priya",
            "last_name": "Shah",
            "title": "",
            "email": contact.email,
            "phone": "0412 345 678",
            "version": contact.version,
            "reason": "Customer called with a new mobile",
        },
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.phone == "0412 345 678"
    history = client.get(reverse("customers:account_history", args=[cc009.code])).content.decode()
    assert "08 9212 3456" in history and "0412 345 678" in history
    assert "Customer called with a new mobile" in history
    assert personas["customer_relations"].get_full_name() in history


def test_support_agent_posting_a_contract_value_is_refused(client_for, cc009):
    subscription = cc009.subscriptions.get()
    url = reverse("customers:subscription_edit", args=[cc009.code, subscription.pk])
    response = client_for("support_agent").post(url, {"annual_value": "1.00", "version": 1, "reason": "x"})
    assert response.status_code == 403
    subscription.refresh_from_db()
    assert subscription.annual_value == Decimal("48000.00")


def test_finance_sees_only_the_contract_value_as_editable(client_for, cc009):
    subscription = cc009.subscriptions.get()
    html = (
        client_for("finance")
        .get(reverse("customers:subscription_edit", args=[cc009.code, subscription.pk]))
        .content.decode()
    )
    assert 'name="annual_value"' in html
    assert "Owned by Customer Relations" in html
    assert html.count("disabled") >= 6


def test_a_disabled_field_posted_anyway_is_ignored(client_for, cc009):
    """Finance may post a seats value the form shows read-only: it is not saved."""
    subscription = cc009.subscriptions.get()
    url = reverse("customers:subscription_edit", args=[cc009.code, subscription.pk])
    response = client_for("finance").post(
        url, {"annual_value": "50000.00", "seats": "999", "version": 1, "reason": "Matches Xero INV-1001"}
    )
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.annual_value, subscription.seats) == (Decimal("50000.00"), 10)


def test_a_stale_form_shows_who_changed_what_and_keeps_what_the_user_typed(client_for, cc009, personas):
    contact = cc009.contacts.get()
    from customers import services

    services.update_contact(
        contact=contact,
        changes={"phone": "08 6000 0000"},
        expected_version=1,
        actor=personas["data_steward"],
        reason="From the signed order form",
    )
    url = reverse("customers:contact_edit", args=[cc009.code, contact.pk])
    response = client_for("customer_relations").post(
        url,
        {
            "first_name": "Priya",
            "last_name": "Shah",
            "title": "Head of IT",
            "email": contact.email,
            "phone": "08 9212 3456",
            "version": 1,
            "reason": "Updated title",
        },
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else changed this record" in html
    assert "From the signed order form" in html
    assert 'value="Head of IT"' in html  # what the user typed survives
    contact.refresh_from_db()
    assert (contact.phone, contact.title) == ("08 6000 0000", "")


def test_a_conflicting_form_comes_back_ready_to_save_with_both_changes(client_for, cc009, personas):
    from customers import services

    contact = cc009.contacts.get()
    services.update_contact(
        contact=contact,
        changes={"phone": "08 6000 0000", "email": "priya@meridian.example"},
        expected_version=1,
        actor=personas["data_steward"],
        reason="From the signed order form",
    )
    url = reverse("customers:contact_edit", args=[cc009.code, contact.pk])
    client = client_for("customer_relations")
    typed = {
        "first_name": "Priya",
        "last_name": "Shah",
        "title": "Head of IT",  # this person's change
        "email": "p.shah@meridian.example",  # both changed it: what this person typed wins
        "phone": "08 9212 3456",  # as this person found it: the other person's value is carried
        "version": 1,
        "reason": "Updated title",
    }
    response = client.post(url, typed)
    assert response.status_code == 409
    form = response.context["form"]
    assert form["version"].value() == "2"
    assert form["phone"].value() == "08 6000 0000"
    assert form["email"].value() == "p.shah@meridian.example"
    assert form["title"].value() == "Head of IT"
    html = response.content.decode()
    assert "set this to “08 6000 0000”; you had not changed it" in html
    assert "set this to “priya@meridian.example”; saving keeps your value" in html

    again = client.post(url, {name: form[name].value() for name in typed})

    assert again.status_code == 302
    contact.refresh_from_db()
    assert (contact.phone, contact.title, contact.email) == ("08 6000 0000", "Head of IT", "p.shah@meridian.example")
    reasons = list(contact.history.order_by("history_date").values_list("history_change_reason", flat=True))
    assert reasons[-2:] == ["From the signed order form", "Updated title"]


def test_fields_this_person_may_write_do_not_repeat_who_owns_them(client_for, cc009):
    contact = cc009.contacts.get()
    html = (
        client_for("customer_relations")
        .get(reverse("customers:contact_edit", args=[cc009.code, contact.pk]))
        .content.decode()
    )
    assert "Owned by" not in html
    subscription = cc009.subscriptions.get()
    html = (
        client_for("customer_relations")
        .get(reverse("customers:subscription_edit", args=[cc009.code, subscription.pk]))
        .content.decode()
    )
    assert "Owned by Finance" in html  # the contract value is read-only for Customer Relations


def test_the_activity_form_says_anyone_may_add_and_takes_when_it_happened(client_for, cc009):
    html = client_for("support_agent").get(reverse("customers:activity_add", args=[cc009.code])).content.decode()
    assert "Owned by" not in html
    assert "Anyone may add to the timeline." in html
    assert 'type="datetime-local"' in html


def test_an_activity_logged_after_the_fact_keeps_when_it_happened(client_for, cc009):
    response = client_for("support_agent").post(
        reverse("customers:activity_add", args=[cc009.code]),
        {"kind": "call", "summary": "Called about the renewal", "occurred_at": "2026-11-30T14:30"},
    )
    assert response.status_code == 302
    activity = cc009.activities.get()
    local = timezone.localtime(activity.occurred_at)
    assert (local.date(), local.hour, local.minute) == (dt.date(2026, 11, 30), 14, 30)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("abn", "51 824 753 557", "checksum"),
        ("abn", "12345", "11 digits"),
        ("legal_name", "", "required"),
        ("owner", "999999", "valid choice"),
        ("website", "not a url", "valid URL"),
    ],
)
def test_bad_account_input_gets_a_message_by_the_field_and_keeps_the_input(client_for, personas, field, value, message):
    client = client_for("data_steward")
    data = {
        "legal_name": "Harbour Freight Pty Ltd",
        "industry": "logistics",
        "segment": "small",
        "office": "perth",
        "lifecycle_status": "active",
        "reason": "New client from expo",
        field: value,
    }
    response = client.post(reverse("customers:account_add"), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert Account.objects.count() == 0
    if field != "owner" and value:
        assert f'value="{value}"' in html


def test_a_renewal_before_start_is_shown_on_the_form(client_for, cc009):
    url = reverse("customers:subscription_add", args=[cc009.code])
    response = client_for("customer_relations").post(
        url,
        {
            "product": cc009.subscriptions.get().product_id,
            "seats": "5",
            "start_date": "2026-07-01",
            "term_months": "12",
            "renewal_date": "2026-01-01",
            "status": "active",
            "reason": "",
        },
    )
    assert response.status_code == 400
    assert "cannot be before the start date" in response.content.decode()
    assert Subscription.objects.count() == 1


def test_customer_relations_adds_a_customer(client_for, personas):
    response = client_for("customer_relations").post(
        reverse("customers:account_add"),
        {
            "legal_name": "Harbour Freight Pty Ltd",
            "abn": "51 824 753 556",
            "industry": "logistics",
            "segment": "small",
            "office": "perth",
            "lifecycle_status": "onboarding",
            "reason": "",
        },
    )
    account = Account.objects.get()
    assert response.status_code == 302 and response["Location"] == account.get_absolute_url()
    assert account.abn == "51824753556"
    assert account.history.get().history_user == personas["customer_relations"]


def test_anyone_logs_a_call_on_the_timeline(client_for, cc009, personas):
    response = client_for("support_agent").post(
        reverse("customers:activity_add", args=[cc009.code]),
        {"kind": "call", "summary": "Called about slow backups", "detail": "", "contact": "", "reason": ""},
    )
    assert response.status_code == 302
    activity = cc009.activities.get()
    assert activity.actor == personas["support_agent"]
    page = client_for("support_agent").get(cc009.get_absolute_url()).content.decode()
    assert "Called about slow backups" in page


def test_customer_list_filters_and_search(client_for, personas):
    perth = AccountFactory(legal_name="Swan Dental Pty Ltd", office="perth", owner=personas["sales_rep"])
    sydney = AccountFactory(legal_name="Harbour Legal Pty Ltd", office="sydney")
    SubscriptionFactory(account=perth, renewal_date=dt.date.today() + dt.timedelta(days=30))
    SubscriptionFactory(account=sydney, renewal_date=dt.date.today() + dt.timedelta(days=200))
    AliasFactory(account=sydney, value="HLG")
    client = client_for("executive")

    def codes(query):
        response = client.get("/customers/", query)
        assert response.status_code == 200
        return {a.code for a in response.context["page"].object_list}

    assert codes({}) == {perth.code, sydney.code}
    assert codes({"office": "sydney"}) == {sydney.code}
    assert codes({"renewal_within": "90"}) == {perth.code}
    assert codes({"owner": personas["sales_rep"].pk}) == {perth.code}
    assert codes({"q": "swan dental pty. limited"}) == {perth.code}
    assert codes({"q": "hlg"}) == {sydney.code}
    assert codes({"q": sydney.code.lower()}) == {sydney.code}
    assert codes({"renewal_within": "lots"}) == {perth.code, sydney.code}  # a bad filter is ignored, not a 500


def test_customer_list_answers_htmx_with_just_the_table(client_for):
    AccountFactory()
    response = client_for("executive").get("/customers/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<table" in html and "<html" not in html


def test_global_search_finds_accounts_and_contacts(client_for):
    account = AccountFactory(legal_name="Acme Pty Ltd", abn="51824753556")
    ContactFactory(
        account=account, first_name="Wile", last_name="Coyote", email="wile@acme.example", phone="+61 8 9212 3456"
    )
    client = client_for("support_agent")

    def found(q):
        context = client.get("/search/", {"q": q}).context
        return [a.code for a in context["accounts"]], [c.full_name for c in context["contacts"]]

    assert found("ACME")[0] == [account.code]
    assert found("51 824 753 556")[0] == [account.code]
    assert found("wile@acme")[1] == ["Wile Coyote"]
    assert found("(08) 9212 3456")[1] == ["Wile Coyote"]
    assert found("Wile Coyote")[1] == ["Wile Coyote"]
    response = client.get("/search/", {"q": account.code})
    assert response.status_code == 302 and response["Location"] == account.get_absolute_url()


def test_global_search_lists_the_first_contacts_in_order_and_none_on_merged_accounts(client_for):
    survivor = AccountFactory(legal_name="Acme Pty Ltd")
    merged = AccountFactory(legal_name="ACME", merged_into=survivor)
    ContactFactory(account=merged, first_name="Stale", last_name="Acmeson", email="stale@acme.example", is_primary=True)
    for n in range(25):
        ContactFactory(account=survivor, first_name=f"Person{n:02d}", last_name="Acmeson", is_primary=n == 24)
    contacts = client_for("support_agent").get("/search/", {"q": "acmeson"}).context["contacts"]
    assert [c.first_name for c in contacts] == ["Person24"] + [f"Person{n:02d}" for n in range(19)]
    assert all(c.account == survivor for c in contacts)


# --- Query budgets at two data sizes ---------------------------------------------------


def _populate(n: int, personas) -> Account:
    accounts = [
        AccountFactory(owner=personas["sales_rep"], relations_coordinator=personas["customer_relations"])
        for _ in range(n)
    ]
    for account in accounts:
        SubscriptionFactory(account=account)
        SubscriptionFactory(account=account, renewal_date=None)
        ContactFactory(account=account)
        ContactFactory(account=account, first_name="Sam")
        OpportunityFactory(account=account, owner=personas["sales_rep"])
        ActivityFactory(account=account, actor=personas["support_agent"])
        AliasFactory(account=account)
    return accounts[-1]


def _queries_for(client, django_assert_max_num_queries, url, budget=19):
    # 15 for the page itself, plus one fixed query for each box other apps add to the
    # customer 360 (billing discrepancies, onboarding orders and won deals, renewal cases).
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with django_assert_max_num_queries(budget), CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "url_for",
    [
        lambda a: "/customers/",
        lambda a: "/customers/?office=perth&renewal_within=400&q=test",
        lambda a: a.get_absolute_url(),
        lambda a: reverse("customers:account_history", args=[a.code]),
        lambda a: "/search/?q=Sam",
        lambda a: reverse("customers:subscription_edit", args=[a.code, a.subscriptions.first().pk]),
    ],
)
def test_page_query_count_does_not_grow_with_data(client_for, personas, django_assert_max_num_queries, url_for):
    client = client_for("data_steward")
    small = _populate(2, personas)
    counts_small = _queries_for(client, django_assert_max_num_queries, url_for(small))
    big = _populate(12, personas)
    for account in (big,):
        from customers import services

        contact = account.contacts.first()
        for i in range(5):
            contact = services.update_contact(
                contact=contact,
                changes={"title": f"Title {i}"},
                expected_version=contact.version,
                actor=personas["data_steward"],
                reason="churn history",
            )
    counts_big = _queries_for(client, django_assert_max_num_queries, url_for(big))
    assert counts_small == counts_big
    assert Contact.objects.count() == 28


def test_dates_are_rendered_so_a_date_input_shows_them(client_for, cc009):
    subscription = cc009.subscriptions.get()
    html = (
        client_for("customer_relations")
        .get(reverse("customers:subscription_edit", args=[cc009.code, subscription.pk]))
        .content.decode()
    )
    assert 'value="2027-02-01"' in html


def test_a_negative_contract_value_is_shown_by_the_field(client_for, cc009):
    subscription = cc009.subscriptions.get()
    url = reverse("customers:subscription_edit", args=[cc009.code, subscription.pk])
    response = client_for("finance").post(url, {"annual_value": "-5", "version": 1, "reason": "typo"})
    assert response.status_code == 400
    assert "cannot be negative" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.annual_value == Decimal("48000.00")


def test_home_shows_my_renewals_and_open_deals(client_for, cc009, personas):
    html = client_for("sales_rep").get(reverse("home")).content.decode()
    assert "Meridian Health Partners" in html
    assert "Analytics Pro upsell" in html
    assert "1 Feb 2027" in html


def test_home_query_count_does_not_grow_with_data(client_for, personas, django_assert_max_num_queries):
    client = client_for("sales_rep")
    _populate(2, personas)
    small = _queries_for(client, django_assert_max_num_queries, reverse("home"))
    _populate(12, personas)
    assert _queries_for(client, django_assert_max_num_queries, reverse("home")) == small


def test_the_refusal_page_links_back_to_the_record(client_for, cc009):
    contact = cc009.contacts.get()
    response = client_for("support_agent").get(reverse("customers:contact_edit", args=[cc009.code, contact.pk]))
    assert response.status_code == 403
    assert f'href="{cc009.get_absolute_url()}"' in response.content.decode()
