"""`manage.py generate_legacy_samples DIR [--seed N] [--clients 500]`"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from migration.legacy_estate import write_estate


class Command(BaseCommand):
    help = (
        "Write CloudCore's legacy estate (client master, Xero export, Outlook calendar, pipelines, helpdesk "
        "ticket export and triage sheet) and truth.json."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--clients", type=int, default=500)

    def handle(self, *args, directory: Path, seed: int, clients: int, **options):
        names = write_estate(directory, seed=seed, clients=clients)
        self.stdout.write(f"Wrote {len(names)} files for {clients:,} clients (seed {seed}) to {directory}:")
        for name in names:
            self.stdout.write(f"  {name}")
