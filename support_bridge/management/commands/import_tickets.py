"""`manage.py import_tickets FILE [--source freshdesk|zendesk|triage] [--dry-run]`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from support_bridge import importers, services


class Command(BaseCommand):
    help = (
        "Import a helpdesk ticket export (CSV, Freshdesk or Zendesk shape) or the support triage sheet (XLSX) "
        "into the ticket mirror, all or nothing; rejected rows are written beside the file with a reason."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--source", choices=importers.KINDS, help="Shape of the file (default: from its headers).")
        parser.add_argument("--dry-run", action="store_true", help="Validate and count; write nothing.")
        parser.add_argument("--rejects", type=Path, help="Where to write rejected rows (default FILE.rejected.csv).")

    def handle(self, *args: Any, file: Path, source: str | None, dry_run: bool, rejects: Path | None, **options):
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        result = services.import_tickets(
            data=file.read_bytes(), name=file.name, kind=source, actor=None, reason="Ticket import", dry_run=dry_run
        )
        if result.rejected:
            target = rejects or file.with_name(file.name + ".rejected.csv")
            target.write_bytes(result.rejected_csv())
            self.stdout.write(f"Rejected rows written to {target}")
        if not result.ok:
            raise CommandError(result.summary())
        self.stdout.write(result.summary())
