"""`manage.py bench import`: how fast the legacy estate imports, against a bare parse.

Generates an estate (default 10,000 clients) with `generate_legacy_samples`' code, times
openpyxl's plain read-only parse (and csv's) of the same files as the floor, then runs the
real import (`migration.services.run_import`) in a bench database of its own and prints
rows per second per store and the ratio of import time to bare parse time.

Target: the import within 3x of the bare parse. The machine's speed drifts by 10-40%
over minutes, so the import runs `--repeat` times (3 by default), each in a new bench
database and compared with the parses timed just before and just after it; the verdict is
on the median of those ratios, not on the best run.
"""

from __future__ import annotations

import csv
import logging
import shutil
import statistics
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from celery.signals import task_postrun, task_prerun
from django.core.management.base import CommandError, CommandParser, OutputWrapper
from django.test.utils import override_settings
from openpyxl import load_workbook

from cloudcore_crm.bench.common import Benchmark, bench_database, command_line, markdown_table
from customers.demo import ensure_demo_users
from migration.legacy_estate import write_estate

PARSE_REPEATS = 3
IMPORT_REPEATS = 3
DEFAULTS = {"clients": 10_000, "seed": 2026, "keep": False, "in_place": False, "estate": None, "repeat": None}


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("--clients", type=int, default=DEFAULTS["clients"], help="Clients in the generated estate.")
    parser.add_argument("--seed", type=int, default=DEFAULTS["seed"])
    parser.add_argument("--keep", action="store_true", help="Keep the bench database afterwards.")
    parser.add_argument("--in-place", action="store_true", help="Use the current (test) database.")
    parser.add_argument(
        "--estate",
        type=Path,
        help="Keep the generated estate in this folder, and reuse it when it is already there "
        "(generating 10,000 clients takes a minute).",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        help=f"Imports to time, each in a new bench database (default {IMPORT_REPEATS}; 1 with --in-place).",
    )


def bare_parse_seconds(directory: Path) -> tuple[float, int]:
    """Time to read every cell of every file with no processing: the floor for an import."""
    from migration.services import importable

    rows = 0
    started = time.perf_counter()
    for path in importable(directory.iterdir()):  # the files the import reads, no more
        if path.suffix == ".xlsx":
            book = load_workbook(path, read_only=True, data_only=True)
            for sheet in book.worksheets:
                for _ in sheet.iter_rows(values_only=True):
                    rows += 1
            book.close()
        elif path.suffix == ".csv":
            encoding = "cp1252" if "outlook" in path.name else "utf-8-sig"
            with open(path, newline="", encoding=encoding) as handle:
                rows += sum(1 for _ in csv.reader(handle))
    return time.perf_counter() - started, rows


def reader_seconds(directory: Path) -> float:
    """Time for the import's own readers to hand over every row (header search, formula
    check, hidden sheets), with nothing done to the rows."""
    from migration.readers import FileRefused, csv_table, sniff_kind, xlsx_tables
    from migration.services import IMPORTERS, importable

    maps = [importer.header_map for importer in IMPORTERS.values()]
    started = time.perf_counter()
    for path in importable(directory.iterdir()):
        if path.suffix not in (".xlsx", ".csv"):
            continue
        try:
            tables = xlsx_tables(path, maps) if sniff_kind(path) == "xlsx" else [csv_table(path, maps)]
            for table in tables:
                for _ in table.rows:
                    pass
        except FileRefused:
            continue
    return time.perf_counter() - started


class _TaskClock:
    """Seconds spent in Celery tasks run in-process during the import (the churn-risk
    rescoring and alert emails the imported tickets queue after commit; with Redis they
    run on a worker, off the import's path)."""

    def __init__(self):
        self.seconds = 0.0
        self.by_task: dict[str, list[float]] = {}  # task name -> [runs, seconds]
        self._started: dict[str, float] = {}

    def __enter__(self):
        task_prerun.connect(self._prerun)
        task_postrun.connect(self._postrun)
        return self

    def __exit__(self, *exc):
        task_prerun.disconnect(self._prerun)
        task_postrun.disconnect(self._postrun)

    def _prerun(self, task_id=None, **kwargs):
        self._started[task_id] = time.perf_counter()

    def _postrun(self, task_id=None, task=None, **kwargs):
        seconds = time.perf_counter() - self._started.pop(task_id, time.perf_counter())
        self.seconds += seconds
        totals = self.by_task.setdefault(task.name.rsplit(".", 1)[-1] if task else "?", [0, 0.0])
        totals[0] += 1
        totals[1] += seconds


