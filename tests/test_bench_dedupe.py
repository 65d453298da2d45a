"""Smoke test of `manage.py bench dedupe` on tiny data sets built in the test database."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from cloudcore_crm.bench.dedupe import KINDS, generate
from customers.models import Account, DuplicateCandidate


def test_the_generator_plants_every_kind_of_duplicate_among_distinct_companies():
    planted = generate(400, share=0.05)
    assert len(planted.rows) == 400 and len(planted.pairs) == 20
    assert set(planted.pairs.values()) <= set(KINDS)
    assert {"suffix", "case", "typo", "same ABN, other name", "t/a form"} <= set(planted.pairs.values())
    assert generate(400, share=0.05).rows == planted.rows  # a fixed seed: the same data every run


@pytest.mark.django_db
def test_bench_dedupe_prints_time_recall_and_precision_beside_a_naive_comparison():
    out = io.StringIO()
    call_command("bench", "dedupe", "--accounts", "300", "--naive-accounts", "120", "--in-place", stdout=out)
    output = out.getvalue()

    assert "bench dedupe: 300 accounts (15 planted duplicate pairs)" in output
    assert "command: manage.py bench dedupe --accounts 300 --naive-accounts 120 --in-place" in output
    rows = {
        cells[0]: cells
        for line in output.splitlines()
        if line.startswith("| ") and not line.startswith("| run ")
        for cells in [[cell.strip() for cell in line.strip().strip("|").split("|")]]
    }
    assert set(rows) == {
        "scan service, 300 accounts",
        "scan service, 120 accounts",
        "blocked (same engine), in memory",
        "naive all pairs",
    }
    assert rows["naive all pairs"][2] == f"{120 * 119 // 2:,}"  # every pair compared
    assert int(rows["blocked (same engine), in memory"][2].replace(",", "")) < 120 * 119 // 2
    for cells in rows.values():
        assert float(cells[5].rstrip("%")) >= 90.0  # recall
    # The run cleans up after itself.
    assert not Account.objects.exists() and not DuplicateCandidate.objects.exists()
