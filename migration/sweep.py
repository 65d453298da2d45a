"""Housekeeping for imports: runs whose worker died, leftover temporary folders, and the
retention of uploaded files.

A live run holds a lock named after it for as long as its task runs (on PostgreSQL a
session advisory lock, released by the database when the worker's connection dies). A run
still "running" whose lock is free was killed part-way: it is marked failed when the next
run starts and by the nightly sweep. On SQLite (the zero-setup install, no worker) a run
counts as killed once it has been running longer than `IMPORT_RUN_STALE_MINUTES`.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from cloudcore_crm.lib.locks import lock_key
from migration.choices import RunStatus
from migration.models import ImportRun

logger = logging.getLogger(__name__)

PREFETCH_PREFIX = "import-prefetch-"
KILLED = "The run stopped part-way (its worker died); nothing of it was kept. Start it again."


def _run_lock(run_pk: int) -> int:
    return lock_key(f"migration.import-run:{run_pk}")


@contextmanager
def holding_run(run_pk: int) -> Iterator[None]:
    """Hold the run's liveness lock while it runs (PostgreSQL; a no-op elsewhere)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_run_lock(run_pk)])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_run_lock(run_pk)])


def _is_abandoned(run: ImportRun, now: dt.datetime) -> bool:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_run_lock(run.pk)])
            free = cursor.fetchone()[0]
            if free:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_run_lock(run.pk)])
        return free
    started = run.started_at or run.created_at
    return now - started > dt.timedelta(minutes=settings.IMPORT_RUN_STALE_MINUTES)


def fail_abandoned_runs(*, now: dt.datetime | None = None, exclude: int | None = None) -> list[int]:
    """Mark failed every run left "running" by a worker that died; return their ids."""
    now = now or timezone.now()
    failed = []
    for run in ImportRun.objects.filter(status=RunStatus.RUNNING).exclude(pk=exclude):
        if _is_abandoned(run, now):
            claimed = ImportRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
                status=RunStatus.FAILED, error=KILLED, finished_at=now
            )
            if claimed:
                logger.warning("Import run %s was left running by a dead worker; marked failed", run.pk)
                failed.append(run.pk)
    if failed:
        remove_stale_temp_folders()
    return failed


def remove_stale_temp_folders(*, older_than_minutes: int | None = None) -> int:
    """Remove the prefetch folders (`migration.prefetch`) a killed run left behind."""
    minutes = settings.IMPORT_RUN_STALE_MINUTES if older_than_minutes is None else older_than_minutes
    cutoff = time.time() - minutes * 60
    removed = 0
    for folder in Path(tempfile.gettempdir()).glob(f"{PREFETCH_PREFIX}*"):
        try:
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    return removed


def remove_expired_uploads(*, now: dt.datetime | None = None) -> int:
    """Delete uploaded import files older than `IMPORT_FILE_RETENTION_DAYS` (the run and
    its report stay; only the files go). Returns how many runs' folders were removed."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.IMPORT_FILE_RETENTION_DAYS)
    expired = ImportRun.objects.exclude(upload_dir="").exclude(status__in=[RunStatus.PENDING, RunStatus.RUNNING])
    removed = 0
    for run in expired.filter(created_at__lt=cutoff):
        # A confirmed import reuses its dry run's folder: keep it while a newer run needs it.
        if ImportRun.objects.filter(upload_dir=run.upload_dir, created_at__gte=cutoff).exists():
            continue
        shutil.rmtree(run.upload_dir, ignore_errors=True)
        ImportRun.objects.filter(upload_dir=run.upload_dir).update(upload_dir="")
        removed += 1
    return removed


@dataclass
class SweepResult:
    failed_runs: list[int]
    temp_folders: int
    uploads: int

    def summary(self) -> str:
        return (
            f"Import sweep: {len(self.failed_runs)} abandoned run(s) marked failed, "
            f"{self.temp_folders} temporary folder(s) and {self.uploads} expired upload folder(s) removed."
        )


def nightly_sweep(*, now: dt.datetime | None = None) -> SweepResult:
    failed = fail_abandoned_runs(now=now)
    return SweepResult(failed, remove_stale_temp_folders(), remove_expired_uploads(now=now))
