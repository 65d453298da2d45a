"""`manage.py seed_demo_billing`: the demo's Xero exports imported for Finance's queue."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from billing_sync import demo


class Command(BaseCommand):
    help = "Import demo Xero exports for the seed_demo world (run after seed_demo); safe to run again."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo_billing loads demo data and is disabled in production")
        for line in demo.seed_demo_billing():
            self.stdout.write(line)
