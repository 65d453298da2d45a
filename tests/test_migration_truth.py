"""Legacy import checked against the generated estate's truth file: CloudCore's mess
goes in, one trustworthy record comes out, and every fact can say where it came from."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import override_settings

from customers.demo import demo_staff, ensure_demo_users
from customers.models import Account, Opportunity, Subscription
from migration.choices import ConflictKind, FileStatus
from migration.legacy_estate import TRUTH, write_estate
from migration.models import EvidencedSubscription, ImportConflict, ImportRun, Provenance
from migration.services import run_import

SAMPLES = Path(__file__).parent / "samples"
MD5 = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CLIENTS = 60


def _steward():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="data_steward")


@pytest.fixture(scope="module")
def estate(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[dict]:
    """Generate a 60-client estate and import it twice, once for the module, inside a
    transaction rolled back at the end."""
    directory = tmp_path_factory.mktemp("estate")
    write_estate(directory, seed=2026, clients=CLIENTS)
    truth = json.loads((directory / TRUTH).read_text())
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=MD5), transaction.atomic():
        ensure_demo_users()
        paths = [p for p in directory.iterdir() if p.is_file()]
        first = run_import(paths=paths, actor=_steward())
        history_after_first = {m.__name__: m.history.count() for m in (Account, Subscription, Opportunity)}
        conflicts_after_first = ImportConflict.objects.count()
        second = run_import(paths=paths, actor=_steward())
        yield {
            "dir": directory,
            "truth": truth,
            "first": first,
            "second": second,
            "history_after_first": history_after_first,
            "conflicts_after_first": conflicts_after_first,
        }
        transaction.set_rollback(True)


def _d1_accounts_by_truth(truth) -> dict[str, set[int]]:
    account_type = ContentType.objects.get_for_model(Account)
    by_row = defaultdict(set)
    for file, rows, object_id in Provenance.objects.filter(content_type=account_type, store="d1").values_list(
        "file", "rows", "object_id"
    ):
        for row in rows:
            by_row[(file, row)].add(object_id)
    found = {}
    for client in truth["clients"]:
        ids = set()
        for store, file, _sheet, row in client["rows"]:
            if store == "d1":
                ids |= by_row.get((file, row), set())
        found[client["id"]] = ids
    return found


@pytest.mark.django_db
def test_at_least_98_percent_of_true_clients_end_as_exactly_one_account(estate):
    found = _d1_accounts_by_truth(estate["truth"])
    exactly_one = sum(1 for ids in found.values() if len(ids) == 1)
    assert exactly_one / len(found) >= 0.98, {k: v for k, v in found.items() if len(v) != 1}


@pytest.mark.django_db
def test_no_account_merges_two_different_clients(estate):
    owners = defaultdict(set)
    for client_id, ids in _d1_accounts_by_truth(estate["truth"]).items():
        for account_id in ids:
            owners[account_id].add(client_id)
    assert all(len(clients) == 1 for clients in owners.values())


@pytest.mark.django_db
def test_money_comes_from_xero_and_renewal_dates_from_the_client_master(estate):
    by_code = {a.code: a for a in Account.objects.all()}
    checked = 0
    for client in estate["truth"]["clients"]:
        account = by_code[client["code"]]
        for product, facts in client["subscriptions"].items():
            sub = Subscription.objects.get(account=account, product__code=product)
            assert sub.annual_value == Decimal(facts["annual_value"]), (client["code"], product)
            expected = dt.date.fromisoformat(facts["renewal_date"]) if facts["renewal_date"] else None
            assert sub.renewal_date == expected, (client["code"], product)
            checked += 1
    assert checked > CLIENTS


@pytest.mark.django_db
def test_disagreements_between_stores_are_listed_not_silently_overwritten(estate):
    for planted in estate["truth"]["conflicts"]:
        assert ImportConflict.objects.filter(
            account__code=planted["code"], subscription__product__code=planted["product"], field=planted["field"]
        ).exists(), planted


@pytest.mark.django_db
def test_every_imported_record_has_provenance_and_a_history_reason_naming_the_run(estate):
    run = estate["first"]
    for model in (Account, Subscription, Opportunity):
        content_type = ContentType.objects.get_for_model(model)
        with_provenance = set(Provenance.objects.filter(content_type=content_type).values_list("object_id", flat=True))
        assert set(model.objects.values_list("pk", flat=True)) <= with_provenance, model
        created = model.history.filter(history_type="+")
        assert created.exists()
        assert all(
            f"Import run #{run.pk}" in reason for reason in created.values_list("history_change_reason", flat=True)
        )
        assert all(user == _steward().pk for user in created.values_list("history_user", flat=True))


@pytest.mark.django_db
def test_a_second_run_changes_nothing(estate):
    second = estate["second"].report
    for store, counts in second["stores"].items():
        assert counts.get("created", 0) == 0, store
        assert counts.get("updated", 0) == 0, store
        assert counts.get("values updated", 0) == 0, store
    now = {m.__name__: m.history.count() for m in (Account, Subscription, Opportunity)}
    assert now == estate["history_after_first"]
    assert ImportConflict.objects.count() == estate["conflicts_after_first"]


@pytest.mark.django_db
def test_the_run_report_counts_each_store_and_keeps_who_ran_it(estate):
    run = estate["first"]
    stores = run.report["stores"]
    assert {"d1", "d3", "d4", "d7"} <= set(stores)
    assert stores["d1"]["created"] > CLIENTS
    assert run.started_by == _steward()
    assert ImportRun.objects.filter(pk=run.pk, status="succeeded").exists()
    assert run.files.filter(status=FileStatus.IMPORTED).count() >= 4


@pytest.mark.django_db
def test_the_truth_file_is_recognised_as_nothing_and_ignored(estate):
    assert not estate["first"].files.filter(name=TRUTH).exists()


@pytest.mark.django_db
def test_a_file_imported_by_a_run_since_deleted_imports_again_replacing_its_provenance(estate):
    # The first import of a file COPYs its provenance without looking for rows to replace;
    # with the earlier runs deleted the file looks new, but its rows are still there.
    provenance_before = Provenance.objects.count()
    ImportRun.objects.filter(pk__in=[estate["first"].pk, estate["second"].pk]).delete()
    assert Provenance.objects.filter(run__isnull=True).count() == provenance_before

    again = run_import(paths=[p for p in estate["dir"].iterdir() if p.is_file()], actor=_steward())

    assert not again.files.exclude(status=FileStatus.IMPORTED).exclude(store="").exists()
    assert Provenance.objects.count() == provenance_before  # replaced, not added
    assert Provenance.objects.filter(run=again).exists()


@pytest.mark.django_db
def test_every_planted_drift_is_flagged_for_finance_and_nothing_else(estate):
    planted = {(d["code"], d["product"]) for d in estate["truth"]["drifts"]}
    flagged = set(
        ImportConflict.objects.filter(kind=ConflictKind.DRIFT).values_list(
            "account__code", "subscription__product__code"
        )
    )
    assert planted
    assert flagged == planted


@pytest.mark.django_db
def test_subscriptions_the_master_does_not_list_come_from_xero_and_the_calendar_for_confirmation(estate):
    secondary = {
        (client["code"], product)
        for client in estate["truth"]["clients"]
        for product, facts in client["subscriptions"].items()
        if "d1" not in facts["stores"]
    }
    listed = set(EvidencedSubscription.objects.values_list("account__code", "product__code"))
    assert secondary
    assert listed == secondary
    assert (
        not ImportConflict.objects.filter(kind=ConflictKind.UNTOLD, subscription__isnull=False)
        .exclude(evidence__how="no Xero invoice for this product")
        .exists()
    )


@pytest.mark.django_db
def test_each_reps_leads_for_new_companies_are_that_reps_prospect(estate):
    leads = estate["truth"]["leads"]
    assert leads
    for lead in leads:
        (account,) = Account.objects.filter(legal_name=lead["name"])
        assert (account.lifecycle_status, account.owner.username) == ("prospect", lead["rep"]), lead
        deals = account.opportunities.all()
        assert {(d.owner.username, d.kind) for d in deals} == {(lead["rep"], "new")}, lead
        assert deals.count() == lead["deals"], lead


@pytest.mark.django_db
def test_a_deal_at_a_stage_the_funnel_lacks_waits_for_a_steward(estate):
    from migration.models import HeldValue

    staff = {member.username: member.full_name for member in demo_staff()}
    waiting = estate["truth"]["waiting_stages"]
    files = {f.name: f for f in estate["first"].files.all()}
    for deal in waiting:
        rejected = csv.DictReader(io.StringIO(files[f"Pipeline - {staff[deal['rep']]}.xlsx"].rejected_csv))
        reasons = {int(row["row"]): row["reason"] for row in rejected}
        assert reasons[deal["row"]].startswith(f"no pipeline stage called '{deal['word']}'"), (deal, reasons)
    (held,) = HeldValue.objects.filter(kind="stage")
    assert (held.value, held.rows) == ("Negotiation", len(waiting))
