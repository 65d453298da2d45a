"""`manage.py seed_demo_tickets`: two years of helpdesk tickets for the demo world."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from support_bridge import demo


class Command(BaseCommand):
    help = (
        "Load demo helpdesk tickets for the seed_demo world (CC009's story included) and score churn risk. "
        "Run after seed_demo; safe to run again; refused in production."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED, help="Random seed for the tickets.")

    def handle(self, *args: Any, seed: int, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo_tickets loads demo data and is disabled in production")
        for line in demo.seed_demo_tickets(seed=seed):
            self.stdout.write(line)
