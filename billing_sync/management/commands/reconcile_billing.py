"""`manage.py reconcile_billing`: the nightly reconciliation by hand (Celery beat runs
`billing_sync.tasks.reconcile_nightly` at 01:50)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from billing_sync import services


class Command(BaseCommand):
    help = "Compare every live subscription with what Xero bills and update the discrepancy queue."

    def handle(self, *args: Any, **options: Any) -> None:
        result = services.reconcile(reason="Reconciliation by hand")
        self.stdout.write(
            f"Billing: {result.findings:,} findings; {result.opened} opened, {result.reopened} reopened, "
            f"{result.updated} updated, {result.settled} settled in {result.seconds:.1f}s."
        )
