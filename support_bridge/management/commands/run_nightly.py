"""`manage.py run_nightly`: the nightly jobs by hand (the same services as Celery beat)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from support_bridge import services


class Command(BaseCommand):
    help = "Run the nightly jobs now: churn-risk scores for every current client (and their alerts)."

    def handle(self, *args: Any, **options: Any) -> None:
        start = time.perf_counter()
        run = services.recompute_risk()
        self.stdout.write(
            f"Churn risk: {run.accounts:,} accounts scored ({run.created:,} new, {run.changed:,} changed), "
            f"{run.high:,} high, {run.alerts:,} new alert(s) in {time.perf_counter() - start:.1f}s."
        )
