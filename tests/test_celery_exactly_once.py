"""Jobs run exactly once when workers die, on a real worker and Redis (as CI provides).

- A pool process killed mid-job: the job goes back on the queue and runs to the end
  (`task_reject_on_worker_lost` with `acks_late`).
- A whole worker killed mid-job: another worker takes the job once the Redis visibility
  timeout has passed.
- The nightly risk run and a ticket's rescore side by side raise one alert, not two.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction

from cloudcore_crm.celery import app as celery_app
from support_bridge import risk, services
from support_bridge.choices import AlertKind
from support_bridge.models import ChurnAlert, PeerBaseline, RiskScore
from support_bridge.tasks import recompute_risk_nightly
from tests.conftest import is_postgres
from tests.factories import AccountFactory
from tests.factories_support import ChurnAlertFactory
from tests.test_support_risk import make_cc009_like, make_peers

ROOT = Path(__file__).resolve().parent.parent
REAL = pytest.mark.skipif(
    not (settings.REDIS_URL and is_postgres()), reason="needs Redis and PostgreSQL, as CI provides"
)
DB = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_worker(queue: str, *, pool: str, extra_env: dict[str, str]) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": _database_url(), "CELERY_TASK_ALWAYS_EAGER": "0", **extra_env}
    command = [sys.executable, "-m", "celery", "-A", "tests.worker_app", "worker", "--pool", pool, "-Q", queue]
    command += ["--concurrency", "1", "--without-heartbeat", "--without-gossip", "--without-mingle"]
    return subprocess.Popen(
        [*command, "--loglevel", "WARNING"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    print(output.decode(errors="replace")[-3000:])


def _send(task, queue: str) -> None:
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False  # to Redis, not in-process
    try:
        task.apply_async(queue=queue)
    finally:
        celery_app.conf.task_always_eager = eager


def _wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def _paused_pid(pause: Path) -> int:
    pid_file = Path(f"{pause}.pid")
    assert _wait_for(lambda: pid_file.exists() and pid_file.read_text().strip(), 60), "the job never started"
    return int(pid_file.read_text())


@REAL
@DB
def test_a_pool_process_killed_mid_job_does_not_lose_the_nightly_risk_run(tmp_path):
    AccountFactory.create_batch(3)
    pause = tmp_path / "pause"
    pause.touch()
    queue = f"test-{uuid.uuid4().hex[:8]}"
    worker = _start_worker(queue, pool="prefork", extra_env={"TEST_PAUSE_FILE": str(pause)})
    try:
        _send(recompute_risk_nightly, queue)
        os.kill(_paused_pid(pause), signal.SIGKILL)  # the pool process dies mid-job

        assert _wait_for(lambda: RiskScore.objects.count() == 3, 60), "the job was lost with its process"
    finally:
        _stop(worker)
    assert PeerBaseline.objects.exists()


@REAL
@DB
def test_a_job_of_a_killed_worker_is_taken_by_another_after_the_visibility_timeout(tmp_path):
    AccountFactory.create_batch(2)
    pause = tmp_path / "pause"
    pause.touch()
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {"TEST_PAUSE_FILE": str(pause), "TEST_VISIBILITY_TIMEOUT": "3"}
    first = _start_worker(queue, pool="solo", extra_env=env)
    try:
        _send(recompute_risk_nightly, queue)
        os.kill(_paused_pid(pause), signal.SIGKILL)  # the whole worker dies mid-job
        first.wait(timeout=10)
    finally:
        _stop(first)
    assert RiskScore.objects.count() == 0

    second = _start_worker(queue, pool="solo", extra_env=env)
    try:
        assert _wait_for(lambda: RiskScore.objects.count() == 2, 60), "nobody took the dead worker's job"
    finally:
        _stop(second)


def test_jobs_are_acknowledged_late_and_rejected_when_their_worker_dies():
    assert celery_app.conf.task_acks_late is True
    assert celery_app.conf.task_reject_on_worker_lost is True
    # Longer than the longest job (or it runs twice), far shorter than Redis's one-hour default.
    assert 10 * 60 <= celery_app.conf.broker_transport_options["visibility_timeout"] < 60 * 60


@pytest.mark.django_db
def test_the_database_refuses_a_second_open_risk_alert_for_an_account():
    alert = ChurnAlertFactory(kind=AlertKind.RISK)
    with pytest.raises(IntegrityError), transaction.atomic():
        ChurnAlertFactory(account=alert.account, kind=AlertKind.RISK)
    ChurnAlertFactory(account=alert.account, kind=AlertKind.CONCERN)  # another cause may be open
    assert ChurnAlert.objects.filter(account=alert.account).count() == 2


@pytest.mark.skipif(not is_postgres(), reason="real concurrent writers need PostgreSQL")
@DB
def test_nightly_run_and_a_rescore_side_by_side_raise_one_alert(personas, monkeypatch):
    make_peers(3)
    account = make_cc009_like(personas["sales_rep"])
    services.recompute_risk()  # the peer baselines the rescore reads
    ChurnAlert.objects.update(acknowledged_at="2026-01-01T00:00:00Z")
    RiskScore.objects.filter(account=account).delete()  # a client scored for the first time
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    # Hold each computation after it scored, so without the lock both would read the stored
    # scores before either wrote. With the lock the second is still waiting for it, and the
    # first goes on when the short wait times out.
    both_scored = threading.Barrier(2)
    assess_all = risk.assess_all

    def assess_then_wait(*args, **kwargs):
        result = assess_all(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            both_scored.wait(timeout=3)
        return result

    monkeypatch.setattr(risk, "assess_all", assess_then_wait)

    def run(account_ids):
        try:
            barrier.wait(timeout=10)
            services.recompute_risk(account_ids=account_ids)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(ids,)) for ids in (None, {account.pk})]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert ChurnAlert.objects.filter(account=account, acknowledged_at__isnull=True).count() == 1
