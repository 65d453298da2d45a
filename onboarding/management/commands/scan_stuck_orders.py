"""`manage.py scan_stuck_orders`: open exceptions for orders with no progress (Celery beat runs it too)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from onboarding import services


class Command(BaseCommand):
    help = "Open an exception for each validated or provisioning order with no progress for ONBOARDING_STUCK_HOURS."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Opened {services.scan_stuck_orders()} exception(s) for stuck orders.")
