"""Tickets imported from D2 reach the churn-risk score: their clients are rescored once,
after the whole run commits, and a dry run rescores nobody."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from customers.demo import ensure_demo_users
from migration.legacy_estate import write_estate
from migration.services import run_import
from support_bridge import tasks
from support_bridge.models import RiskScore, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def estate(tmp_path):
    write_estate(tmp_path, seed=11, clients=40)
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        ensure_demo_users()
    return [p for p in tmp_path.iterdir() if p.is_file()]


@pytest.fixture
def rescorings(monkeypatch) -> list[list[int]]:
    calls: list[list[int]] = []
    original = tasks.recompute_accounts_risk.delay

    def recording(account_ids):
        calls.append(account_ids)
        return original(account_ids)

    monkeypatch.setattr(tasks.recompute_accounts_risk, "delay", recording)
    return calls


def test_imported_tickets_rescore_their_clients_once_after_the_run_commits(
    estate, rescorings, django_capture_on_commit_callbacks
):
    steward = get_user_model().objects.get(username="data_steward")

    with django_capture_on_commit_callbacks(execute=True):
        run_import(paths=estate, actor=steward, only={"d1", "d2", "d2t"})
        assert rescorings == []  # not while the run's transaction is open

    ticketed = set(Ticket.objects.values_list("account_id", flat=True))
    assert len(rescorings) == 1 and set(rescorings[0]) == ticketed
    assert RiskScore.objects.filter(account_id__in=ticketed).exists()


def test_a_dry_run_rescores_nobody(estate, rescorings, django_capture_on_commit_callbacks):
    steward = get_user_model().objects.get(username="data_steward")

    with django_capture_on_commit_callbacks(execute=True):
        run_import(paths=estate, actor=steward, only={"d1", "d2", "d2t"}, dry_run=True)

    assert rescorings == [] and not RiskScore.objects.exists()
