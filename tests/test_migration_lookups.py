"""The run's name lookups: each spelling is matched once per run, a held name stays held
in every file, and a client the run creates is found from then on."""

from __future__ import annotations

import pytest

from migration.importers.base import HeldForReview, RunContext
from migration.models import ImportRun
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def context(personas):
    run = ImportRun.objects.create(started_by=personas["data_steward"])
    return RunContext.build(run, personas["data_steward"])


def test_a_spelling_is_matched_once_per_run(context, monkeypatch):
    acme = AccountFactory(legal_name="Acme Widgets Pty Ltd")
    context = RunContext.build(context.run, context.actor)  # sees the new account
    calls = []
    find = context.index.find
    monkeypatch.setattr(context.index, "find", lambda record: calls.append(record) or find(record))

    assert context.account_named("ACME Widgets").pk == acme.pk
    assert context.account_named("Acme Widgets Pty. Ltd.").pk == acme.pk  # same key: no second match
    assert len(calls) == 1


def test_a_held_name_is_held_again_with_the_spelling_of_the_row(context):
    AccountFactory(legal_name="Harbour Dental Pty Ltd")
    AccountFactory(legal_name="Harbour Dental Group Pty Ltd")
    context = RunContext.build(context.run, context.actor)

    with pytest.raises(HeldForReview) as first:
        context.account_named("Harbour Dentl")
    with pytest.raises(HeldForReview) as again:
        context.account_named("HARBOUR DENTL")
    assert again.value.name == "HARBOUR DENTL" and again.value.candidates == first.value.candidates


def test_a_client_created_by_the_run_answers_names_asked_before(context):
    assert context.account_named("Quokka Analytics") is None

    created = context.new_account(code="", values={"legal_name": "Quokka Analytics Pty Ltd"}, reason="row 4")

    assert context.account_named("Quokka Analytics") is created
