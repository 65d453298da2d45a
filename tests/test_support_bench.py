"""Smoke test of `manage.py bench risk` on a tiny data set built in the test database."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command


def table(output: str) -> dict[str, list[str]]:
    rows = {}
    for line in output.splitlines():
        if line.startswith("| ") and not line.startswith("| measure "):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            rows[cells[0].split(" (")[0]] = cells
    return rows


@pytest.mark.django_db
def test_bench_risk_measures_the_nightly_job_the_lookup_and_the_webhook():
    out = io.StringIO()
    call_command(
        "bench", "risk", "--accounts", "20", "--tickets", "300", "--requests", "4", "--webhooks", "5",
        "--warmup", "1", "--in-place", stdout=out,
    )  # fmt: skip
    output = out.getvalue()
    rows = table(output)

    assert "bench risk: 20 accounts, 300 tickets" in output
    assert (
        "command: manage.py bench risk --accounts 20 --tickets 300 --requests 4 --webhooks 5 --warmup 1 --in-place"
        in output
    )
    assert set(rows) == {
        "nightly risk job, first run",
        "nightly risk job, next night",
        "agent lookup, JSON with token",
        "agent lookup, HTML page",
        "webhook, signed ticket event",
    }
    assert rows["nightly risk job, first run"][1].endswith(" s")
    for name in ("agent lookup, JSON with token", "agent lookup, HTML page", "webhook, signed ticket event"):
        assert float(rows[name][1]) > 0
        assert int(rows[name][4].rsplit("-", 1)[-1]) <= 20, rows[name]
        assert rows[name][-1] == "not judged"
