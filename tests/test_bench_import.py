"""`manage.py bench import` runs end to end on a tiny estate and prints its table."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError, OutputWrapper

from cloudcore_crm.bench.imports import _median_run, _print, _Timed, bare_parse_seconds, forget_remembered_values
from customers import bulk
from customers.dedupe import _name_block_keys
from customers.matching import name_key
from customers.validators import _checksum_holds
from migration.parsing import _date_from_text, _money_from_text


@pytest.mark.django_db
def test_bench_import_prints_rows_per_second_and_the_parse_ratio():
    out = StringIO()
    call_command("bench", "import", "--clients", "8", "--in-place", stdout=out)
    text = out.getvalue()
    assert "bench import: 8 clients" in text
    assert "| d1" in text and "| d4" in text
    assert "ratio (one run):" in text and "target: import within 3x" in text


def test_bench_import_refuses_to_repeat_imports_into_one_database():
    with pytest.raises(CommandError, match="new bench database per import"):
        call_command("bench", "import", "--clients", "8", "--in-place", "--repeat", "2", stdout=StringIO())


def test_the_verdict_is_on_the_median_ratio_each_against_the_parses_around_it():
    def timed(seconds, floor):
        return _Timed(report={"files": []}, seconds=seconds, tasks=1.0, by_task={}, floor=floor)

    # The fastest import (run 1) met the target only against its own slow parses.
    runs = [timed(21.0, 7.5), timed(24.0, 7.0), timed(26.0, 7.2)]
    assert [round(r.ratio, 2) for r in runs] == [2.8, 3.43, 3.61]
    assert _median_run(runs) is runs[1]
    out = StringIO()
    _print(OutputWrapper(out), {"clients": 8, "estate": None}, "here", runs, {"read": 1.0, "generate": 0.1}, 10)
    text = out.getvalue()
    assert "ratio (median of 3 runs): 3.4x (3.3x without the after-commit tasks)" in text
    assert "-> MISSED" in text
    assert "|   1 |    21.00 |          7.50 |  2.8x |" in text


@pytest.mark.django_db
def test_bench_import_keeps_an_estate_for_the_next_run_when_given_a_folder(tmp_path):
    estate = tmp_path / "estate"
    first, second = StringIO(), StringIO()
    call_command("bench", "import", "--clients", "8", "--in-place", "--estate", str(estate), stdout=first)
    call_command("bench", "import", "--clients", "8", "--in-place", "--estate", str(estate), stdout=second)
    assert "estate generated in" in first.getvalue() and (estate / "truth.json").exists()
    assert "estate reused from" in second.getvalue()
    assert "tasks queued after commit" in second.getvalue()


@pytest.mark.django_db
def test_each_timed_import_starts_without_the_answers_an_earlier_import_remembered():
    call_command("bench", "import", "--clients", "8", "--in-place", stdout=StringIO())
    memos = (name_key, _checksum_holds, _name_block_keys, _date_from_text, _money_from_text)
    assert all(memo.cache_info().currsize for memo in memos)
    assert any(bulk._CLEANED.values())
    forget_remembered_values()
    assert not any(memo.cache_info().currsize for memo in memos)
    assert not any(bulk._CLEANED.values())


@pytest.mark.django_db
def test_the_floor_parses_only_the_files_the_import_reads(tmp_path):
    call_command("bench", "import", "--clients", "8", "--estate", str(tmp_path), "--in-place", stdout=StringIO())
    rows = bare_parse_seconds(tmp_path)[1]
    (tmp_path / "helpdesk_tickets.csv.rejected.csv").write_text("a,b\n" * 5000)  # an earlier run's report
    assert bare_parse_seconds(tmp_path)[1] == rows
