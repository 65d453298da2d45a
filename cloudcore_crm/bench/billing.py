"""`manage.py bench billing`: the Xero reconciliation at the issue's size.

Builds the synthetic customer base of `bench pages` (default 10,000 accounts, two
subscriptions each) in a bench database of its own, gives each account a Xero contact id,
writes a Sales Invoices export in Xero's real layout (default 1,000,000 lines: monthly
invoices of two lines, one a subscription and one a one-off charge; one subscription in
twenty billed 10% above its contract value), then measures:

- the import of that export (`billing_sync.services.run_import`, reconciliation included);
  target under 60 s;
- the full reconciliation on its own (`services.reconcile`, the nightly job); target 30 s;
- the discrepancy queue page as Finance: median server time and query count; target
  under 50 ms with a fixed query count.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import CommandError, CommandParser, OutputWrapper
from django.db import connection
from django.db.models import F
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cloudcore_crm.bench import dataset
from cloudcore_crm.bench.common import Benchmark, analyze, bench_database, command_line, markdown_table, percentile
from cloudcore_crm.roles import FINANCE

TARGET_IMPORT_S = 60.0
TARGET_RECONCILE_S = 30.0
TARGET_QUEUE_MEDIAN_MS = 50.0
SEED = 20261207
TODAY = dt.date(2026, 12, 1)
DEFAULTS: dict[str, Any] = {
    "accounts": 10_000,
    "lines": 1_000_000,
    "requests": 100,
    "warmup": 5,
    "keep": False,
    "in_place": False,
}
HEADERS = [
    "ContactName", "EmailAddress", "InvoiceNumber", "Reference", "InvoiceDate", "DueDate", "Total", "TaxTotal",
    "InventoryItemCode", "Description", "Quantity", "UnitAmount", "LineAmount", "AccountCode", "TaxType",
    "TaxAmount", "Currency", "Type", "Sent", "Status",
]  # fmt: skip


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("--accounts", type=int, default=DEFAULTS["accounts"])
    parser.add_argument("--lines", type=int, default=DEFAULTS["lines"], help="Invoice lines in the export.")
    parser.add_argument("--requests", type=int, default=DEFAULTS["requests"], help="Queue page requests timed.")
    parser.add_argument("--warmup", type=int, default=DEFAULTS["warmup"])
    parser.add_argument("--keep", action="store_true", help="Keep the bench database for the next run.")
    parser.add_argument("--in-place", action="store_true", help="Use the current (test) database.")


def _months_back(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 - months
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


def _write_export(path: Path, lines: int, rng: random.Random) -> int:
    """Monthly invoices, newest month last, for every live subscription of the accounts
    with a Xero contact id, until `lines` lines are written."""
    from customers.models import Subscription

    subs = list(
        Subscription.objects.filter(status="active", annual_value__gt=0)
        .order_by("pk")
        .values_list("pk", "account__xero_contact_id", "product__code", "product__name", "annual_value")
    )
    if not subs:
        raise CommandError("The data set has no live subscriptions to bill.")
    months = max(1, -(-lines // (2 * len(subs))))  # rounded up; the last month stops at `lines`
    written, number = 0, 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        for back in range(months - 1, -1, -1):
            day = _months_back(TODAY, back)
            for pk, contact, code, name, annual in subs:
                if written >= lines:
                    return written
                number += 1
                monthly = (annual * (Decimal("1.1") if pk % 20 == 0 else 1) / 12).quantize(Decimal("0.01"))
                hours = Decimal(rng.choice((0, 165, 330, 495)))
                total = monthly + hours
                for item, description, amount in (
                    (code.upper(), f"{name} - {day:%B %Y}", monthly),
                    ("", "Onsite support (hours)", hours),
                ):
                    writer.writerow([
                        contact, "", f"INV-{number:07d}", "", f"{day:%d/%m/%Y}", f"{day:%d/%m/%Y}",
                        f"{total * Decimal('1.1'):.2f}", f"{total / 10:.2f}", item, description, "1.0000",
                        f"{amount:.2f}", f"{amount:.2f}", "200", "GST on Income", f"{amount / 10:.2f}", "AUD",
                        "Sales invoice", "Sent", "Paid",
                    ])  # fmt: skip
                    written += 1
    return written


def _finance_user():
    user, _ = get_user_model().objects.get_or_create(username="bench_finance", defaults={"first_name": "Bench"})
    user.groups.add(Group.objects.get(name=FINANCE))
    return user


def run(options: dict[str, Any], out: OutputWrapper) -> None:
    from billing_sync import services
    from billing_sync.models import Discrepancy, XeroContact, XeroInvoiceLine
    from customers.models import Account

    sizes = dataset.Sizes(accounts=options["accounts"], contacts_per_account=1, subscriptions_per_account=2)
    if sizes.accounts < 1 or options["lines"] < 1 or options["requests"] < 1:
        raise CommandError("Need at least one account, line and request.")
    command = command_line("billing", options, DEFAULTS)
    rng = random.Random(SEED)
    with (
        override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver"], CELERY_TASK_ALWAYS_EAGER=True),
        bench_database(
            purpose="billing",
            in_place=options["in_place"],
            keep=options["keep"],
            holds_data_set=lambda: dataset.holds(sizes) and XeroInvoiceLine.objects.count() == options["lines"],
            out=out,
        ) as database,
    ):
        out.write(f"Building {sizes.accounts:,} accounts on {database.describe()}...")
        if not database.reused:
            dataset.build(sizes)
        # Bench data: every account known to Xero by its own name (a plain UPDATE is fine here).
        Account.objects.update(xero_contact_id=F("legal_name"))
        finance = _finance_user()
        with tempfile.TemporaryDirectory(prefix="bench-xero-") as folder:
            path = Path(folder) / "SalesInvoices.csv"
            written = _write_export(path, options["lines"], rng)
            out.write(f"Wrote a Sales Invoices export of {written:,} lines ({path.stat().st_size / 1e6:.0f} MB).")
            start = time.perf_counter()
            run = services.run_import(paths=[path], actor=finance, today=TODAY)
            import_s = time.perf_counter() - start
        if run.files.get().status != "imported":
            raise CommandError(f"The import did not go through: {run.files.get().message}")
        analyze([XeroInvoiceLine, XeroContact, Discrepancy])
        reconcile_in_import = run.report["reconciliation"]["seconds"]
        start = time.perf_counter()
        result = services.reconcile(today=TODAY, reason="bench")
        reconcile_s = time.perf_counter() - start
        client = Client()
        client.force_login(finance)
        url = reverse("billing_sync:discrepancy_list")
        seconds, queries = [], []
        for n in range(options["requests"] + options["warmup"]):
            with CaptureQueriesContext(connection) as captured:
                begin = time.perf_counter()
                response = client.get(url, {"page": 1 + n % 3})
                elapsed = time.perf_counter() - begin
            if response.status_code != 200:
                raise CommandError(f"The queue answered {response.status_code}.")
            if n >= options["warmup"]:
                seconds.append(elapsed)
                queries.append(len(captured))
        median_ms = statistics.median(seconds) * 1000
        open_cases = Discrepancy.objects.open().count()
        rows = [
            ["import (parse, write, map contacts, reconcile)", f"{import_s:.1f} s", f"< {TARGET_IMPORT_S:.0f} s",
             "yes" if import_s < TARGET_IMPORT_S else "NO"],
            ["  of which the reconciliation", f"{reconcile_in_import:.1f} s", "", ""],
            ["full reconciliation (nightly, no change)", f"{reconcile_s:.1f} s", f"< {TARGET_RECONCILE_S:.0f} s",
             "yes" if reconcile_s < TARGET_RECONCILE_S else "NO"],
            ["queue page median / p95", f"{median_ms:.1f} / {percentile(seconds, 0.95) * 1000:.1f} ms",
             f"< {TARGET_QUEUE_MEDIAN_MS:.0f} ms", "yes" if median_ms < TARGET_QUEUE_MEDIAN_MS else "NO"],
            ["queue page queries", f"{min(queries)}-{max(queries)}", "fixed",
             "yes" if min(queries) == max(queries) else "NO"],
        ]  # fmt: skip
        out.write("")
        out.write(
            f"{Account.objects.count():,} accounts, {XeroInvoiceLine.objects.count():,} invoice lines, "
            f"{result.findings:,} findings, {open_cases:,} open discrepancies; {database.describe()}"
        )
        for line in markdown_table(["measure", "figure", "target", "met"], rows, right=[False, True, True, False]):
            out.write(line)
        out.write(f"Command: {command}")


BENCHMARK = Benchmark(
    name="billing",
    help="Xero import, reconciliation and the discrepancy queue at 10,000 accounts and 1,000,000 lines.",
    add_arguments=add_arguments,
    run=run,
)
