"""`manage.py bench pages`: server time and query count of the pages staff use on a call.

Builds a synthetic customer base (default 100,000 accounts) in a bench database of its own,
logs in as a support agent and requests each page many times through Django's test client,
timing each request and counting its queries. The target: median under 50 ms at 100,000
accounts on PostgreSQL, at most 15 queries per page, and the same query count at any size.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.core.management.base import CommandError, CommandParser, OutputWrapper
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cloudcore_crm.bench import dataset
from cloudcore_crm.bench.common import Benchmark, bench_database, command_line, markdown_table, percentile
from customers import choices
from customers.models import Account, Product

TARGET_MEDIAN_MS = 50.0
TARGET_MAX_QUERIES = 15
TARGET_ACCOUNTS = 100_000
DEFAULTS: dict[str, Any] = {
    "accounts": TARGET_ACCOUNTS,
    "contacts_per_account": 3,
    "subscriptions_per_account": 2,
    "requests": 50,
    "warmup": 5,
    "keep": False,
    "in_place": False,
}


@dataclass
class Page:
    """One row of the report: a page and the URLs that exercise it, used in turn."""

    label: str
    urls: list[str]
    rows: str  # what the page reads from, for the "rows in data set" column
    status: int = 200


@dataclass
class PageResult:
    page: Page
    milliseconds: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    error: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.milliseconds)

    @property
    def p95(self) -> float:
        return percentile(self.milliseconds, 0.95)

    @property
    def query_label(self) -> str:
        low, high = min(self.queries), max(self.queries)
        return str(low) if low == high else f"{low}-{high}"


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("--accounts", type=int, default=DEFAULTS["accounts"], help="Accounts to generate.")
    parser.add_argument(
        "--contacts-per-account", type=int, default=DEFAULTS["contacts_per_account"], help="Contacts per account."
    )
    parser.add_argument(
        "--subscriptions-per-account",
        type=int,
        default=DEFAULTS["subscriptions_per_account"],
        help="Subscriptions per account.",
    )
    parser.add_argument("--requests", type=int, default=DEFAULTS["requests"], help="Timed requests per page.")
    parser.add_argument("--warmup", type=int, default=DEFAULTS["warmup"], help="Untimed requests per page first.")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="Keep the bench database afterwards, and reuse it next time if it holds the same data set.",
    )
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="Load the data into the current database instead of a bench database (tests only: it must be a "
        "test database).",
    )


def _alternate(first: Sequence[str], second: Sequence[str]) -> list[str]:
    """first[0], second[0], first[1], ... then the rest of the longer list."""
    mixed = [code for pair in zip(first, second, strict=False) for code in pair]
    shorter = min(len(first), len(second))
    return mixed + list(first[shorter:]) + list(second[shorter:])


def _misspelt(word: str) -> str:
    """Two letters swapped after the second ("meridian" -> "merdiian")."""
    return word[:2] + word[3] + word[2] + word[4:] if len(word) >= 5 else word


def _pages(data: dataset.DataSet) -> list[Page]:
    """The pages a support agent opens on a call, with URLs that vary the account or the search."""
    counts = data.counts
    accounts = counts["accounts"]
    related = sum(counts[name] for name in ("contacts", "subscriptions", "opportunities", "activities"))
    product = Product.objects.get(code="datavault")
    filtered = Account.objects.filter(office=choices.Office.PERTH).renewing_within(90).with_product(product).count()
    codes = data.sample_codes
    list_url = reverse("customers:account_list")
    search_url = reverse("search")

    def search(terms: Sequence[str]) -> list[str]:
        return [f"{search_url}?{urlencode({'q': term})}" for term in terms]

    return [
        Page("customer list", [list_url], f"{accounts:,} accounts"),
        Page(
            "customer list, filtered",
            [f"{list_url}?{urlencode({'office': 'perth', 'renewal_within': 90, 'product': product.pk})}"],
            f"{filtered:,} of {accounts:,} accounts match",
        ),
        Page("customer list, sorted by contract value", [f"{list_url}?sort=-value"], f"{accounts:,} accounts"),
        Page(
            "customer list, search",
            [f"{list_url}?{urlencode({'q': fragment})}" for fragment in data.name_fragments],
            f"{accounts:,} accounts",
        ),
        Page(
            "customer 360",
            [reverse("customers:account_detail", kwargs={"code": code}) for code in codes],
            f"{accounts:,} accounts, {related:,} related rows",
        ),
        # Alternate edited and never-edited accounts so both the "created" and the "changed"
        # paths of the History tab are measured on every run, however short.
        Page(
            "history tab",
            [
                reverse("customers:account_history", kwargs={"code": code})
                for code in _alternate(data.edited_codes, codes)
            ],
            f"{counts['history rows']:,} history rows",
        ),
        Page(
            "global search, name word",
            search(data.name_words),
            f"{accounts:,} accounts, {counts['contacts']:,} contacts",
        ),
        Page(
            "global search, email",
            search(data.sample_emails),
            f"{accounts:,} accounts, {counts['contacts']:,} contacts",
        ),
        Page("pipeline board", [f"{reverse('pipeline:board')}?view=none"], f"{counts['opportunities']:,} deals"),
        Page(
            "pipeline board, filtered",
            [f"{reverse('pipeline:board')}?{urlencode({'office': 'perth', 'source': 'referral'})}"],
            f"{counts['opportunities']:,} deals",
        ),
        Page("pipeline funnel", [f"{reverse('pipeline:funnel')}?view=none"], f"{counts['opportunities']:,} deals"),
        # A typo in a name word: no customer matches as typed, so close spellings are looked up.
        Page(
            "global search, misspelt name word",
            search([_misspelt(word) for word in data.name_words]),
            f"{accounts:,} accounts, {counts['contacts']:,} contacts",
        ),
        Page(
            "search type-ahead, name word",
            [f"{reverse('search_suggest')}?{urlencode({'q': word})}" for word in data.name_words],
            f"{accounts:,} accounts, {counts['contacts']:,} contacts",
        ),
        # A client code with no other match redirects straight to the customer 360.
        Page(
            "global search, client code",
            search(codes[len(codes) // 2 :] or codes),
            f"{accounts:,} accounts, {counts['contacts']:,} contacts",
            status=302,
        ),
    ]


class PageFailed(Exception):
    """A request answered with an unexpected status or raised; the run reports it and fails."""


def _get(client: Client, page: Page, url: str) -> None:
    try:
        response = client.get(url)
    except Exception as error:  # the page's own bug, reported in the table rather than a traceback
        raise PageFailed(f"GET {url} raised {type(error).__name__}: {error}") from error
    if response.status_code != page.status:
        raise PageFailed(f"GET {url} answered {response.status_code}, expected {page.status}")


def measure(client: Client, page: Page, *, warmup: int, requests: int) -> PageResult:
    """Untimed warm-up requests, then `requests` timed ones, each with its query count."""
    result = PageResult(page)
    try:
        for n in range(warmup):
            _get(client, page, page.urls[n % len(page.urls)])
        for n in range(requests):
            url = page.urls[(warmup + n) % len(page.urls)]
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                _get(client, page, url)
                elapsed = time.perf_counter() - start
            result.milliseconds.append(elapsed * 1000)
            result.queries.append(len(queries))
    except PageFailed as failure:
        result.error = str(failure)
    return result


def _verdict(result: PageResult, *, judge_time: bool) -> str:
    if result.error:
        return "FAILED (see below)"
    misses = []
    if judge_time and result.median >= TARGET_MEDIAN_MS:
        misses.append("median")
    if max(result.queries) > TARGET_MAX_QUERIES:
        misses.append("queries")
    return "MISSED: " + ", ".join(misses) if misses else "ok"


def _cells(result: PageResult, *, judge_time: bool) -> list[str]:
    if result.error:
        return [result.page.label, "-", "-", "-", result.page.rows, _verdict(result, judge_time=judge_time)]
    return [
        result.page.label,
        f"{result.median:.1f}",
        f"{result.p95:.1f}",
        result.query_label,
        result.page.rows,
        _verdict(result, judge_time=judge_time),
    ]


def report(
    out: OutputWrapper,
    results: list[PageResult],
    data: dataset.DataSet,
    *,
    database_label: str,
    command: str,
    requests: int,
    warmup: int,
) -> None:
    """The header (data size, database, command), the table, and the targets."""
    counts = data.counts
    sizes = ", ".join(f"{value:,} {name}" for name, value in counts.items())
    out.write("")
    out.write(f"bench pages: {sizes}")
    out.write(f"database: {database_label}")
    out.write(f"command: {command}")
    out.write("")
    full_size = counts["accounts"] >= TARGET_ACCOUNTS and connection.vendor == "postgresql"
    rows = [_cells(result, judge_time=full_size) for result in results]
    headers = ["page", "median ms", "p95 ms", "queries", "rows in data set", "target"]
    for line in markdown_table(headers, rows, right=[False, True, True, True, False, False]):
        out.write(line)
    out.write("")
    out.write(
        f"Targets: median < {TARGET_MEDIAN_MS:.0f} ms at {TARGET_ACCOUNTS:,} accounts on PostgreSQL; "
        f"<= {TARGET_MAX_QUERIES} queries per page; the same query count at any size "
        "(compare with a run at --accounts 1000)."
    )
    if not full_size:
        out.write(
            f"The median target is judged only at {TARGET_ACCOUNTS:,}+ accounts on PostgreSQL; "
            "this run checks query counts."
        )
    if connection.vendor != "postgresql":
        out.write(
            "Note: this ran on SQLite. Query counts hold everywhere, but the timings are only meaningful on "
            "PostgreSQL (set DATABASE_URL)."
        )
    out.write(
        f"Each page: {requests} timed requests after {warmup} warm-up requests; server time measured around "
        "django.test.Client.get with DEBUG off (no network, no connection set-up)."
    )
    for result in results:
        if result.error:
            out.write(f"FAILED {result.page.label}: {result.error}")


def run(options: dict[str, Any], out: OutputWrapper) -> None:
    sizes = dataset.Sizes(
        accounts=options["accounts"],
        contacts_per_account=options["contacts_per_account"],
        subscriptions_per_account=options["subscriptions_per_account"],
    )
    if sizes.accounts < 1 or sizes.contacts_per_account < 1 or sizes.subscriptions_per_account < 0:
        raise CommandError("Need at least one account and one contact per account.")
    if options["requests"] < 1 or options["warmup"] < 0:
        raise CommandError("--requests must be at least 1 and --warmup not negative.")
    command = command_line("pages", options, DEFAULTS)
    # Timings must not include DEBUG's query logging or debug error pages; the test client's
    # host must be allowed whatever the environment says.
    with (
        override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver"]),
        bench_database(
            purpose="pages",
            in_place=options["in_place"],
            keep=options["keep"],
            holds_data_set=lambda: dataset.holds(sizes),
            out=out,
        ) as database,
    ):
        if database.reused:
            out.write(f"Reusing the data set kept in {database.name}.")
            data = dataset.describe_existing()
        else:
            out.write(
                f"Building {sizes.accounts:,} accounts, {sizes.contacts:,} contacts and "
                f"{sizes.subscriptions:,} subscriptions on {database.describe()}..."
            )
            data = dataset.build(sizes)
            steps = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in data.build_seconds.items())
            out.write(f"Built in {sum(data.build_seconds.values()):.1f}s ({steps}).")
        client = Client(raise_request_exception=True)
        client.force_login(data.support_user)
        results = []
        for page in _pages(data):
            out.write(f"Measuring {page.label}...")
            results.append(measure(client, page, warmup=options["warmup"], requests=options["requests"]))
        report(
            out,
            results,
            data,
            database_label=database.describe(),
            command=command,
            requests=options["requests"],
            warmup=options["warmup"],
        )
    failed = [result.page.label for result in results if result.error]
    if failed:
        raise CommandError(f"{len(failed)} page(s) failed: {', '.join(failed)} (see the FAILED lines above).")


BENCHMARK = Benchmark(
    name="pages",
    help="Median and p95 server time and queries per page at 100,000 accounts (see cloudcore_crm/bench/pages.py).",
    add_arguments=add_arguments,
    run=run,
)
