"""Shared pieces of `manage.py bench`: the benchmark record, the dedicated bench database,
fast row loading, timing statistics and table printing."""

from __future__ import annotations

import math
import shlex
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser, OutputWrapper
from django.core.management.color import no_style
from django.db import connection, models

BATCH_SIZE = 5000


@dataclass(frozen=True)
class Benchmark:
    """One entry of the `manage.py bench` registry."""

    name: str
    help: str
    add_arguments: Callable[[CommandParser], None]
    run: Callable[[dict[str, Any], OutputWrapper], None]


# --- The dedicated bench database -------------------------------------------------------


@dataclass
class BenchDatabase:
    """Where a benchmark runs: a database made for it, or the current test database."""

    name: str
    vendor: str
    version: str
    in_place: bool
    reused: bool  # a kept database already held the requested data set

    def describe(self) -> str:
        where = "current test database" if self.in_place else "bench database"
        return f"{vendor_label(self.vendor)} {self.version} ({where} {Path(str(self.name)).name})"


def vendor_label(vendor: str) -> str:
    return {"postgresql": "PostgreSQL", "sqlite": "SQLite"}.get(vendor, vendor)


def _server_version() -> str:
    if connection.vendor == "postgresql":
        major, rest = divmod(connection.pg_version, 10000)
        return f"{major}.{rest}"
    if connection.vendor == "sqlite":
        import sqlite3

        return sqlite3.sqlite_version
    return ""


def _bench_database_name(purpose: str) -> str:
    """`bench_<purpose>_<name>`, never `test_<name>`, so a bench run and a test run (or two
    different benchmarks) can't clobber each other."""
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite":
        # Under var/ (git-ignored) rather than beside the developer's db.sqlite3.
        folder = Path(settings.BASE_DIR) / "var"
        folder.mkdir(exist_ok=True)
        return str(folder / f"bench_{purpose}_{Path(name).name}")
    return f"bench_{purpose}_{name}"


def is_disposable_database() -> bool:
    """True on a database made for tests or benchmarks, which `--in-place` may fill."""
    name = str(connection.settings_dict["NAME"] or "")
    base = Path(name).name
    return base.startswith(("test", "bench_")) or "mode=memory" in name or name == ":memory:"


@contextmanager
def bench_database(
    *, purpose: str, in_place: bool, keep: bool, holds_data_set: Callable[[], bool], out: OutputWrapper
) -> Iterator[BenchDatabase]:
    """Run the body on a database of its own, never the developer's.

    The database (`bench_<purpose>_<NAME>`) is created and migrated with Django's test database
    machinery and dropped afterwards unless `keep`. A kept database is reused next time
    when `holds_data_set()` says it already has the requested data, and rebuilt otherwise.
    With `in_place` (used by the test suite, which is already on a test database) the
    current database is used as it is.
    """
    if in_place:
        if not is_disposable_database():
            raise CommandError(
                f"--in-place fills the current database ({connection.settings_dict['NAME']}) with bench data; "
                "it only runs on a test or bench database."
            )
        yield BenchDatabase(
            name=str(connection.settings_dict["NAME"]),
            vendor=connection.vendor,
            version=_server_version(),
            in_place=True,
            reused=False,
        )
        return

    test_settings = connection.settings_dict.setdefault("TEST", {})
    saved_test_name = test_settings.get("NAME")
    old_name = connection.settings_dict["NAME"]
    test_settings["NAME"] = _bench_database_name(purpose)
    created = False
    try:
        connection.close()
        name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=keep)
        created = True
        reused = keep and holds_data_set()
        if keep and not reused and _has_rows():
            # A kept database from a run of another size: start again from empty tables.
            out.write(f"Kept bench database {name} holds another data set; recreating it.")
            connection.close()
            name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
        yield BenchDatabase(
            name=name, vendor=connection.vendor, version=_server_version(), in_place=False, reused=reused
        )
    finally:
        if created:
            connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=keep)
            out.write(f"{'Kept' if keep else 'Dropped'} bench database {test_settings['NAME']}.")
        else:
            connection.close()
            connection.settings_dict["NAME"] = old_name
            settings.DATABASES[connection.alias]["NAME"] = old_name
        test_settings["NAME"] = saved_test_name


