"""The steward-only services refuse every other role by themselves, whatever the page in
front of them does: nothing is written, and a steward's call does what it says."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from customers import services as customer_services
from customers.errors import DomainError
from migration import services as migration_services
from migration.choices import ConflictStatus, ReviewStatus
from migration.models import ImportConflict, MatchReview
from support_bridge import services as support_services
from support_bridge.choices import EventStatus
from support_bridge.models import WebhookEvent
from tests.factories import AccountFactory, DuplicateCandidateFactory
from tests.factories_support import event_body
from tests.test_post_matrix import changed_tables, snapshot

pytestmark = pytest.mark.django_db

OTHERS = ["sales_rep", "sales_manager", "support_agent", "customer_relations", "finance", "provisioning", "executive"]


@pytest.fixture
def things(personas):
    account = AccountFactory(abn="")
    held = event_body(event_id="held-1", ticket_id="88001", organization_id="424242", updated=timezone.now())
    return {
        "account": account,
        "conflict": ImportConflict.objects.create(
            account=account, field="abn", kept_store="d1", other_store="d4", other_value="51824753556"
        ),
        "review": MatchReview.objects.create(store="d4", file="x.csv", row=2, incoming_name="Acme"),
        "candidate": DuplicateCandidateFactory(),
        "event": WebhookEvent.objects.create(event_id="held-1", body=held.decode(), status=EventStatus.UNMAPPED),
    }


CALLS = {
    "resolve a conflict": lambda t, actor: migration_services.resolve_conflict(
        conflict=t["conflict"], apply_other=True, actor=actor, reason="by role"
    ),
    "resolve a held name": lambda t, actor: migration_services.resolve_review(
        review=t["review"], account=t["account"], actor=actor
    ),
    "mark not a duplicate": lambda t, actor: customer_services.mark_not_duplicate(
        candidate=t["candidate"], actor=actor, reason="by role"
    ),
    "merge accounts": lambda t, actor: customer_services.merge_accounts(
        survivor=t["candidate"].account_a,
        duplicate=t["candidate"].account_b,
        choices={},
        actor=actor,
        reason="by role",
        candidate=t["candidate"],
    ),
    "map a held helpdesk event": lambda t, actor: support_services.map_unmapped_event(
        event=t["event"], account=t["account"], actor=actor, reason="by role"
    ),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_only_a_steward_may_call_it_and_a_refusal_writes_nothing(personas, things, call):
    for role in OTHERS:
        before = snapshot()
        with pytest.raises(DomainError):
            CALLS[call](things, personas[role])
        assert changed_tables(before, snapshot()) == [], role
    before = snapshot()
    CALLS[call](things, personas["data_steward"])
    assert changed_tables(before, snapshot())


def test_a_stewards_conflict_resolution_applies_the_other_value_with_history(personas, things):
    migration_services.resolve_conflict(
        conflict=things["conflict"], apply_other=True, actor=personas["data_steward"], reason="Xero has the real ABN"
    )
    account = things["account"]
    account.refresh_from_db()
    assert account.abn == "51824753556"
    latest = account.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (personas["data_steward"], "Xero has the real ABN")
    conflict = ImportConflict.objects.get(pk=things["conflict"].pk)
    assert (conflict.status, conflict.resolved_by) == (ConflictStatus.APPLIED, personas["data_steward"])
    assert MatchReview.objects.get().status == ReviewStatus.OPEN
    assert timezone.now() - conflict.resolved_at < dt.timedelta(minutes=5)
