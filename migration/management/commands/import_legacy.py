"""`manage.py import_legacy DIR [--dry-run] [--only d1,d4] [--user NAME]`"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from cloudcore_crm.roles import DATA_STEWARD
from migration.choices import Store
from migration.report import report_lines
from migration.services import run_import


class Command(BaseCommand):
    help = "Import the legacy stores found in DIR (recognised by their headers) into the golden record."

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Do everything, then roll it all back.")
        parser.add_argument("--only", default="", help="Comma-separated stores to import, e.g. d1,d4.")
        parser.add_argument("--user", default="", help="The data steward the import runs as.")
        parser.add_argument("--rejected-dir", type=Path, help="Where to write <file>.rejected.csv (default: DIR).")

    def handle(self, *args, directory: Path, dry_run: bool, only: str, user: str, rejected_dir, **options):
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory.")
        stores = {s.strip().lower() for s in only.split(",") if s.strip()}
        unknown = stores - set(Store.values)
        if unknown:
            raise CommandError(f"Unknown store(s): {', '.join(sorted(unknown))}. Use {', '.join(Store.values)}.")
        actor = self._actor(user)
        run = run_import(
            paths=[p for p in directory.iterdir() if p.is_file()], actor=actor, dry_run=dry_run, only=stores or None
        )
        for line in report_lines(run):
            self.stdout.write(line)
        out = rejected_dir or directory
        for imported in run.files.exclude(rejected_csv=""):
            target = out / f"{imported.name}.rejected.csv"
            target.write_text(imported.rejected_csv)
            self.stdout.write(f"Rejected rows of {imported.name}: {target}")

    def _actor(self, username: str):
        User = get_user_model()
        users = User.objects.filter(is_active=True)
        if username:
            actor = users.filter(username=username).first()
            if actor is None:
                raise CommandError(f"No active user {username!r}.")
            return actor
        actor = (
            users.filter(groups__name=DATA_STEWARD).order_by("pk").first() or users.filter(is_superuser=True).first()
        )
        if actor is None:
            raise CommandError("Imports run as a data steward: create one, or pass --user.")
        return actor
