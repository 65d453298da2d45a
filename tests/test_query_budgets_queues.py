"""The review queues and lists the other budget tests leave out, each at two sizes with
rows at both: what the import found for Customer Relations, Finance and stewards, Xero's
imports and contacts, renewal findings, the frozen months and the log-in audit. A page passes when it runs
the same number of queries with 2 and with 14 rows, within the budget."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from axes.models import AccessFailureLog, AccessLog
from django.urls import reverse

from billing_sync.choices import MatchStatus
from billing_sync.models import XeroContact, XeroImport, XeroImportFile
from migration.choices import ConflictKind, HeldKind
from migration.models import EvidencedSubscription, HeldValue, ImportConflict
from reports.services import freeze_month
from tests.factories import AccountFactory, SubscriptionFactory
from tests.test_query_budgets import BUDGET, count_queries

pytestmark = pytest.mark.django_db


def _fill(kind: str, start: int, n: int, personas) -> None:
    for i in range(start, start + n):
        if kind == "evidence":
            account = AccountFactory()
            subscription = SubscriptionFactory(account=account)
            EvidencedSubscription.objects.create(
                account=account, product=subscription.product, subscription=subscription, stores=["d4", "d7"]
            )
        elif kind == "held":
            HeldValue.objects.create(
                kind=[HeldKind.PRODUCT, HeldKind.STAFF, HeldKind.SURVEY, HeldKind.STAGE][i % 4],
                value=f"Value {i}",
                key=f"value {i}",
                rows=i + 1,
                where=[["file.xlsx", i + 2]],
            )
        elif kind == "drift":
            account = AccountFactory()
            subscription = SubscriptionFactory(account=account, annual_value=Decimal("12000.00"))
            ImportConflict.objects.create(
                account=account,
                subscription=subscription,
                field="annual_value",
                kind=ConflictKind.DRIFT,
                kept_store="d4",
                kept_value="13200.00",
                other_store="d1",
                other_value="12000.00",
                evidence={"invoices": [f"INV-{i}"], "cadence": "monthly"},
            )
        elif kind == "xero imports":
            run = XeroImport.objects.create(started_by=personas["finance"], status="succeeded", dry_run=False)
            XeroImportFile.objects.create(run=run, name=f"invoices-{i}.csv", kind="invoices", status="imported")
        elif kind == "xero contacts":
            XeroContact.objects.create(
                name=f"Contact {i} Pty Ltd",
                name_key=f"contact {i}",
                status=[MatchStatus.HELD, MatchStatus.UNMATCHED][i % 2],
                candidates=[{"code": "CC001", "name": "Someone", "score": 90}] if i % 2 == 0 else [],
            )
        elif kind == "findings":
            SubscriptionFactory(
                renewal_date=None, account=AccountFactory(relations_coordinator=personas["customer_relations"])
            )
        elif kind == "logins":
            AccessLog.objects.create(username=f"user{i}", ip_address="127.0.0.1", user_agent="test", path_info="/")
            AccessFailureLog.objects.create(
                username=f"user{i}", ip_address="127.0.0.2", user_agent="test", path_info="/", locked_out=False
            )
        elif kind == "snapshots":
            freeze_month(month=dt.date(2024, 1, 1) + dt.timedelta(days=31 * i), actor=personas["data_steward"])


QUEUES = {
    "subscriptions found by the import": ("customer_relations", "evidence", "migration:evidence_list"),
    "values to map": ("data_steward", "held", "migration:held_list"),
    "contract-value drifts": ("finance", "drift", "migration:drift_list"),
    "Xero imports": ("finance", "xero imports", "billing_sync:import_list"),
    "Xero contacts to map": ("finance", "xero contacts", "billing_sync:contact_list"),
    "renewal findings": ("customer_relations", "findings", "renewals:finding_list"),
    "frozen months": ("executive", "snapshots", "reports:snapshot_list"),
    "log-ins and lockouts": ("data_steward", "logins", "login_audit"),
}


@pytest.mark.parametrize("page", sorted(QUEUES))
def test_queues_run_the_same_queries_at_two_sizes(client_for, personas, page):
    role, kind, name = QUEUES[page]
    client = client_for(role)
    _fill(kind, 0, 2, personas)
    count_queries(client, reverse(name))  # the session and caches warm
    at_small = count_queries(client, reverse(name))
    _fill(kind, 2, 12, personas)
    at_big = count_queries(client, reverse(name))
    assert at_small == at_big, f"{page}: {at_small} queries with 2 rows, {at_big} with 14"
    assert at_big <= BUDGET


def test_the_queues_show_their_rows(client_for, personas):
    """The rows are really there, so equal counts are not two empty pages."""
    _fill("held", 0, 2, personas)
    _fill("evidence", 0, 2, personas)
    held = client_for("data_steward").get(reverse("migration:held_list")).content.decode()
    assert "“Value 0”" in held and "“Value 1”" in held
    evidence = client_for("customer_relations").get(reverse("migration:evidence_list"))
    assert len(evidence.context["page"].object_list) == 2