def _has_rows() -> bool:
    from customers.models import Account

    return Account.objects.exists()


# --- Loading rows -------------------------------------------------------------------------


def chunks(rows: Iterable[Sequence[Any]], size: int = BATCH_SIZE) -> Iterator[list[Sequence[Any]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def load_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert raw rows (values in the order of `columns`, which are field attnames).

    Bench data bypasses `customers.services` on purpose: no ownership checks, no history
    written per save, no model `save()`. On PostgreSQL the rows go through COPY; elsewhere
    through batched executemany with each value prepared by its model field.
    """
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    unknown = [name for name in columns if name not in by_attname]
    if unknown:
        raise CommandError(f"{model.__name__} has no column {', '.join(unknown)}")
    fields = [by_attname[name] for name in columns]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    column_list = ", ".join(quote(f.column) for f in fields)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        sql = f"INSERT INTO {table} ({column_list}) VALUES ({', '.join(['%s'] * len(fields))})"
        prepare = [f.get_db_prep_save for f in fields]
        for batch in chunks(rows):
            cursor.executemany(
                sql, [[prep(value, connection) for prep, value in zip(prepare, row, strict=True)] for row in batch]
            )
            count += len(batch)
    return count


def load_dicts(model: type[models.Model], rows: Iterable[dict[str, Any]]) -> int:
    """`load_rows` for rows given as dicts of attname -> value, all with the keys of the first."""
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return 0
    return load_rows(model, list(first), (tuple(row.values()) for row in chain([first], iterator)))


def next_id(model: type[models.Model]) -> int:
    """The first free primary key: bench rows carry explicit ids so foreign keys need no look-up."""
    top = model._default_manager.aggregate(top=models.Max("pk"))["top"]
    return (top or 0) + 1


def reset_sequences(model_list: Sequence[type[models.Model]]) -> None:
    """Move id sequences past the explicit ids (a no-op on SQLite, which tracks them itself)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def analyze(model_list: Sequence[type[models.Model]]) -> None:
    """Refresh planner statistics after a bulk load, as autovacuum would on a live database.

    VACUUM also sets the visibility map (index-only scans) but cannot run inside a transaction.
    """
    if connection.vendor != "postgresql":
        return
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
    with connection.cursor() as cursor:
        for model in model_list:
            cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")


@contextmanager
def timed(label: str, timings: dict[str, float]) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[label] = time.perf_counter() - start


# --- Statistics and output ----------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear-interpolated percentile (0 <= fraction <= 1) of a non-empty sample."""
    if not values:
        raise ValueError("percentile of an empty sample")
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, right: Sequence[bool]) -> list[str]:
    """A Markdown table padded to line up in a terminal, so it reads well in both places."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        padded = [
            str(cell).rjust(width) if is_right else str(cell).ljust(width)
            for cell, width, is_right in zip(cells, widths, right, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if r else ("-" * (w + 2)) for w, r in zip(widths, right, strict=True))
    return [line(headers), rule + "|", *(line(row) for row in rows)]


def command_line(benchmark: str, options: dict[str, Any], parser_defaults: dict[str, Any]) -> str:
    """The command as typed, or, under `call_command`, an equivalent one built from the options."""
    argv = sys.argv
    if len(argv) > 2 and argv[1] == "bench":
        return shlex.join(["manage.py", *argv[1:]])
    parts = ["manage.py", "bench", benchmark]
    for name, default in parser_defaults.items():
        value = options.get(name, default)
        flag = "--" + name.replace("_", "-")
        if isinstance(default, bool):
            if value:
                parts.append(flag)
        elif value != default:
            parts += [flag, str(value)]
    return shlex.join(parts)
