"""`manage.py bench reports`: month-end snapshots, the board pack, dashboards and digests
at 100x today's size.

Builds the synthetic customer base of `bench pages` (default 100,000 accounts) and the
tickets of `bench risk` in a bench database of its own, then measures:

- freezing a month (`reports.services.freeze_month`), the month before the last and then
  the last (which also works out the movement against the first); target under 60 s each;
- the board pack HTML (median, target under 300 ms) and its XLSX and PDF (median, target
  under 3 s each), all read from the snapshot in a fixed number of queries;
- the home page with each role's dashboard (median, target under 50 ms);
- 1,000 weekly digests (target under 60 s), after spreading the accounts over 1,000 owners.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import CommandError, CommandParser, OutputWrapper
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cloudcore_crm.bench import dataset
from cloudcore_crm.bench.common import Benchmark, bench_database, command_line, markdown_table, percentile
from cloudcore_crm.bench.risk import _build_tickets
from cloudcore_crm.roles import ROLE_NAMES
from customers.models import Account
from reports import digests, services
from reports.models import MonthSnapshot, add_months
from support_bridge.models import Ticket

TARGET_ACCOUNTS = 100_000
TARGET_FREEZE_S = 60.0
TARGET_PACK_MS = 300.0
TARGET_EXPORT_S = 3.0
TARGET_DASHBOARD_MS = 50.0
TARGET_DIGESTS_S = 60.0
DIGEST_OWNER_PREFIX = "bench_owner"
DEFAULTS: dict[str, Any] = {
    "accounts": TARGET_ACCOUNTS,
    "tickets": 200_000,
    "requests": 20,
    "exports": 3,
    "digests": 1000,
    "keep": False,
    "in_place": False,
}


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("--accounts", type=int, default=DEFAULTS["accounts"], help="Accounts to generate.")
    parser.add_argument("--tickets", type=int, default=DEFAULTS["tickets"], help="Tickets to generate.")
    parser.add_argument("--requests", type=int, default=DEFAULTS["requests"], help="Timed page requests of each kind.")
    parser.add_argument("--exports", type=int, default=DEFAULTS["exports"], help="Timed XLSX and PDF renders each.")
    parser.add_argument("--digests", type=int, default=DEFAULTS["digests"], help="Account owners to send a digest.")
    parser.add_argument("--keep", action="store_true", help="Keep the bench database and reuse it next time.")
    parser.add_argument(
        "--in-place", action="store_true", help="Load into the current database (tests only: a test database)."
    )


def _timed_requests(client: Client, url: str, count: int) -> tuple[list[float], list[int]]:
    seconds, queries = [], []
    client.get(url)  # warm up (templates, connection)
    for _ in range(count):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            seconds.append(time.perf_counter() - start)
        if response.status_code != 200:
            raise CommandError(f"{url} answered {response.status_code}")
        queries.append(len(captured))
    return seconds, queries


def _owners(count: int) -> list[int]:
    """`count` bench account owners (sales reps with an email), the accounts dealt out among them."""
    User = get_user_model()
    group = Group.objects.get(name="sales_rep")
    existing = set(User.objects.filter(username__startswith=DIGEST_OWNER_PREFIX).values_list("username", flat=True))
    new = [
        User(username=name, email=f"{name}@cloudcore.example", first_name="Bench", last_name=f"Owner {i}")
        for i in range(count)
        if (name := f"{DIGEST_OWNER_PREFIX}{i:05d}") not in existing
    ]
    User.objects.bulk_create(new, batch_size=1000)
    owners = list(User.objects.filter(username__startswith=DIGEST_OWNER_PREFIX).order_by("pk")[:count])
    group.user_set.add(*owners)
    ids = [u.pk for u in owners]
    account_ids = list(Account.objects.order_by("pk").values_list("pk", flat=True))
    # Bench data: owners reassigned in bulk, not through services (no history needed here).
    for index, owner_id in enumerate(ids):
        Account.objects.filter(pk__in=account_ids[index :: len(ids)]).update(owner_id=owner_id)
    return ids


def _row(label: str, seconds: list[float], queries: list[int], size: str, target: str, limit: float, unit: str):
    median = statistics.median(seconds)
    figure = median * 1000 if unit == "ms" else median
    low, high = min(queries), max(queries)
    return {
        "cells": [
            label,
            f"{median * 1000:.1f}" if unit == "ms" else f"{median:.2f} s",
            f"{percentile(seconds, 0.95) * 1000:.1f}" if unit == "ms" else f"{max(seconds):.2f} s",
            str(low) if low == high else f"{low}-{high}",
            size,
            target,
        ],
        "ok": figure < limit,
    }


def run(options: dict[str, Any], out: OutputWrapper) -> None:
    sizes = dataset.Sizes(accounts=options["accounts"], contacts_per_account=3, subscriptions_per_account=2)
    if sizes.accounts < 1 or options["requests"] < 1 or options["exports"] < 1:
        raise CommandError("Need at least one account, request and export.")
    command = command_line("reports", options, DEFAULTS)
    with (
        override_settings(
            DEBUG=False,
            ALLOWED_HOSTS=["testserver"],
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            CELERY_TASK_ALWAYS_EAGER=True,
        ),
        bench_database(
            purpose="reports",
            in_place=options["in_place"],
            keep=options["keep"],
            holds_data_set=lambda: dataset.holds(sizes) and Ticket.objects.count() == options["tickets"],
            out=out,
        ) as database,
    ):
        if database.reused:
            out.write(f"Reusing the data set kept in {database.name}.")
        else:
            out.write(
                f"Building {sizes.accounts:,} accounts and {options['tickets']:,} tickets on {database.describe()}..."
            )
            data = dataset.build(sizes)
            if options["tickets"]:
                _build_tickets(options["tickets"], data.build_seconds)
            out.write(f"Built in {sum(data.build_seconds.values()):.1f}s.")
        MonthSnapshot.objects.all().delete()
        accounts = Account.objects.count()
        size = f"{accounts:,} accounts"
        rows = []

        last = services.last_complete_month()
        for month in (add_months(last, -1), last):
            out.write(f"Freezing {month:%B %Y}...")
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                services.freeze_month(month=month)
                elapsed = time.perf_counter() - start
            label = f"freeze {month:%b %Y}" + (" (with movement)" if month == last else "")
            rows.append(
                _row(label, [elapsed], [len(captured)], size, f"< {TARGET_FREEZE_S:.0f} s", TARGET_FREEZE_S, "s")
            )

        User = get_user_model()
        people = {}
        for role in ROLE_NAMES:
            person, _ = User.objects.get_or_create(username=f"bench_{role}_viewer", defaults={"first_name": role})
            person.groups.add(Group.objects.get(name=role))
            people[role] = person
        client = Client()
        client.force_login(people["executive"])
        slug = last.strftime("%Y-%m")
        out.write("Measuring the board pack...")
        seconds, queries = _timed_requests(client, reverse("reports:board_pack", args=[slug]), options["requests"])
        rows.append(
            _row("board pack HTML", seconds, queries, size, f"median < {TARGET_PACK_MS:.0f} ms", TARGET_PACK_MS, "ms")
        )
        for name, label in (
            ("reports:board_pack_xlsx", "board pack XLSX"),
            ("reports:board_pack_pdf", "board pack PDF"),
        ):
            seconds, queries = _timed_requests(client, reverse(name, args=[slug]), options["exports"])
            rows.append(_row(label, seconds, queries, size, f"median < {TARGET_EXPORT_S:.0f} s", TARGET_EXPORT_S, "s"))

        out.write("Measuring the dashboards...")
        for role, person in people.items():
            client.force_login(person)
            seconds, queries = _timed_requests(client, reverse("home"), options["requests"])
            rows.append(
                _row(
                    f"home dashboard, {role}",
                    seconds,
                    queries,
                    size,
                    f"median < {TARGET_DASHBOARD_MS:.0f} ms",
                    TARGET_DASHBOARD_MS,
                    "ms",
                )
            )

        if options["digests"]:
            out.write(f"Dealing the accounts out to {options['digests']:,} owners and sending their digests...")
            _owners(options["digests"])
            from reports.models import DigestDelivery

            DigestDelivery.objects.all().delete()
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                counts = digests.send_digests()
                elapsed = time.perf_counter() - start
            label = f"weekly digests ({counts['sent']:,} sent, {counts['empty']:,} empty)"
            rows.append(
                _row(
                    label,
                    [elapsed],
                    [len(captured)],
                    f"{options['digests']:,} owners",
                    f"< {TARGET_DIGESTS_S:.0f} s",
                    TARGET_DIGESTS_S,
                    "s",
                )
            )

        judged = accounts >= TARGET_ACCOUNTS and connection.vendor == "postgresql"
        out.write("")
        out.write(f"bench reports: {size}, {Ticket.objects.count():,} tickets")
        out.write(f"database: {database.describe()}")
        out.write(f"command: {command}")
        out.write("")
        headers = ["measure", "median", "p95 / max", "queries", "data size", "target", "verdict"]
        table = [[*r["cells"], ("ok" if r["ok"] else "MISSED") if judged else "not judged"] for r in rows]
        for line in markdown_table(headers, table, right=[False, True, True, True, False, False, False]):
            out.write(line)
        out.write("")
        out.write(
            f"Targets (judged at {TARGET_ACCOUNTS:,} accounts on PostgreSQL): freeze < {TARGET_FREEZE_S:.0f} s; "
            f"board pack HTML median < {TARGET_PACK_MS:.0f} ms; XLSX and PDF < {TARGET_EXPORT_S:.0f} s; "
            f"dashboards median < {TARGET_DASHBOARD_MS:.0f} ms; 1,000 digests < {TARGET_DIGESTS_S:.0f} s."
        )


BENCHMARK = Benchmark(
    name="reports",
    help="Month-end freeze, board pack (HTML, XLSX, PDF), role dashboards and weekly digests.",
    add_arguments=add_arguments,
    run=run,
)
