"""Query budgets that see N+1: every detail page with a record that grows from 1 to 25
related rows of each kind, every list page and queue at two sizes with rows at both.

A page passes when it runs the same number of queries at both sizes, and no more than
the budget (DESIGN.md: every page's query count independent of data size).
"""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers import services
from customers.models import Product
from migration.models import ImportConflict, ImportFile, ImportRun, MatchReview
from support_bridge.choices import EventStatus
from support_bridge.models import WebhookEvent
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    AliasFactory,
    ContactDuplicateCandidateFactory,
    ContactFactory,
    DuplicateCandidateFactory,
    OpportunityFactory,
    SubscriptionFactory,
)
from tests.factories_support import ChurnAlertFactory, TicketFactory

pytestmark = pytest.mark.django_db

BUDGET = 15
# The customer 360 also carries the boxes of billing (discrepancies), onboarding (orders,
# won deals to start) and renewals (cases): one fixed query each on top of the page's own.
PAGE_BUDGETS = {"customer 360": 19}
SMALL, BIG = 1, 25


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def _grow(account, kind: str, n: int, personas) -> None:
    # One product throughout: the History tab looks up the names of the products a page
    # of changes mentions in one query per kind, so a mix of products would change the
    # count by a cached name or two, not by the number of rows.
    product = Product.objects.get(code="datavault")
    for i in range(n):
        if kind == "subscriptions":
            SubscriptionFactory(account=account, product=product, tenancy_ref=f"tn-{i}")
        elif kind == "contacts":
            ContactFactory(account=account, first_name=f"Sam{i}")
        elif kind == "opportunities":
            OpportunityFactory(account=account, owner=personas["sales_rep"], product=product)
        elif kind == "tickets":
            TicketFactory(account=account, status="open", priority="high")
        elif kind == "activities":
            ActivityFactory(account=account, actor=personas["support_agent"])
        elif kind == "aliases":
            AliasFactory(account=account)
        elif kind == "history rows":
            account.refresh_from_db()
            services.update_account(
                account=account,
                changes={"phone": f"08 9000 {i:04d}", "trading_name": f"Trading {i}"},
                expected_version=account.version,
                actor=personas["customer_relations"],
                reason=f"budget change {i}",
            )
            contact = account.contacts.first()
            services.update_contact(
                contact=contact,
                changes={"title": f"Title {i}"},
                expected_version=contact.version,
                actor=personas["customer_relations"],
                reason=f"budget contact change {i}",
            )


def _account(personas, kind: str, n: int):
    account = AccountFactory(owner=personas["sales_rep"], relations_coordinator=personas["customer_relations"])
    # Every account has one of each kind, so the page shows each section at both sizes.
    SubscriptionFactory(account=account)
    ContactFactory(account=account, first_name="Base")
    # With a product, as the grown ones have: the History tab names each related model
    # once (one query per kind of foreign key shown, not per row).
    OpportunityFactory(account=account, owner=personas["sales_rep"], product=Product.objects.get(code="datavault"))
    TicketFactory(account=account)
    ActivityFactory(account=account)
    ChurnAlertFactory(account=account, owner=personas["sales_rep"])
    _grow(account, kind, n - 1, personas)
    return account


