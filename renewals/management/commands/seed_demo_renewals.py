"""`manage.py seed_demo_renewals`: renewal cases in every state for the demo world."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from renewals import demo


class Command(BaseCommand):
    help = (
        "Run the renewal scan over the demo world's last 90 days and act on some cases (outreach, "
        "renewed, lost). Run after seed_demo; safe to run again; refused in production."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED, help="Random seed for who acts on what.")

    def handle(self, *args: Any, seed: int, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo_renewals loads demo data and is disabled in production")
        for line in demo.seed_demo_renewals(seed=seed):
            self.stdout.write(line)
