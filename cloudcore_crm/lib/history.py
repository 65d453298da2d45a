"""The one way a model declares its history (django-simple-history's `HistoricalRecords`).

History rows name who made a change (`history_user`) without a database foreign-key
constraint. A big import writes a history row for every record it creates, and
PostgreSQL checks each row's constraint at commit: 100,000 checks of the same few users,
about 0.7 s of a 10,000-client import. Deleting a user still sets their history rows'
user to NULL: Django applies `on_delete` itself, constraint or not.
"""

from __future__ import annotations

from typing import Any

from simple_history.models import HistoricalRecords


def tracked_history(**options: Any) -> HistoricalRecords:
    return HistoricalRecords(user_db_constraint=False, **options)
