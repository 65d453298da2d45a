"""Two people save the same record at once: exactly one wins, the other gets a conflict,
and nothing is lost. Real threads with their own connections, on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from customers import services
from customers.errors import ConflictError
from customers.models import Contact
from tests.conftest import is_postgres
from tests.factories import ContactFactory

pytestmark = [
    # serialized_rollback restores the groups and products that migrations created.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not is_postgres(), reason="real concurrent writers need PostgreSQL row locks"),
]


def test_concurrent_stale_saves_yield_one_conflict_and_no_lost_update(personas):
    contact = ContactFactory(phone="08 9000 0000", title="Manager")
    saw = contact.version
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def save(role: str, changes: dict):
        try:
            barrier.wait(timeout=10)
            services.update_contact(
                contact=Contact.objects.get(pk=contact.pk),
                changes=changes,
                expected_version=saw,
                actor=personas[role],
                reason=f"{role} edit",
            )
            outcomes[role] = "saved"
        except ConflictError:
            outcomes[role] = "conflict"
        finally:
            connection.close()

    threads = [
        threading.Thread(target=save, args=("customer_relations", {"phone": "08 9000 1111"})),
        threading.Thread(target=save, args=("data_steward", {"title": "Director"})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()) == ["conflict", "saved"]
    contact.refresh_from_db()
    winner = next(role for role, outcome in outcomes.items() if outcome == "saved")
    assert contact.version == saw + 1
    assert contact.history.count() == 2
    assert contact.history.latest().history_user == personas[winner]
    if winner == "customer_relations":
        assert (contact.phone, contact.title) == ("08 9000 1111", "Manager")
    else:
        assert (contact.phone, contact.title) == ("08 9000 0000", "Director")


def test_many_concurrent_saves_of_the_same_version_have_exactly_one_winner(personas):
    """Eight people load the same version, then all press Save at once (a barrier): one
    save lands, seven are conflicts, and the record moved on by exactly one version."""
    contact = ContactFactory(title="v0")
    seen = contact.version
    results: dict[int, str] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def save(i: int):
        try:
            current = Contact.objects.get(pk=contact.pk)
            assert current.version == seen
            barrier.wait(timeout=20)
            services.update_contact(
                contact=current,
                changes={"title": f"v{i}"},
                expected_version=current.version,
                actor=personas["customer_relations"],
                reason=f"edit {i}",
            )
            outcome = "saved"
        except ConflictError:
            outcome = "conflict"
        finally:
            connection.close()
        with lock:
            results[i] = outcome

    threads = [threading.Thread(target=save, args=(i,)) for i in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(results.values()) == ["conflict"] * 7 + ["saved"]
    winner = next(i for i, outcome in results.items() if outcome == "saved")
    contact.refresh_from_db()
    assert (contact.title, contact.version) == (f"v{winner}", seen + 1)
    assert contact.history.count() == 2
    assert contact.history.latest().history_change_reason == f"edit {winner}"
