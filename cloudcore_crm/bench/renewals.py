"""`manage.py bench renewals`: the renewal scan, the board and a calendar feed at 100x size.

Builds the synthetic customer base of `bench pages` with three subscriptions per account
(default 100,000 accounts, 300,000 subscriptions, renewals spread from 200 days ago to two
years out) in a bench database of its own, then measures:

- the nightly scan (`renewals.services.nightly_scan`): the first night, which opens every
  case within 90 days and lapses the overdue ones (a one-off, like the go-live import),
  the same night run again (nothing due: it must change nothing and send nothing), and
  the next night; target under 30 s;
- the renewals board, plain and filtered: median server time (target under 50 ms) and
  its query count, which must not vary;
- one person's ICS feed of 500 open cases: median server time, target under 100 ms.

Emails are a worker's job after commit and are not part of the scan's time here.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import CommandError, CommandParser, OutputWrapper
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cloudcore_crm.bench import dataset
from cloudcore_crm.bench.common import Benchmark, analyze, bench_database, command_line, markdown_table, percentile
from cloudcore_crm.roles import SALES_MANAGER
from customers.models import Account, Subscription
from renewals import services
from renewals.models import CalendarToken, RenewalCase, RenewalNotice

TARGET_ACCOUNTS = 100_000
TARGET_SUBSCRIPTIONS = 300_000
TARGET_SCAN_S = 30.0
TARGET_BOARD_MEDIAN_MS = 50.0
TARGET_FEED_MEDIAN_MS = 100.0
FEED_CASES = 500
DEFAULTS: dict[str, Any] = {"accounts": TARGET_ACCOUNTS, "requests": 50, "warmup": 5, "keep": False, "in_place": False}


@dataclass
class Row:
    label: str
    seconds: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    size: str = ""
    target: str = ""
    total: bool = False
    limit: float = 0.0

    def cells(self, *, judged: bool) -> list[str]:
        ms = [s * 1000 for s in self.seconds]
        low, high = min(self.queries), max(self.queries)
        queries = str(low) if low == high else f"{low}-{high}"
        if self.total:
            figure, timing = ms[0] / 1000, [f"{ms[0] / 1000:.1f} s", "-"]
        else:
            figure = statistics.median(ms)
            timing = [f"{figure:.1f}", f"{percentile(ms, 0.95):.1f}"]
        verdict = ("ok" if figure < self.limit else "MISSED") if judged else "not judged"
        return [self.label, *timing, queries, self.size, self.target, verdict]


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument(
        "--accounts", type=int, default=DEFAULTS["accounts"], help="Accounts to generate (3 subscriptions each)."
    )
    parser.add_argument("--requests", type=int, default=DEFAULTS["requests"], help="Timed requests of each page.")
    parser.add_argument("--warmup", type=int, default=DEFAULTS["warmup"], help="Untimed requests of each page first.")
    parser.add_argument("--keep", action="store_true", help="Keep the bench database and reuse it next time.")
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="Load into the current database (tests only: it must be a test database).",
    )


def _manager():
    user, created = get_user_model().objects.get_or_create(
        username=f"{dataset.BENCH_USER_PREFIX}manager", defaults={"first_name": "Mia", "last_name": "Manager"}
    )
    if created:
        user.groups.add(Group.objects.get(name=SALES_MANAGER))
    return user


def _feed_owner(count: int):
    """A rep owning the accounts of `count` open cases (bench data: a bare update is fine here)."""
    user, _ = get_user_model().objects.get_or_create(
        username=f"{dataset.BENCH_USER_PREFIX}feed", defaults={"first_name": "Fay", "last_name": "Feed"}
    )
    accounts = list(
        RenewalCase.objects.unresolved().order_by("account_id").values_list("account_id", flat=True).distinct()[:count]
    )
    Account.objects.filter(pk__in=accounts).update(owner=user)
    cases = RenewalCase.objects.unresolved().filter(account__owner=user).count()
    return user, cases


def _scan(label: str, size: str, *, day=None) -> tuple[Row, services.ScanResult]:
    row = Row(label, size=size, target=f"< {TARGET_SCAN_S:.0f} s", total=True, limit=TARGET_SCAN_S)
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        result = services.nightly_scan(today=day)
        row.seconds.append(time.perf_counter() - start)
    row.queries.append(len(queries))
    row.label += (
        f" ({result.opened:,} opened, {result.reminders:,} reminders, {result.escalations:,} escalations, "
        f"{result.lapsed:,} lapsed)"
    )
    return row, result


def _measure(client: Client, label: str, paths: list[str], *, warmup: int) -> Row:
    row = Row(label)
    for n, path in enumerate(paths):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(path)
            elapsed = time.perf_counter() - start
        if response.status_code != 200:
            raise CommandError(f"{label}: {path} answered {response.status_code}")
        if n >= warmup:
            row.seconds.append(elapsed)
            row.queries.append(len(queries))
    return row


def run(options: dict[str, Any], out: OutputWrapper) -> None:
    sizes = dataset.Sizes(accounts=options["accounts"], contacts_per_account=1, subscriptions_per_account=3)
    if sizes.accounts < 1 or options["requests"] < 1:
        raise CommandError("Need at least one account and one request.")
    command = command_line("renewals", options, DEFAULTS)
    with (
        override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver"], CELERY_TASK_ALWAYS_EAGER=True),
        # The emails are a worker's job after commit, not the scan's.
        mock.patch("renewals.services._send_after_commit"),
        bench_database(
            purpose="renewals",
            in_place=options["in_place"],
            keep=options["keep"],
            holds_data_set=lambda: dataset.holds(sizes),
            out=out,
        ) as database,
    ):
        if database.reused:
            out.write(f"Reusing the data set kept in {database.name}.")
            RenewalNotice.objects.all().delete()
            RenewalCase.history.all().delete()
            RenewalCase.objects.all().delete()
        else:
            out.write(
                f"Building {sizes.accounts:,} accounts and {sizes.subscriptions:,} subscriptions "
                f"on {database.describe()}..."
            )
            data = dataset.build(sizes)
            out.write(f"Built in {sum(data.build_seconds.values()):.1f}s.")
        _manager()
        size = f"{Account.objects.count():,} accounts, {Subscription.objects.count():,} subscriptions"
        rows: list[Row] = []
        out.write("Measuring the nightly scan...")
        today = timezone.localdate()
        first, _ = _scan("nightly scan, first night", size, day=today)
        rows.append(first)
        analyze([RenewalCase, RenewalNotice])
        again, result = _scan("nightly scan, same night again", size, day=today)
        if (result.opened, result.reminders, result.escalations, result.lapsed, result.moved, result.ended) != (0,) * 6:
            raise CommandError(f"The second run changed something: {result.summary()}")
        rows.append(again)
        rows.append(_scan("nightly scan, next night", size, day=today + timezone.timedelta(days=1))[0])
        cases = RenewalCase.objects.count()
        size_cases = f"{cases:,} cases"

        out.write("Measuring the board...")
        manager = _manager()
        client = Client()
        client.force_login(manager)
        warmup, count = options["warmup"], options["requests"]
        board = reverse("renewals:board")
        for label, query in (
            ("renewals board", ""),
            ("renewals board, filtered (office + churn risk + value)", "?office=perth&band=none&min_value=10000"),
        ):
            row = _measure(client, label, [board + query] * (count + warmup), warmup=warmup)
            row.size, row.target, row.limit = (
                size_cases,
                f"median < {TARGET_BOARD_MEDIAN_MS:.0f} ms",
                TARGET_BOARD_MEDIAN_MS,
            )
            rows.append(row)

        out.write("Measuring a calendar feed...")
        owner, feed_cases = _feed_owner(FEED_CASES)
        token = CalendarToken.objects.create(user=owner, token="bench-feed-token")
        row = _measure(Client(), "ICS feed, one person", [token.get_absolute_url()] * (count + warmup), warmup=warmup)
        row.size, row.target, row.limit = (
            f"{feed_cases:,} cases in the feed",
            f"median < {TARGET_FEED_MEDIAN_MS:.0f} ms",
            TARGET_FEED_MEDIAN_MS,
        )
        rows.append(row)

        judged = (
            Account.objects.count() >= TARGET_ACCOUNTS
            and Subscription.objects.count() >= TARGET_SUBSCRIPTIONS
            and connection.vendor == "postgresql"
        )
        out.write("")
        out.write(f"bench renewals: {size}")
        out.write(f"database: {database.describe()}")
        out.write(f"command: {command}")
        out.write("")
        headers = ["measure", "median ms", "p95 ms", "queries", "data size", "target", "verdict"]
        right = [False, True, True, True, False, False, False]
        for line in markdown_table(headers, [r.cells(judged=judged) for r in rows], right=right):
            out.write(line)
        out.write("")
        out.write(
            f"Targets (judged at {TARGET_ACCOUNTS:,} accounts and {TARGET_SUBSCRIPTIONS:,} subscriptions "
            "on PostgreSQL): "
            f"scan < {TARGET_SCAN_S:.0f} s; board median < {TARGET_BOARD_MEDIAN_MS:.0f} ms; "
            f"a {FEED_CASES}-case feed median < {TARGET_FEED_MEDIAN_MS:.0f} ms."
        )
        if connection.vendor != "postgresql":
            out.write("Note: this ran on SQLite; only PostgreSQL timings are meaningful (set DATABASE_URL).")


BENCHMARK = Benchmark(
    name="renewals",
    help="Nightly renewal scan, renewals board and an ICS feed at 100,000 accounts and 300,000 subscriptions.",
    add_arguments=add_arguments,
    run=run,
)
