"""`manage.py seed_demo_orders`: demo onboarding orders in every state, and a status link."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from onboarding import demo


class Command(BaseCommand):
    help = (
        "Load demo onboarding orders (one in every state, one auto-provisioned, one exception waiting) "
        "and print a customer status link. Run after seed_demo; safe to run again; refused in production."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo_orders loads demo data and is disabled in production")
        for line in demo.seed_demo_orders():
            self.stdout.write(line)