@contextmanager
def _quiet(logger_name: str):
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


@dataclass
class _Timed:
    """One timed import and the parse floor around it."""

    report: dict  # the run's report (the bench database is gone by the time it is printed)
    seconds: float
    tasks: float
    by_task: dict[str, list[float]]
    floor: float  # the fastest parse just before and just after this import

    @property
    def ratio(self) -> float:
        return self.seconds / self.floor if self.floor else float("inf")

    @property
    def ratio_without_tasks(self) -> float:
        return (self.seconds - self.tasks) / self.floor if self.floor else float("inf")


def run(options: dict[str, Any], out: OutputWrapper) -> None:
    repeat = options.get("repeat") or (1 if options["in_place"] else IMPORT_REPEATS)
    if repeat < 1 or (repeat > 1 and options["in_place"]):
        raise CommandError("--repeat is at least 1, and above 1 needs a new bench database per import (no --in-place).")
    kept = options.get("estate")
    directory = kept or Path(tempfile.mkdtemp(prefix="bench-estate-"))
    try:
        generated = time.perf_counter()
        if kept and (kept / "truth.json").exists():
            generated = None
        else:
            directory.mkdir(parents=True, exist_ok=True)
            write_estate(directory, seed=options["seed"], clients=options["clients"])
            generated = time.perf_counter() - generated
        # Each import's floor is the fastest of the parses just before it and just after
        # it: on a shared machine one parse alone swung between 5.5 and 9.3 s, and its
        # speed drifts over minutes, so an import is compared with parses of its own time.
        before = [bare_parse_seconds(directory) for _ in range(PARSE_REPEATS)]
        parse_rows = before[0][1]
        read_seconds = min(reader_seconds(directory) for _ in range(PARSE_REPEATS))
        runs: list[_Timed] = []
        where = ""
        for _ in range(repeat):
            forget_remembered_values()  # each import starts as cold as the first
            seconds, tasks, report, where = _timed_import(options, directory, out)
            after = [bare_parse_seconds(directory) for _ in range(PARSE_REPEATS)]
            floor = min(secs for secs, _ in before + after)
            runs.append(_Timed(report, seconds, tasks.seconds, tasks.by_task, floor))
            before = after
        timings = {"read": read_seconds, "generate": generated}
        _print(out, options, where, runs, timings, parse_rows)
    finally:
        if not kept:
            shutil.rmtree(directory, ignore_errors=True)


def forget_remembered_values() -> None:
    """Empty the memos an import fills with what it met (names, ABNs, dates, amounts,
    cleaned field values), so a second import in this process times the work again
    rather than the answers the first one left behind."""
    from customers import bulk
    from customers.billing_cadence import stated_period
    from customers.dedupe import _name_block_keys
    from customers.matching import name_key
    from customers.validators import _checksum_holds
    from migration.names import _product_key
    from migration.parsing import _date_from_text, _money_from_text

    memos = (
        name_key,
        _checksum_holds,
        _name_block_keys,
        _date_from_text,
        _money_from_text,
        stated_period,
        _product_key,
    )
    for memo in memos:
        memo.cache_clear()
    for remembered in bulk._CLEANED.values():
        remembered.clear()


def _timed_import(options: dict[str, Any], directory: Path, out: OutputWrapper):
    """One import of the estate in a bench database of its own: (seconds, task clock,
    the run's report, where it ran)."""
    from migration.services import run_import

    # Alerts the imported tickets raise are mailed to a memory outbox, not the console.
    quiet_mail = override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
    with (
        quiet_mail,
        bench_database(
            purpose="import",
            in_place=options["in_place"],
            keep=options["keep"],
            holds_data_set=lambda: False,
            out=out,
        ) as database,
    ):
        users, _ = ensure_demo_users()
        started = time.perf_counter()
        with _TaskClock() as tasks, _quiet("celery.app.trace"):  # one line per eager task otherwise
            imported = run_import(paths=list(directory.iterdir()), actor=users["data_steward"])
        return time.perf_counter() - started, tasks, imported.report, database.describe()


