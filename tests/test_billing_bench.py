"""Smoke test of `manage.py bench billing` on a tiny data set built in the test database."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from billing_sync.models import Discrepancy, XeroInvoiceLine


@pytest.mark.django_db
def test_bench_billing_measures_the_import_the_reconciliation_and_the_queue():
    out = io.StringIO()
    call_command(
        "bench", "billing", "--accounts", "30", "--lines", "2000", "--requests", "3", "--warmup", "1", "--in-place",
        stdout=out,
    )  # fmt: skip
    output = out.getvalue()
    assert "import (parse, write, map contacts, reconcile)" in output
    assert "full reconciliation (nightly, no change)" in output
    assert "queue page median / p95" in output
    assert XeroInvoiceLine.objects.count() == 2000
    # One subscription in twenty is billed 10% above its contract value.
    assert Discrepancy.objects.filter(cause="value").exists()
