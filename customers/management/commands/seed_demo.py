"""`manage.py seed_demo`: the demo logins and the CloudCore Networks demo world."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from customers import demo


class Command(BaseCommand):
    help = (
        "Create one demo login per role and, on a database without customers, ~500 synthetic "
        "CloudCore clients. Safe to run again; refused in production."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed",
            type=int,
            default=demo.DEFAULT_SEED,
            help=f"Random seed for the world (default {demo.DEFAULT_SEED}); the same seed gives the same world.",
        )

    def handle(self, *args: Any, seed: int, **options: Any) -> None:
        # Demo users have a published password, so they must never exist in production.
        if settings.PRODUCTION:
            raise CommandError("seed_demo creates demo users and is disabled in production")
        result = demo.seed_demo(seed=seed)
        for line in demo.summary_lines(result, seed=seed):
            self.stdout.write(line)
        self.stdout.write("")
        for line in demo.login_lines():
            self.stdout.write(line)
