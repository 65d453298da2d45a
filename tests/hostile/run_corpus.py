"""Imports every file of a hostile corpus, one after another, in this process, and prints
one JSON line per file: what became of it, its peak RSS, and any traceback.

`python -m tests.hostile.run_corpus DIR` with DATABASE_URL pointing at a scratch database
(it is migrated here). Each file goes through the legacy import (a dry run, as a steward
previews an upload) and through the ticket import. The peak RSS is reset before each
file (Linux `clear_refs`), so the figure is that file's own. An address-space limit keeps a
runaway allocation from taking the machine down with it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import resource
import sys
import time
import traceback
from pathlib import Path

ADDRESS_SPACE_LIMIT = 3 * 1024**3


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def reset_peak() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


class TracebackCatcher(logging.Handler):
    """Any log record carrying an exception is a traceback the user would have met."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.caught: list[str] = []

    def emit(self, record):
        if record.exc_info:
            self.caught.append("".join(traceback.format_exception(*record.exc_info))[-2000:])


def main(directory: Path) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudcore_crm.settings")
    os.environ["MIGRATION_PARSE_APART_BYTES"] = "0"  # parse here, where the RSS is measured
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from customers.demo import ensure_demo_users
    from migration.choices import FileStatus, RunStatus
    from migration.services import run_import
    from support_bridge.services import import_tickets

    users, _ = ensure_demo_users()
    steward = users["data_steward"]
    catcher = TracebackCatcher()
    logging.getLogger().addHandler(catcher)
    logging.getLogger().setLevel(logging.WARNING)

    for path in sorted(directory.iterdir()):
        print(json.dumps({"starting": path.name}), flush=True)
        outcome: dict = {"file": path.name, "tracebacks": []}
        catcher.caught = []
        reset_peak()
        started = time.perf_counter()
        try:
            run = run_import(paths=[path], actor=steward, dry_run=True)
            files = list(run.files.values("status", "message", "counts"))
            outcome["legacy"] = {"run": run.status, "files": files, "warnings": run.report.get("warnings", [])}
            if run.status == RunStatus.RUNNING:
                outcome["tracebacks"].append("the run was left running")
            for item in files:
                if item["status"] == FileStatus.FAILED:
                    outcome["tracebacks"].append(f"file failed: {item['message']}")
        except Exception:
            outcome["tracebacks"].append(traceback.format_exc()[-2000:])
        try:
            result = import_tickets(
                data=path.read_bytes(), name=path.name, actor=steward, reason="hostile corpus", dry_run=True
            )
            outcome["tickets"] = {
                "rows": result.rows,
                "rejected": len(result.rejected),
                "refused": getattr(result, "refused", ""),
                "missing": result.missing_columns,
            }
            if result.rejected:
                result.rejected_csv()
        except Exception:
            outcome["tracebacks"].append(traceback.format_exc()[-2000:])
        outcome["tracebacks"] += catcher.caught
        outcome["peak_rss_mb"] = round(peak_rss_mb(), 1)
        outcome["seconds"] = round(time.perf_counter() - started, 2)
        print(json.dumps(outcome, default=str), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
