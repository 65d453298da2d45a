"""A run killed part-way is marked failed when the next one starts (and nightly), its
temporary folders go, and uploaded files are kept only for the retention period."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import threading
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from migration import sweep
from migration.choices import RunStatus
from migration.models import ImportRun
from migration.tasks import run_import_task, sweep_imports
from tests.conftest import is_postgres

pytestmark = pytest.mark.django_db


def _killed_run(steward) -> ImportRun:
    long_ago = timezone.now() - dt.timedelta(hours=5)
    return ImportRun.objects.create(started_by=steward, status=RunStatus.RUNNING, started_at=long_ago)


def test_a_killed_run_is_marked_failed_when_the_next_run_starts(personas, tmp_path):
    killed = _killed_run(personas["data_steward"])
    (tmp_path / "notes.txt").write_text("not a legacy file")
    following = ImportRun.objects.create(started_by=personas["data_steward"], upload_dir=str(tmp_path))

    run_import_task(following.pk)

    killed.refresh_from_db()
    assert killed.status == RunStatus.FAILED
    assert "stopped part-way" in killed.error
    assert ImportRun.objects.get(pk=following.pk).status != RunStatus.RUNNING


def test_the_nightly_sweep_marks_a_killed_run_failed(personas):
    killed = _killed_run(personas["data_steward"])
    assert "1 abandoned run" in sweep_imports()
    killed.refresh_from_db()
    assert killed.status == RunStatus.FAILED


@pytest.mark.skipif(is_postgres(), reason="on PostgreSQL a run is judged by its worker's lock, not its age")
def test_a_recent_running_run_is_left_alone_without_a_worker_lock(personas):
    recent = ImportRun.objects.create(
        started_by=personas["data_steward"], status=RunStatus.RUNNING, started_at=timezone.now()
    )
    assert sweep.fail_abandoned_runs() == []
    assert ImportRun.objects.get(pk=recent.pk).status == RunStatus.RUNNING


@pytest.mark.skipif(not is_postgres(), reason="the worker's liveness lock is PostgreSQL's")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_run_whose_worker_still_holds_its_lock_is_not_failed(personas):
    running = _killed_run(personas["data_steward"])
    holding, release = threading.Event(), threading.Event()

    def worker():
        try:
            with sweep.holding_run(running.pk):
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert holding.wait(10)
        assert sweep.fail_abandoned_runs() == []
        assert ImportRun.objects.get(pk=running.pk).status == RunStatus.RUNNING
    finally:
        release.set()
        thread.join(10)
    assert sweep.fail_abandoned_runs() == [running.pk]


def test_leftover_prefetch_folders_are_removed_once_stale(settings):
    old = Path(tempfile.mkdtemp(prefix=sweep.PREFETCH_PREFIX))
    fresh = Path(tempfile.mkdtemp(prefix=sweep.PREFETCH_PREFIX))
    hours_ago = time.time() - 5 * 3600
    os.utime(old, (hours_ago, hours_ago))
    try:
        sweep.remove_stale_temp_folders()
        assert not old.exists()
        assert fresh.exists()
    finally:
        for folder in (old, fresh):
            if folder.exists():
                folder.rmdir()


def test_uploads_are_deleted_after_the_retention_period(personas, tmp_path, settings):
    settings.IMPORT_FILE_RETENTION_DAYS = 30
    steward = personas["data_steward"]
    old_dir, new_dir = tmp_path / "run-old", tmp_path / "run-new"
    for folder in (old_dir, new_dir):
        folder.mkdir()
        (folder / "client master.xlsx").write_bytes(b"PK")
    old = ImportRun.objects.create(started_by=steward, status=RunStatus.SUCCEEDED, upload_dir=str(old_dir))
    ImportRun.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=31))
    new = ImportRun.objects.create(started_by=steward, status=RunStatus.PREVIEWED, upload_dir=str(new_dir))

    assert sweep.remove_expired_uploads() == 1

    assert not old_dir.exists()
    assert new_dir.exists()
    assert ImportRun.objects.get(pk=old.pk).upload_dir == ""
    assert ImportRun.objects.get(pk=new.pk).upload_dir == str(new_dir)
