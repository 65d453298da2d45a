"""`manage.py send_digests [--dry-run]`: this week's digests (the Monday job, by hand)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from reports import digests


class Command(BaseCommand):
    help = "Send this week's digest to each account owner; --dry-run prints them and sends nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="print the digests; claim and send nothing")

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        counts = digests.send_digests(dry_run=dry_run, out=self.stdout)
        verb = "would send" if dry_run else "sent"
        self.stdout.write(
            f"{verb} {counts['sent']}; nothing to say for {counts['empty']}; "
            f"already sent this week {counts['already']}."
        )
