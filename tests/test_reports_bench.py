"""Smoke test of `manage.py bench reports` on a tiny data set built in the test database."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_bench_reports_measures_the_freeze_the_pack_the_dashboards_and_the_digests():
    out = io.StringIO()
    call_command(
        "bench", "reports", "--accounts", "30", "--tickets", "200", "--requests", "2", "--exports", "1",
        "--digests", "5", "--in-place", stdout=out,
    )  # fmt: skip
    output = out.getvalue()
    assert "bench reports: 30 accounts, 200 tickets" in output
    labels = [line.split("|")[1].strip() for line in output.splitlines() if line.startswith("| ")]
    assert labels[0] == "measure"
    assert any(label.startswith("freeze") and "with movement" in label for label in labels)
    assert {"board pack HTML", "board pack XLSX", "board pack PDF", "home dashboard, executive"} <= set(labels)
    assert any(label.startswith("weekly digests (") for label in labels)
    assert "not judged" in output  # 30 accounts is not the target size
