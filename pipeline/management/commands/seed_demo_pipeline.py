"""`manage.py seed_demo_pipeline`: give the demo's deals stage histories over the past year."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from pipeline.demo import seed_stage_histories


class Command(BaseCommand):
    help = "Give each demo deal a dated path through the funnel (demo only; refused in production)."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo_pipeline writes demo data and is disabled in production")
        count = seed_stage_histories()
        done = f"Stage histories for {count} demo deals." if count else "Demo stage histories already exist."
        self.stdout.write(done)
