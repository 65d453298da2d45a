"""Smoke test of `manage.py bench pages` on tiny data sets built in the test database."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from cloudcore_crm.bench.pages import TARGET_MAX_QUERIES

PAGES = (
    "customer list",
    "customer list, filtered",
    "customer list, sorted by contract value",
    "customer list, search",
    "customer 360",
    "history tab",
    "global search, name word",
    "global search, email",
    "global search, misspelt name word",
    "search type-ahead, name word",
    "global search, client code",
)
# A misspelt word may still match a customer as typed in a tiny data set (then no close
# spellings are looked up), so its query count may vary between requests.
VARYING = ("history tab", "global search, misspelt name word", "search type-ahead, name word")


def run_bench(accounts: int) -> str:
    out = io.StringIO()
    call_command(
        "bench", "pages", "--accounts", str(accounts), "--requests", "3", "--warmup", "1", "--in-place", stdout=out
    )
    return out.getvalue()


def table(output: str) -> dict[str, list[str]]:
    """Rows of the printed Markdown table, keyed by page."""
    rows = {}
    for line in output.splitlines():
        if line.startswith("| ") and not line.startswith("| page "):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            rows[cells[0]] = cells
    return rows


def most_queries(cell: str) -> int:
    """The query count, or the top of a range such as "12-14"."""
    return int(cell.rsplit("-", 1)[-1])


@pytest.mark.django_db
def test_bench_pages_measures_every_page_with_the_same_queries_at_two_sizes():
    small_output = run_bench(12)
    # The second run adds 24 accounts to the first 12: the same pages over three times the data.
    large_output = run_bench(24)
    small, large = table(small_output), table(large_output)

    assert "bench pages: 12 accounts, 36 contacts, 24 subscriptions" in small_output
    assert "bench pages: 36 accounts, 108 contacts, 72 subscriptions" in large_output
    assert "command: manage.py bench pages --accounts 12 --requests 3 --warmup 1 --in-place" in small_output
    assert "Targets: median < 50 ms" in small_output
    for page in PAGES:
        assert float(small[page][1]) > 0 and float(small[page][2]) >= float(small[page][1])
        assert most_queries(small[page][3]) <= TARGET_MAX_QUERIES, f"{page}: {small[page][3]} queries"
    # The History tab looks up each related model (users, contacts, products) once, and only
    # when the account's history mentions one, so its count depends on the account: bounded,
    # but not one number. Every other page runs the same queries for any account or search.
    constant = [page for page in PAGES if page not in VARYING]
    for page in constant:
        assert small[page][3].isdigit(), f"{page}: query count varies between requests ({small[page][3]})"
    assert {page: small[page][3] for page in constant} == {page: large[page][3] for page in constant}
    for page in VARYING:
        assert most_queries(large[page][3]) <= TARGET_MAX_QUERIES


def test_bench_refuses_to_fill_a_database_in_place_unless_it_is_a_test_database(monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "NAME", "crm")
    with pytest.raises(CommandError, match="only runs on a test or bench database"):
        call_command("bench", "pages", "--accounts", "1", "--in-place", stdout=io.StringIO())
