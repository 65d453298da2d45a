"""`manage.py snapshot_month YYYY-MM` (idempotent), `--last 12` (the backfill), and a
steward's `--refreeze --user NAME --reason TEXT`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from reports import services


class Command(BaseCommand):
    help = "Freeze a month's snapshot (YYYY-MM), or the last N complete months with --last N."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("month", nargs="?", help="YYYY-MM; a frozen month is left as it is")
        parser.add_argument("--last", type=int, default=0, help="freeze the last N complete months (oldest first)")
        parser.add_argument("--refreeze", action="store_true", help="freeze an already frozen month again (steward)")
        parser.add_argument("--user", default="", help="the data steward re-freezing")
        parser.add_argument("--reason", default="", help="why the month is re-frozen (required with --refreeze)")

    def handle(self, *args: Any, month: str | None, last: int, refreeze: bool, user: str, reason: str, **options):
        try:
            if last:
                results = services.freeze_recent(months=last)
            elif month:
                actor = get_user_model().objects.filter(username=user).first() if user else None
                if refreeze and actor is None:
                    raise CommandError("--refreeze needs --user, a data steward's username.")
                results = [
                    services.freeze_month(
                        month=services.parse_month(month), actor=actor, reason=reason, refreeze=refreeze
                    )
                ]
            else:
                raise CommandError("Give a month (YYYY-MM) or --last N.")
        except services.FreezeError as error:
            raise CommandError(str(error)) from error
        for snapshot, written in results:
            headline = snapshot.totals.get("headline", {})
            state = "frozen" if written else "already frozen, left as it is"
            self.stdout.write(
                f"{snapshot.slug}: {state} ({snapshot.get_source_display().lower()}); "
                f"{headline.get('clients', 0)} clients, ARR ${headline.get('arr') or 0:,.0f}"
            )
