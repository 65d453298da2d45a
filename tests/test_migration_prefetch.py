"""The big CSV exports parsed by a second process (migration/prefetch.py) import exactly
as when the run reads them itself: same counts, warnings, rejected rows and refusals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.db import transaction
from django.test import override_settings

from customers.demo import ensure_demo_users
from migration.choices import FileStatus, Store
from migration.legacy_estate import write_estate
from migration.models import ImportRun
from migration.prefetch import Prefetch
from migration.services import run_import

APART = override_settings(MIGRATION_PARSE_APART_BYTES=1)  # any size: the second process always
ALONE = override_settings(MIGRATION_PARSE_APART_BYTES=0)  # never


@pytest.fixture
def steward(db):
    from django.contrib.auth import get_user_model

    ensure_demo_users()
    return get_user_model().objects.get(username="data_steward")


@pytest.fixture(scope="module")
def estate(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("estate")
    write_estate(directory, seed=7, clients=60)  # a Xero export past the 64 KB its encoding is sniffed from
    return directory


def _outcome(run: ImportRun) -> dict:
    return {f.name: (f.status, f.store, f.counts, f.message, f.rejected_csv) for f in run.files.order_by("name")} | {
        "warnings": run.report["warnings"],
        "conflicts": run.report["conflicts"],
    }


def _import(paths: list[Path], actor, setting) -> tuple[dict, int]:
    """The run's outcome (rolled back afterwards) and how many files came from the second process."""
    taken = []
    original = Prefetch.take

    def counting_take(self, path):
        found = original(self, path)
        taken.append(found is not None)
        return found

    with setting, transaction.atomic(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(Prefetch, "take", counting_take)
        outcome = _outcome(run_import(paths=paths, actor=actor))
        transaction.set_rollback(True)
    return outcome, sum(taken)


def test_the_estate_imports_the_same_whether_its_exports_are_parsed_apart_or_not(estate, steward):
    paths = sorted(p for p in estate.iterdir() if p.is_file())
    alone, alone_taken = _import(paths, steward, ALONE)
    apart, apart_taken = _import(paths, steward, APART)
    assert alone_taken == 0
    assert apart_taken == 3  # Xero, the calendar and the helpdesk export
    assert apart == alone
    assert any(rejected for _, _, _, _, rejected in (v for k, v in apart.items() if k.endswith(".csv")))


def test_an_export_that_changes_encoding_part_way_is_refused_as_when_read_alone(estate, steward, tmp_path):
    xero = next(p for p in estate.iterdir() if p.name.startswith("xero"))
    broken = tmp_path / xero.name
    data = xero.read_bytes()
    assert len(data) > 70 * 1024  # past the 64 KB the encoding is sniffed from
    broken.write_bytes(data + "Stéphane,INV-1,01/07/2025\n".encode("cp1252"))
    client_master = next(p for p in estate.iterdir() if p.name.startswith("client_master"))
    paths = [client_master, broken]
    alone, _ = _import(paths, steward, ALONE)
    apart, taken = _import(paths, steward, APART)
    assert taken == 1
    assert apart == alone
    assert apart[xero.name][0] == FileStatus.REFUSED
    assert "changes text encoding" in apart[xero.name][3]


def test_when_the_second_process_fails_the_run_reads_the_file_itself(tmp_path):
    failing = subprocess.Popen(
        [sys.executable, "-c", "raise SystemExit(3)"], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, bufsize=0
    )
    path = tmp_path / "xero.csv"
    prefetch = Prefetch([(path, Store.XERO)], failing, tmp_path / "parsed")
    assert prefetch.take(path) is None
    assert prefetch.take(path) is None  # and stays so, without waiting again
    prefetch.close()


def test_small_exports_are_not_worth_a_second_process(estate, steward):
    paths = sorted(p for p in estate.iterdir() if p.is_file())
    with override_settings(MIGRATION_PARSE_APART_BYTES=sum(p.stat().st_size for p in paths) * 2):
        _, taken = _import(paths, steward, override_settings())
    assert taken == 0
