"""`manage.py run_nightly`: every nightly job now, by hand, in the order Celery beat runs them.

The jobs are the daily entries of `settings.CELERY_BEAT_SCHEDULE` (duplicates, churn risk,
renewals...): a job added there is run here too, by the same task, in this process. Weekly
and monthly entries (digests, the month-end freeze) have their own commands.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from cloudcore_crm.celery import app


def nightly_jobs() -> list[tuple[str, str]]:
    """(schedule name, task name), in the order of their time of day."""

    def when(entry: dict) -> tuple:
        schedule = entry["schedule"]
        hours = sorted(getattr(schedule, "hour", {0}))
        minutes = sorted(getattr(schedule, "minute", {0}))
        return (hours[0], minutes[0])

    def every_day(entry: dict) -> bool:
        # Monthly and weekly entries (the month-end freeze, Monday's digests) are not nightly.
        schedule = entry["schedule"]
        return (
            len(getattr(schedule, "day_of_week", range(7))) == 7
            and len(getattr(schedule, "day_of_month", range(31))) == 31
        )

    daily = {name: entry for name, entry in settings.CELERY_BEAT_SCHEDULE.items() if every_day(entry)}
    entries = sorted(daily.items(), key=lambda item: when(item[1]))
    return [(name, entry["task"]) for name, entry in entries]


class Command(BaseCommand):
    help = "Run the nightly jobs now (every Celery beat entry): duplicate scan, churn risk, renewals, ..."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--only", action="append", default=[], help="Run only this schedule entry (repeatable).")

    def handle(self, *args: Any, only: list[str], **options: Any) -> None:
        app.loader.import_default_modules()  # registers every app's tasks
        for name, task_name in nightly_jobs():
            if only and name not in only:
                continue
            start = time.perf_counter()
            result = app.tasks[task_name].apply(throw=True).get()
            text = result if isinstance(result, str) else f"{name}: {result}"
            self.stdout.write(f"{text.rstrip('.')} in {time.perf_counter() - start:.1f}s.")
