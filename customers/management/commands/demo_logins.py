"""`manage.py demo_logins`: print the demo logins (`make run` ends with them, after the
demo world's own output, so they are the last thing on screen)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from customers.demo import login_lines


class Command(BaseCommand):
    help = "Print the demo logins, one per role, and their password."

    def handle(self, *args: Any, **options: Any) -> None:
        for line in login_lines():
            self.stdout.write(line)