def _median_run(runs: list[_Timed]) -> _Timed:
    """The run whose ratio is the median (the lower middle one of an even number)."""
    ordered = sorted(runs, key=lambda r: r.ratio)
    return ordered[(len(ordered) - 1) // 2]


def _print(out, options, where, runs: list[_Timed], timings: dict[str, float], parse_rows: int) -> None:
    generated = timings["generate"]
    median = _median_run(runs)
    seconds, parse_seconds = median.seconds, median.floor
    out.write(f"bench import: {options['clients']:,} clients, {parse_rows:,} rows in the estate, on {where}")
    out.write(f"command: {command_line('import', options, DEFAULTS)}")
    if generated is None:
        out.write(f"estate reused from {options['estate']} (its own --clients and --seed)")
    else:
        out.write(f"estate generated in {generated:.1f} s")
    if len(runs) > 1:
        out.write(f"per store, the median run of {len(runs)} (run {runs.index(median) + 1}):")
    per_store: dict[str, list[float]] = {}
    for entry in median.report["files"]:
        store = entry.get("store") or "-"
        rows_read = sum(v for k, v in entry["counts"].items() if k in _ROW_KEYS)
        totals = per_store.setdefault(store, [0, 0.0, 0.0])
        totals[0] += rows_read
        totals[1] += entry.get("seconds", 0.0)
        totals[2] += entry.get("write_seconds", 0.0)
    table = [
        [store, f"{int(n):,}", f"{secs:.2f}", f"{writing:.2f}", f"{n / secs:,.0f}" if secs else "-"]
        for store, (n, secs, writing) in sorted(per_store.items())
    ]
    files_seconds = sum(t[1] for t in per_store.values())
    writing_seconds = sum(t[2] for t in per_store.values())
    table.append(
        ["all", f"{int(sum(t[0] for t in per_store.values())):,}", f"{files_seconds:.2f}", f"{writing_seconds:.2f}", ""]
    )
    headers = ["store", "rows", "seconds", "of which writing", "rows/s"]
    for line in markdown_table(headers, table, right=[False, True, True, True, True]):
        out.write(line)
    out.write("")
    tasks = median.tasks
    out.write(
        f"outside the files (recognising them, the COPYs still being written, the commit, the report): "
        f"{seconds - tasks - files_seconds:.2f} s; "
        f"reading and deciding rows: {files_seconds - writing_seconds:.2f} s; writing: {writing_seconds:.2f} s; "
        f"tasks queued after commit, run in-process here: {tasks:.2f} s ("
        + ", ".join(f"{name} x{int(count)}: {secs:.2f} s" for name, (count, secs) in sorted(median.by_task.items()))
        + ")"
    )
    out.write("")
    if len(runs) > 1:
        rows = [
            [str(i), f"{r.seconds:.2f}", f"{r.floor:.2f}", f"{r.ratio:.1f}x", f"{r.ratio_without_tasks:.1f}x"]
            for i, r in enumerate(runs, start=1)
        ]
        headers = ["run", "import s", "parse floor s", "ratio", "without after-commit tasks"]
        for line in markdown_table(headers, rows, right=[True, True, True, True, True]):
            out.write(line)
        out.write("")
    ratio = statistics.median(r.ratio for r in runs)
    without_tasks = statistics.median(r.ratio_without_tasks for r in runs)
    of_runs = f"median of {len(runs)} runs" if len(runs) > 1 else "one run"
    out.write(
        f"bare openpyxl/csv parse (fastest of {PARSE_REPEATS} before the import and {PARSE_REPEATS} after): "
        f"{parse_seconds:.2f} s   "
        f"the import's readers alone: {timings['read']:.2f} s   "
        f"import: {seconds:.2f} s   ratio ({of_runs}): {ratio:.1f}x "
        f"({without_tasks:.1f}x without the after-commit tasks)"
    )
    out.write(f"target: import within 3x of the bare parse -> {'ok' if ratio <= 3 else 'MISSED'}")


_ROW_KEYS = {"created", "updated", "unchanged", "rejected", "held for review", "skipped", "read", "conflict"}

BENCHMARK = Benchmark(
    name="import",
    help="Import a generated legacy estate and compare with a bare openpyxl parse.",
    add_arguments=add_arguments,
    run=run,
)
