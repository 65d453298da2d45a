"""The project's Celery app as a kill test's worker runs it (`celery -A tests.worker_app`).

Two test-only knobs, from the environment the test gives the worker:
- `TEST_PAUSE_FILE`: the first task to start removes this file, writes its process id next
  to it (`<file>.pid`) and sleeps, so the test can kill it mid-job. Later runs do not pause.
- `TEST_VISIBILITY_TIMEOUT`: a short Redis visibility timeout, checked every second, so a
  job of a killed worker is handed on within seconds instead of the production half hour.
"""

from __future__ import annotations

import os
import time

from celery.signals import task_prerun

from cloudcore_crm.celery import app

__all__ = ["app"]

if os.environ.get("TEST_VISIBILITY_TIMEOUT"):
    app.conf.broker_transport_options = {
        "visibility_timeout": int(os.environ["TEST_VISIBILITY_TIMEOUT"]),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }


@task_prerun.connect
def _pause_the_first_job(**kwargs) -> None:
    pause_file = os.environ.get("TEST_PAUSE_FILE")
    if not pause_file:
        return
    try:
        os.remove(pause_file)  # only one process wins the removal, so only the first run pauses
    except FileNotFoundError:
        return
    with open(pause_file + ".pid", "w") as out:
        out.write(str(os.getpid()))
    time.sleep(300)
