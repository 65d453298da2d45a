"""A real Celery worker, on Redis and PostgreSQL, runs a queued legacy import to the end.

The rest of the suite runs tasks in-process; this test proves the production path: the web
request only queues the run, a separate worker process claims it and imports, and the run
page reads the result from the database. It runs where CI starts Redis and PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from cloudcore_crm.celery import app as celery_app
from customers.demo import ensure_demo_users
from customers.models import Account
from migration.models import ImportRun
from migration.tasks import run_import_task
from tests.conftest import is_postgres

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not (settings.REDIS_URL and is_postgres()), reason="needs Redis and PostgreSQL, as CI provides"),
]


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker():
    """A worker process on a queue of its own, pointed at this test's database."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": _database_url(), "CELERY_TASK_ALWAYS_EAGER": "0"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "cloudcore_crm",
            "worker",
            "--pool",
            "solo",
            "-Q",
            queue,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield queue
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        print(output.decode(errors="replace")[-3000:])


def test_a_queued_import_is_run_by_a_real_worker(worker, tmp_path):
    from openpyxl import Workbook

    users, _ = ensure_demo_users()
    wb = Workbook()
    wb.active.append(["Client ID", "Client Name", "Product", "Start Date", "Renewal Date", "Annual Value"])
    wb.active.append(["CC777", "Worker Tested Pty Ltd", "DataVault", "1/07/2025", "1/07/2026", "$9,000"])
    wb.save(tmp_path / "client master.xlsx")
    run = ImportRun.objects.create(started_by=users["data_steward"], upload_dir=str(tmp_path))

    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False  # send it to Redis, not in-process
    try:
        run_import_task.apply_async(args=[run.pk], queue=worker)
    finally:
        celery_app.conf.task_always_eager = eager

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in ("succeeded", "failed"):
            break
        time.sleep(0.5)
    assert run.status == "succeeded", run.error
    assert Account.objects.filter(code="CC777", legal_name="Worker Tested Pty Ltd").exists()
    assert run.report["stores"]["d1"]["created"] == 1
