"""Smoke test of `manage.py bench renewals` on a tiny data set built in the test database."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_bench_renewals_measures_the_scan_the_board_and_a_feed():
    out = io.StringIO()
    call_command("bench", "renewals", "--accounts", "30", "--requests", "2", "--warmup", "1", "--in-place", stdout=out)
    output = out.getvalue()
    assert "bench renewals: 30 accounts, 90 subscriptions" in output
    assert "command: manage.py bench renewals --accounts 30 --requests 2 --warmup 1 --in-place" in output
    for measure in (
        "| nightly scan, first night",
        "| nightly scan, same night again (0 opened, 0 reminders, 0 escalations, 0 lapsed)",
        "| nightly scan, next night",
        "| renewals board ",
        "| renewals board, filtered",
        "| ICS feed, one person",
    ):
        assert measure in output
