"""`manage.py import_xero FILE... [--dry-run] [--user finance]`: Finance's Xero exports
from a shell, through the same service as the /billing/ page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing_sync import services
from billing_sync.choices import FileStatus


class Command(BaseCommand):
    help = "Import Xero's Sales Invoices and/or Contacts exports (CSV), each file all or nothing, then reconcile."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Show what would change; save nothing.")
        parser.add_argument("--user", default="finance", help="The Finance user (or data steward) importing.")
        parser.add_argument("--rejects", type=Path, help="Directory for FILE.rejected.csv (default: beside FILE).")

    def handle(self, *args: Any, files: list[Path], dry_run: bool, user: str, rejects: Path | None, **options):
        actor = get_user_model().objects.filter(username=user).first()
        if actor is None:
            raise CommandError(f"No user called {user!r}.")
        missing = [str(p) for p in files if not p.is_file()]
        if missing:
            raise CommandError("No such file: " + ", ".join(missing))
        run = services.run_import(paths=files, actor=actor, dry_run=dry_run)
        sources = {p.name: p for p in files}
        for imported in run.files.all():
            counts = ", ".join(f"{k} {v:,}" for k, v in imported.counts.items()) or "nothing"
            self.stdout.write(f"{imported.name}: {imported.get_status_display()} ({counts})")
            if imported.message:
                self.stdout.write(f"  {imported.message}")
            if imported.status == FileStatus.REJECTED and imported.rejected_csv:
                source = sources.get(imported.name)
                folder = rejects or (source.parent if source else Path("."))
                target = folder / f"{imported.name}.rejected.csv"
                target.write_text(imported.rejected_csv, encoding="utf-8")
                self.stdout.write(f"  Rejected rows: {target}")
        rec = run.report.get("reconciliation", {})
        self.stdout.write(
            ("Dry run, nothing saved. " if dry_run else "")
            + f"Contacts: {run.report.get('contacts', {})}. Discrepancies: {rec.get('opened', 0)} opened, "
            f"{rec.get('reopened', 0)} reopened, {rec.get('updated', 0)} updated, {rec.get('settled', 0)} settled."
        )
