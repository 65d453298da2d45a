"""Parsing the big CSV exports in a second process while the run decides earlier files.

A run decides rows one after another in one Python process, in precedence order, and most
of a big import is that Python work; the machine's second core sat idle. The exports that
come after the client master (Xero's, Outlook's and the helpdesk's) are CSV files whose
rows can be read and parsed without the database or the run (`Importer.parse_row`). When
they are big, a second process (`python -m migration.prefetch`) parses them, in the run's
order, while the client master is decided, and writes each file's parsed rows to a
temporary file; the run reads them back when it reaches the file.

A file's outcome is the same either way: the same rows, warnings and rejections in the
same order, and a file refused part-way is refused at the same row (the run's transaction
for it rolls back as before). If the second process cannot start, fails or is killed, the
run reads the rest of the files itself.

    with Prefetch.start([(path, store), ...]) as prefetch:
        found = prefetch.take(path)   # None: read the file as usual
        if found:
            table, parsed = found     # `Importer.run(table, parsed)`

Nothing here imports Django at module level: the second process imports this module
before it sets Django up.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from cloudcore_crm.lib.headers import MissingColumnsError
from migration.readers import FileRefused, SourceRow, Table, csv_table

logger = logging.getLogger(__name__)

BATCH = 2000  # rows per pickled batch: bounds the memory of both processes
WAIT_SECONDS = 600  # for one file; a second process this late is presumed stuck


class Prefetch:
    """The second process and the files it has parsed."""

    def __init__(self, jobs: list[tuple[Path, str]], process: subprocess.Popen | None, folder: Path | None):
        self._index = {path: number for number, (path, _) in enumerate(jobs)}
        self._process = process
        self._folder = folder
        self._ready: set[int] = set()
        self._pending = b""

    @classmethod
    def start(cls, jobs: list[tuple[Path, str]]) -> Prefetch:
        """Start parsing `jobs` ((path, store) in the order the run imports them); with
        no jobs, or when the process cannot start, nothing is prefetched."""
        if not jobs:
            return cls([], None, None)
        from django.conf import settings

        folder = Path(tempfile.mkdtemp(prefix="import-prefetch-"))
        spec = {
            "folder": str(folder),
            "jobs": [[str(path), store] for path, store in jobs],
            # The one setting parsing reads (helpdesk times without a zone are in this one).
            "helpdesk_time_zone": settings.SUPPORT_HELPDESK_TIME_ZONE,
        }
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "migration.prefetch", json.dumps(spec)],
                cwd=settings.BASE_DIR,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                bufsize=0,
            )
        except OSError:
            logger.exception("Could not start the second process to parse the exports; the run reads them itself")
            shutil.rmtree(folder, ignore_errors=True)
            return cls([], None, None)
        return cls(jobs, process, folder)

    def __enter__(self) -> Prefetch:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._stop()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def _stop(self) -> None:
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()
            self._process.stdout.close()
            self._process = None

    def take(self, path: Path):
        """The file's table (its headers) and its parsed rows, once the second process
        has them, or None when it has not and will not (the run then reads the file)."""
        number = self._index.get(path)
        if number is None or not self._wait_for(number):
            return None
        handle = open(self._folder / f"{number}.pickle", "rb")  # noqa: SIM115 - closed by _rows
        table = _table(handle)
        return table, _rows(handle, table.sheet)

    def _wait_for(self, number: int) -> bool:
        deadline = time.monotonic() + WAIT_SECONDS
        while number not in self._ready:
            if self._process is None:
                return False
            remaining = deadline - time.monotonic()
            readable, _, _ = select.select([self._process.stdout], [], [], max(remaining, 0))
            chunk = os.read(self._process.stdout.fileno(), 4096) if readable else b""
            if not chunk:  # finished (or died) without this file, or stuck
                if not readable:
                    logger.error("The second process parsing the exports is stuck; the run reads them itself")
                elif self._process.wait() != 0:
                    logger.error("The second process parsing the exports failed; the run reads them itself")
                self._stop()  # the files it finished stay readable until the run closes
                return False
            self._pending += chunk
            *lines, self._pending = self._pending.split(b"\n")
            self._ready.update(int(line) for line in lines if line.strip())
        return True


def _table(handle) -> Table:
    kind, *rest = pickle.load(handle)
    if kind == "refused":
        handle.close()
        raise FileRefused(rest[0])
    if kind == "missing":
        handle.close()
        raise MissingColumnsError(rest[0])
    sheet, header_row, headers = rest
    return Table(sheet, header_row, headers, iter(()))


def _rows(handle, sheet: str) -> Iterator:
    from migration.importers.base import ParsedRow

    try:
        while True:
            kind, payload = pickle.load(handle)
            if kind == "end":
                return
            if kind == "refused":
                raise FileRefused(payload)
            for number, cells, parsed_kind, value in payload:
                yield ParsedRow(PrefetchedRow(sheet, number, cells), parsed_kind, value)
    finally:
        handle.close()


class PrefetchedRow(SourceRow):
    """A row the second process parsed. Its cells come pickled and are unpickled only when
    asked for (a rejected row's line in the report): unpickling every row's cells cost the
    run more than a third of what the second process saved it."""

    def __init__(self, sheet: str, number: int, cells: bytes):
        self.sheet, self.number, self._cells = sheet, number, cells

    @property
    def values(self) -> list[object]:
        return pickle.loads(self._cells)


# --- The second process ----------------------------------------------------------------------


def _parse_files(spec: dict) -> None:
    from django.conf import settings

    settings.SUPPORT_HELPDESK_TIME_ZONE = spec["helpdesk_time_zone"]
    folder = Path(spec["folder"])
    for number, (path, store) in enumerate(spec["jobs"]):
        part = folder / f"{number}.part"
        with open(part, "wb") as out:
            _parse_file(Path(path), store, out)
        part.rename(folder / f"{number}.pickle")
        sys.stdout.write(f"{number}\n")
        sys.stdout.flush()


def _parse_file(path: Path, store: str, out) -> None:
    from migration.importers.base import parsed_rows
    from migration.services import IMPORTERS

    importer = IMPORTERS[store]

    def dump(item) -> None:  # a pickle of its own each: the reader loads them one by one
        pickle.dump(item, out, protocol=pickle.HIGHEST_PROTOCOL)

    try:
        table = csv_table(path, [importer.header_map])
        rows = parsed_rows(importer, table, path.name)
    except FileRefused as refused:
        dump(("refused", str(refused)))
        return
    except MissingColumnsError as missing:
        dump(("missing", missing.missing))
        return
    dump(("table", table.sheet, table.header_row, table.headers))
    batch = []
    try:
        for row, kind, value in rows:
            cells = pickle.dumps(row.values, protocol=pickle.HIGHEST_PROTOCOL)
            batch.append((row.number, cells, kind, value))
            if len(batch) >= BATCH:
                dump(("rows", batch))
                batch = []
    except FileRefused as refused:
        dump(("rows", batch))
        dump(("refused", str(refused)))
        return
    dump(("rows", batch))
    dump(("end", None))


if __name__ == "__main__":
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudcore_crm.settings")
    django.setup()
    _parse_files(json.loads(sys.argv[1]))
