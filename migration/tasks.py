"""Celery tasks for imports: thin, idempotent wrappers around migration.services."""

from __future__ import annotations

from pathlib import Path

from celery import shared_task

from migration import sweep
from migration.choices import RunStatus
from migration.models import ImportRun
from migration.services import run_import


@shared_task
def run_import_task(run_pk: int) -> str:
    """Run a waiting import. Claiming it with a conditional update means a redelivered
    task finds nothing to do instead of importing twice. Runs a dead worker left
    "running" (this one too, when this is its redelivery) are marked failed first."""
    sweep.fail_abandoned_runs()
    claimed = ImportRun.objects.filter(pk=run_pk, status=RunStatus.PENDING).update(status=RunStatus.RUNNING)
    if not claimed:
        return "already taken"
    with sweep.holding_run(run_pk):
        run = ImportRun.objects.select_related("started_by").get(pk=run_pk)
        paths = [p for p in Path(run.upload_dir).iterdir() if p.is_file()]
        only = {s for s in run.only.split(",") if s} or None
        run_import(paths=paths, actor=run.started_by, dry_run=run.dry_run, only=only, run=run)
    return run.status


@shared_task
def sweep_imports() -> str:
    """Nightly: abandoned runs marked failed, leftover folders and expired uploads removed."""
    return sweep.nightly_sweep().summary()
