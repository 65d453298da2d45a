"""`manage.py bench risk`: the support bridge at 100x today's size.

Builds the synthetic customer base of `bench pages` (default 100,000 accounts) plus a
million helpdesk tickets in a bench database of its own, then measures:

- the nightly churn-risk job (`support_bridge.services.recompute_risk`): its first run,
  which creates every score, and the next night's run; target under 60 s each;
- the agent lookup, JSON (token) and HTML, by client code, email fragment and ticket
  number: median server time, target under 50 ms;
- the signed webhook, updating existing tickets and creating new ones (including the
  single-account rescore it triggers): p99 server time, target under 100 ms.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import statistics
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.core.management.base import CommandError, CommandParser, OutputWrapper
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cloudcore_crm.bench import dataset
from cloudcore_crm.bench.common import (
    Benchmark,
    analyze,
    bench_database,
    command_line,
    load_rows,
    markdown_table,
    next_id,
    percentile,
    reset_sequences,
    timed,
)
from customers.models import Account
from support_bridge import services, signing
from support_bridge.choices import TicketPriority, TicketSource, TicketStatus
from support_bridge.models import RiskScore, Ticket

TARGET_ACCOUNTS = 100_000
TARGET_TICKETS = 1_000_000
TARGET_NIGHTLY_S = 60.0
TARGET_LOOKUP_MEDIAN_MS = 50.0
TARGET_WEBHOOK_P99_MS = 100.0
SEED = 20260505
DAYS = 730
SECRET = "bench-webhook-secret"
TOKEN = "bench-lookup-token"
PROVENANCE = "bench"
DEFAULTS: dict[str, Any] = {
    "accounts": TARGET_ACCOUNTS,
    "tickets": TARGET_TICKETS,
    "requests": 200,
    "webhooks": 500,
    "warmup": 10,
    "keep": False,
    "in_place": False,
}
TICKET_COLUMNS = (
    "id", "source", "external_id", "account_id", "contact_id", "product_id", "subject", "status", "priority",
    "opened_at", "resolved_at", "resolution_hours", "satisfaction", "helpdesk_org_id", "source_updated_at",
    "source_event_at", "provenance", "created_at", "updated_at",
)  # fmt: skip
PRIORITIES = [TicketPriority.LOW, TicketPriority.MEDIUM, TicketPriority.HIGH, TicketPriority.URGENT]
PRIORITY_WEIGHTS = [25, 50, 20, 5]


@dataclass
class Row:
    label: str
    seconds: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    size: str = ""
    target: str = ""
    judge: str = ""  # "median", "p99" or "total"
    limit: float = 0.0

    def cells(self, *, judged: bool) -> list[str]:
        ms = [s * 1000 for s in self.seconds]
        median, p95, p99 = statistics.median(ms), percentile(ms, 0.95), percentile(ms, 0.99)
        low, high = min(self.queries), max(self.queries)
        queries = str(low) if low == high else f"{low}-{high}"
        if self.judge == "total":
            figure = ms[0] / 1000
            timing = [f"{figure:.1f} s", "-", "-"]
        else:
            figure = {"median": median, "p99": p99}[self.judge]
            timing = [f"{median:.1f}", f"{p95:.1f}", f"{p99:.1f}"]
        verdict = ("ok" if figure < self.limit else "MISSED") if judged else "not judged"
        return [self.label, *timing, queries, self.size, self.target, verdict]


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("--accounts", type=int, default=DEFAULTS["accounts"], help="Accounts to generate.")
    parser.add_argument("--tickets", type=int, default=DEFAULTS["tickets"], help="Tickets to generate.")
    parser.add_argument("--requests", type=int, default=DEFAULTS["requests"], help="Timed lookups of each kind.")
    parser.add_argument("--webhooks", type=int, default=DEFAULTS["webhooks"], help="Timed webhook deliveries.")
    parser.add_argument("--warmup", type=int, default=DEFAULTS["warmup"], help="Untimed requests of each kind first.")
    parser.add_argument("--keep", action="store_true", help="Keep the bench database and reuse it next time.")
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="Load into the current database (tests only: it must be a test database).",
    )


def _ticket_rows(count: int, rng: random.Random, now: dt.datetime) -> list[tuple]:
    """Heavy-tailed like a real helpdesk: a few clients raise most tickets."""
    accounts = list(Account.objects.order_by("pk").values_list("pk", flat=True))
    weights = [rng.lognormvariate(0, 1.0) for _ in accounts]
    owners = rng.choices(accounts, weights, k=count)
    first_id = next_id(Ticket)
    rows = []
    for n, account_id in enumerate(owners):
        opened = now - dt.timedelta(days=rng.random() * DAYS)
        recent = (now - opened).days < 14
        solved = not recent or rng.random() < 0.6
        priority = rng.choices(PRIORITIES, PRIORITY_WEIGHTS)[0]
        hours = Decimal(rng.lognormvariate(2, 0.8)).quantize(Decimal("0.01"))
        resolved = opened + dt.timedelta(hours=float(hours)) if solved else None
        rating = max(0, min(10, round(rng.gauss(8, 1.6)))) if solved and rng.random() < 0.45 else None
        rows.append(
            (
                first_id + n,
                TicketSource.ZENDESK,
                str(first_id + n),
                account_id,
                None,
                None,
                "Printer offline",
                TicketStatus.CLOSED if solved else TicketStatus.OPEN,
                priority,
                opened,
                resolved,
                hours if solved else None,
                rating,
                "",
                resolved or opened,
                resolved or opened,
                PROVENANCE,
                now,
                now,
            )
        )
    return rows


def _build_tickets(count: int, timings: dict[str, float]) -> None:
    rng, now = random.Random(SEED), timezone.now()
    with timed("tickets", timings):
        rows = _ticket_rows(count, rng, now)
        load_rows(Ticket, TICKET_COLUMNS, rows)
        reset_sequences([Ticket])
    with timed("analyze tickets", timings):
        analyze([Ticket])


def _measure(client: Client, label: str, requests: list[dict[str, Any]], *, warmup: int) -> Row:
    row = Row(label)
    for n, request in enumerate(requests):
        method = client.post if "data" in request else client.get
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = method(**request)
            elapsed = time.perf_counter() - start
        if response.status_code not in (200, 202):
            raise CommandError(
                f"{label}: {request['path']} answered {response.status_code}: {response.content[:200]!r}"
            )
        if n >= warmup:
            row.seconds.append(elapsed)
            row.queries.append(len(queries))
    return row


def _lookup_requests(data: dataset.DataSet, count: int, rng: random.Random) -> list[str]:
    ticket_ids = list(Ticket.objects.order_by("?").values_list("external_id", flat=True)[:count])
    terms = [*data.sample_codes[:count], *data.sample_emails[:count], *(f"#{t}" for t in ticket_ids)]
    rng.shuffle(terms)
    return terms[:count]


def _webhook_bodies(count: int, rng: random.Random) -> list[bytes]:
    sample = list(Ticket.objects.order_by("?").values_list("external_id", "account__code", "opened_at")[:count])
    now = timezone.now()
    bodies = []
    for n in range(count):
        if n % 5 == 4 or not sample:  # one in five is a brand-new ticket
            ticket_id, code, opened = f"new-{n}-{rng.randrange(10**9)}", rng.choice(sample)[1], now
        else:
            ticket_id, code, opened = sample[n % len(sample)]
        updated = now + dt.timedelta(seconds=n)
        detail = {
            "created_at": opened.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "external_id": code,
            "id": ticket_id,
            "organization_id": "",
            "priority": rng.choice(["LOW", "NORMAL", "HIGH", "URGENT"]),
            "status": rng.choice(["OPEN", "PENDING", "SOLVED"]),
            "subject": "Bench ticket event",
            "tags": [],
            "updated_at": updated.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        payload = {
            "detail": detail,
            "id": f"bench-{n}-{rng.randrange(10**12)}",
            "time": detail["updated_at"],
            "type": "zen:event-type:ticket.status_changed",
        }
        bodies.append(json.dumps(payload).encode())
    return bodies


def _signed(body: bytes) -> dict[str, Any]:
    stamp = timezone.now().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "path": reverse("support_api:webhook"),
        "data": body,
        "content_type": "application/json",
        "HTTP_X_SIGNATURE_TIMESTAMP": stamp,
        "HTTP_X_SIGNATURE": signing.sign(SECRET, stamp, body),
    }


def run(options: dict[str, Any], out: OutputWrapper) -> None:
    sizes = dataset.Sizes(accounts=options["accounts"], contacts_per_account=3, subscriptions_per_account=2)
    if sizes.accounts < 1 or options["tickets"] < 1 or options["requests"] < 1 or options["webhooks"] < 1:
        raise CommandError("Need at least one account, ticket, request and webhook.")
    command = command_line("risk", options, DEFAULTS)
    rng = random.Random(SEED)
    with (
        override_settings(
            DEBUG=False,
            ALLOWED_HOSTS=["testserver"],
            SUPPORT_WEBHOOK_SECRETS=[SECRET],
            SUPPORT_LOOKUP_API_TOKENS=[TOKEN],
            CELERY_TASK_ALWAYS_EAGER=True,
            # Alert emails are sent by a worker in production; keep them off the console here.
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        ),
        bench_database(
            purpose="risk",
            in_place=options["in_place"],
            keep=options["keep"],
            # Tickets the webhook measurement created don't count: they carry their event as provenance.
            holds_data_set=lambda: (
                dataset.holds(sizes) and Ticket.objects.filter(provenance=PROVENANCE).count() == options["tickets"]
            ),
            out=out,
        ) as database,
    ):
        if database.reused:
            out.write(f"Reusing the data set kept in {database.name}.")
            data = dataset.describe_existing()
            RiskScore.objects.all().delete()
        else:
            out.write(
                f"Building {sizes.accounts:,} accounts and {options['tickets']:,} tickets on {database.describe()}..."
            )
            data = dataset.build(sizes)
            _build_tickets(options["tickets"], data.build_seconds)
            steps = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in data.build_seconds.items())
            out.write(f"Built in {sum(data.build_seconds.values()):.1f}s ({steps}).")
        accounts, tickets = Account.objects.count(), Ticket.objects.count()
        size = f"{accounts:,} accounts, {tickets:,} tickets"
        rows: list[Row] = []

        out.write("Measuring the nightly risk job (first run)...")
        for label in ("nightly risk job, first run", "nightly risk job, next night"):
            row = Row(label, size=size, target=f"< {TARGET_NIGHTLY_S:.0f} s", judge="total", limit=TARGET_NIGHTLY_S)
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                result = services.recompute_risk()
                row.seconds.append(time.perf_counter() - start)
            row.queries.append(len(queries))
            row.label += f" ({result.created + result.changed:,} scores written, {result.alerts:,} alerts)"
            rows.append(row)

        warmup, count = options["warmup"], options["requests"]
        terms = _lookup_requests(data, count + warmup, rng)
        api = Client()
        out.write("Measuring the agent lookup...")
        api_requests = [
            {"path": f"{reverse('support_api:lookup')}?{urlencode({'q': t})}", "HTTP_AUTHORIZATION": f"Token {TOKEN}"}
            for t in terms
        ]
        page = Client()
        page.force_login(data.support_user)
        page_requests = [{"path": f"{reverse('support:lookup')}?{urlencode({'q': t})}"} for t in terms]
        for label, client, requests in (
            ("agent lookup, JSON with token", api, api_requests),
            ("agent lookup, HTML page", page, page_requests),
        ):
            row = _measure(client, label, requests, warmup=min(warmup, len(requests) - 1))
            row.size, row.target, row.judge, row.limit = size, "median < 50 ms", "median", TARGET_LOOKUP_MEDIAN_MS
            rows.append(row)

        out.write("Measuring the webhook...")
        bodies = _webhook_bodies(options["webhooks"] + warmup, rng)
        row = _measure(Client(), "webhook, signed ticket event", [_signed(b) for b in bodies], warmup=warmup)
        row.size, row.target, row.judge, row.limit = size, "p99 < 100 ms", "p99", TARGET_WEBHOOK_P99_MS
        rows.append(row)

        judged = accounts >= TARGET_ACCOUNTS and tickets >= TARGET_TICKETS and connection.vendor == "postgresql"
        out.write("")
        out.write(f"bench risk: {size}")
        out.write(f"database: {database.describe()}")
        out.write(f"command: {command}")
        out.write("")
        headers = ["measure", "median ms", "p95 ms", "p99 ms", "queries", "data size", "target", "verdict"]
        right = [False, True, True, True, True, False, False, False]
        for line in markdown_table(headers, [r.cells(judged=judged) for r in rows], right=right):
            out.write(line)
        out.write("")
        out.write(
            f"Targets (judged at {TARGET_ACCOUNTS:,} accounts and {TARGET_TICKETS:,} tickets on PostgreSQL): "
            f"nightly job < {TARGET_NIGHTLY_S:.0f} s; lookup median < {TARGET_LOOKUP_MEDIAN_MS:.0f} ms; "
            f"webhook p99 < {TARGET_WEBHOOK_P99_MS:.0f} ms."
        )
        out.write(
            f"Lookups: {count} of each kind after {warmup} warm-up, by client code, email fragment and ticket number. "
            f"Webhook: {options['webhooks']} deliveries (4 in 5 update an existing ticket, 1 in 5 is new), each with "
            "the single-account rescore it triggers. Server time around django.test.Client with DEBUG off."
        )
        if connection.vendor != "postgresql":
            out.write("Note: this ran on SQLite; only PostgreSQL timings are meaningful (set DATABASE_URL).")


BENCHMARK = Benchmark(
    name="risk",
    help="Nightly churn-risk job, agent lookup and webhook at 100,000 accounts and 1,000,000 tickets.",
    add_arguments=add_arguments,
    run=run,
)