DETAIL_PAGES = {
    "customer 360": lambda a: a.get_absolute_url(),
    "history tab": lambda a: reverse("customers:account_history", args=[a.code]),
    "agent lookup": lambda a: reverse("support:lookup") + f"?q={a.code}",
    "account edit": lambda a: reverse("customers:account_edit", args=[a.code]),
    "subscription edit": lambda a: reverse("customers:subscription_edit", args=[a.code, a.subscriptions.first().pk]),
    "contact edit": lambda a: reverse("customers:contact_edit", args=[a.code, a.contacts.first().pk]),
}
KINDS = ["subscriptions", "contacts", "opportunities", "tickets", "activities", "aliases", "history rows"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("page", sorted(DETAIL_PAGES))
def test_detail_pages_run_the_same_queries_for_1_and_25_related_rows(client_for, personas, page, kind):
    client = client_for("data_steward")
    small = _account(personas, kind, SMALL)
    big = _account(personas, kind, BIG)
    url_for = DETAIL_PAGES[page]
    count_queries(client, url_for(small))  # warm: the session, content types
    at_small = count_queries(client, url_for(small))
    at_big = count_queries(client, url_for(big))
    assert at_small == at_big, f"{page}: {at_small} queries with 1 {kind}, {at_big} with 25"
    assert at_big <= PAGE_BUDGETS.get(page, BUDGET)


def test_the_growing_record_really_grows(personas):
    big = _account(personas, "subscriptions", BIG)
    assert big.subscriptions.count() == BIG
    big = _account(personas, "history rows", BIG)
    assert big.history.count() >= BIG


# --- Lists and queues at two sizes ------------------------------------------------------


def _fill(kind: str, n: int, personas) -> None:
    steward = personas["data_steward"]
    for i in range(n):
        if kind == "customers":
            account = AccountFactory(owner=personas["sales_rep"], legal_name=f"Sam Budget {i} Pty Ltd")
            SubscriptionFactory(account=account)
            ContactFactory(account=account, first_name="Sam")
            OpportunityFactory(account=account, owner=personas["sales_rep"])
        elif kind == "duplicates":
            DuplicateCandidateFactory()
            ContactDuplicateCandidateFactory()
        elif kind == "runs":
            run = ImportRun.objects.create(started_by=steward, status="succeeded")
            ImportFile.objects.create(run=run, name=f"d{i}.xlsx", status="imported")
        elif kind == "conflicts":
            account = AccountFactory()
            subscription = SubscriptionFactory(account=account)
            ImportConflict.objects.create(
                account=account,
                subscription=subscription,
                field="annual_value",
                kept_store="d4",
                other_store="d1",
                other_value="100.00",
            )
        elif kind == "reviews":
            MatchReview.objects.create(store="d4", file="x.csv", row=n * 100 + i, incoming_name=f"Acme {i}")
        elif kind == "unmapped":
            WebhookEvent.objects.create(event_id=f"budget-{n}-{i}", body="{}", status=EventStatus.UNMAPPED)


LIST_PAGES = {
    "home": ("sales_rep", "customers", lambda: reverse("home")),
    "customer list": ("executive", "customers", lambda: reverse("customers:account_list")),
    "customer list, filtered": (
        "executive",
        "customers",
        lambda: reverse("customers:account_list") + "?office=perth&renewal_within=400&q=Sam",
    ),
    "global search": ("executive", "customers", lambda: reverse("search") + "?q=Sam"),
    "duplicate queue": ("data_steward", "duplicates", lambda: reverse("customers:duplicate_list")),
    "contact duplicate queue": (
        "data_steward",
        "duplicates",
        lambda: reverse("customers:duplicate_list") + "?kind=contacts",
    ),
    "import runs": ("data_steward", "runs", lambda: reverse("migration:importrun_list")),
    "import conflicts": ("data_steward", "conflicts", lambda: reverse("migration:importconflict_list")),
    "match reviews": ("data_steward", "reviews", lambda: reverse("migration:matchreview_list")),
    "unmapped helpdesk events": ("data_steward", "unmapped", lambda: reverse("support:unmapped_list")),
}


@pytest.mark.parametrize("page", sorted(LIST_PAGES))
def test_list_pages_and_queues_run_the_same_queries_at_two_sizes(client_for, personas, page):
    role, kind, url = LIST_PAGES[page]
    client = client_for(role)
    _fill(kind, 2, personas)
    count_queries(client, url())
    at_small = count_queries(client, url())
    _fill(kind, 12, personas)
    at_big = count_queries(client, url())
    assert at_small == at_big, f"{page}: {at_small} queries with 2 rows, {at_big} with 14"
    assert at_big <= BUDGET
    assert ContentType.objects.exists()
