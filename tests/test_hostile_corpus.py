"""Every file of the hostile corpus (`tests/hostile/make_corpus.py`, 100+ files) is refused
or imported, with no traceback and a peak RSS under 512 MB.

The corpus is imported in a separate process (`tests/hostile/run_corpus.py`) so its memory
is measured on its own and a runaway allocation cannot take the test run down; on
PostgreSQL it imports into a scratch database of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from tests.conftest import is_postgres
from tests.hostile.make_corpus import build

ROOT = Path(__file__).resolve().parent.parent
PEAK_RSS_MB = 512


def _scratch_database(tmp_path: Path):
    """A database URL for the runner, and how to drop it afterwards."""
    if not is_postgres():
        return f"sqlite:///{tmp_path / 'hostile.sqlite3'}", lambda: None
    db = connection.settings_dict
    name = f"{db['NAME']}_hostile_{uuid.uuid4().hex[:6]}"
    server = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{server}/{name}", drop


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory, django_db_blocker):
    tmp_path = tmp_path_factory.mktemp("hostile")
    files = build(tmp_path / "corpus")
    with django_db_blocker.unblock():
        url, drop = _scratch_database(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(DATABASE_URL=url, CELERY_TASK_ALWAYS_EAGER="1", PYTHONUNBUFFERED="1")
    try:
        process = subprocess.run(
            [sys.executable, "-m", "tests.hostile.run_corpus", str(tmp_path / "corpus")],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
        )
    finally:
        drop()
    lines = [json.loads(line) for line in process.stdout.splitlines() if line.startswith("{")]
    started = [line["starting"] for line in lines if "starting" in line]
    finished = {line["file"]: line for line in lines if "file" in line}
    assert process.returncode == 0, f"the runner died on {started[-1:]}: {process.stderr[-3000:]}"
    return files, finished


def test_the_corpus_holds_at_least_100_hostile_files(outcomes):
    files, finished = outcomes
    assert len(files) >= 100
    assert set(finished) == {path.name for path in files}


def test_no_file_gives_a_traceback(outcomes):
    _files, finished = outcomes
    failures = {name: outcome["tracebacks"][0][-600:] for name, outcome in finished.items() if outcome["tracebacks"]}
    assert failures == {}


def test_every_file_is_refused_or_imported_with_its_rejected_rows(outcomes):
    _files, finished = outcomes
    for name, outcome in finished.items():
        assert outcome["legacy"]["run"] == "previewed", name
        assert {f["status"] for f in outcome["legacy"]["files"]} <= {"refused", "previewed"}, name


def test_every_file_stays_under_512_mb_peak_rss(outcomes):
    _files, finished = outcomes
    heavy = {name: o["peak_rss_mb"] for name, o in finished.items() if o["peak_rss_mb"] >= PEAK_RSS_MB}
    assert heavy == {}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("far_cell_xfd1048576.xlsx", "reaches 1,048,576 rows x 16,384 columns"),
        ("dimension_full.xlsx", "declares 1,048,576 rows"),
        ("shared_strings_count.xlsx", "declares more strings"),
        ("rows_200001.csv", "more than 200,000 rows"),
        ("rel_target_escape.xlsx", "points outside the workbook"),
        ("bad_crc_sheet.xlsx", "damaged"),
        ("value_huge_name.csv", "over 32,767 characters"),
        ("value_huge_name.xlsx", "over 32,767 characters"),
        ("cell_200k.csv", "field larger than field limit"),
    ],
)
def test_a_hostile_file_is_refused_with_its_reason(outcomes, name, expected):
    _files, finished = outcomes
    messages = " ".join(f["message"] for f in finished[name]["legacy"]["files"])
    assert expected in messages


def test_a_client_name_over_the_limit_is_a_rejected_row(outcomes):
    _files, finished = outcomes
    (file,) = finished["value_long_name.csv"]["legacy"]["files"]
    assert (file["status"], file["counts"].get("rejected")) == ("previewed", 1)


@pytest.mark.parametrize(
    ("name", "left_out"),
    [
        ("value_javascript_website.xlsx", "website 'javascript:alert(document.cookie)' is no web address"),
        ("value_bad_email.csv", "email 'not an email@@example' is no email address"),
        ("value_absurd_value.csv", "value '$1e30' is not a plausible amount"),
    ],
)
def test_a_cell_failing_validation_is_left_out_and_the_client_imported(outcomes, name, left_out):
    _files, finished = outcomes
    (file,) = finished[name]["legacy"]["files"]
    assert (file["status"], file["counts"].get("rejected", 0), file["counts"].get("created")) == ("previewed", 0, 1)
    (warning,) = finished[name]["legacy"]["warnings"]
    assert warning == f"{name}: row 2: {left_out}: left out, the rest of the row imported"


def test_the_duplicate_index_caps_the_name_length_it_indexes():
    from customers.dedupe import MAX_INDEXED_KEY, _name_block_keys

    keys = _name_block_keys("x" * 100_000)
    assert len(keys) <= MAX_INDEXED_KEY + 2
    assert max(map(len, keys)) <= MAX_INDEXED_KEY * 2 + 3
