"""`manage.py scan_duplicates`: fill the duplicate review queue now (the nightly task runs
the same service)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from customers import services


class Command(BaseCommand):
    help = "Find accounts and contacts that look like duplicates and queue them for data stewards."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(services.scan_duplicates().summary())
