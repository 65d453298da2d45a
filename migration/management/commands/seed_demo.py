"""`manage.py seed_demo`: the demo logins, and the demo world imported from the legacy estate."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from customers.demo import DEFAULT_SEED, login_lines, summary_lines
from migration.demo import seed_demo
from migration.report import report_lines


class Command(BaseCommand):
    help = (
        "Create one demo login per role and, on a database without customers, import CloudCore's "
        "generated legacy estate (~500 clients) and enrich it. Safe to run again; refused in production."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=f"Random seed for the world (default {DEFAULT_SEED}); the same seed gives the same world.",
        )

    def handle(self, *args: Any, seed: int, **options: Any) -> None:
        # Demo users have a published password, so they must never exist in production.
        if settings.PRODUCTION:
            raise CommandError("seed_demo creates demo users and is disabled in production")
        if options.get("verbosity", 1) >= 1:
            self.stdout.write("Building the demo world from the legacy estate (about a minute the first time)…")
        result, run = seed_demo(seed=seed)
        if run is not None:
            lines = report_lines(run)
            table_end = lines.index("", 2) if "" in lines[2:] else len(lines)  # the file table, not the notes
            for line in lines[:table_end]:
                self.stdout.write(line)
        for line in summary_lines(result, seed=seed):
            self.stdout.write(line)
        self.stdout.write("")
        for line in login_lines():
            self.stdout.write(line)
