"""`manage.py bench import` runs end to end on a tiny estate and prints its table."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_bench_import_prints_rows_per_second_and_the_parse_ratio():
    out = StringIO()
    call_command("bench", "import", "--clients", "8", "--in-place", stdout=out)
    text = out.getvalue()
    assert "bench import: 8 clients" in text
    assert "| d1" in text and "| d4" in text
    assert "ratio:" in text and "target: import within 3x" in text


@pytest.mark.django_db
def test_bench_import_keeps_an_estate_for_the_next_run_when_given_a_folder(tmp_path):
    estate = tmp_path / "estate"
    first, second = StringIO(), StringIO()
    call_command("bench", "import", "--clients", "8", "--in-place", "--estate", str(estate), stdout=first)
    call_command("bench", "import", "--clients", "8", "--in-place", "--estate", str(estate), stdout=second)
    assert "estate generated in" in first.getvalue() and (estate / "truth.json").exists()
    assert "estate reused from" in second.getvalue()
    assert "tasks queued after commit" in second.getvalue()
