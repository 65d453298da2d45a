"""The one way a model declares its history (django-simple-history's `HistoricalRecords`).

History rows name who made a change (`history_user`) without a database foreign-key
constraint. A big import writes a history row for every record it creates, and
PostgreSQL checks each row's constraint at commit: 100,000 checks of the same few users,
about 0.7 s of a 10,000-client import. Deleting a user still sets their history rows'
user to NULL: Django applies `on_delete` itself, constraint or not.

History tables keep only the indexes history is read by: the record's id, its account
(an account's History tab lists its contacts', subscriptions' and opportunities'
changes), and simple-history's own `history_date` and `history_user`. simple-history
copies every other index of the tracked table too (each foreign key, each unique or
`db_index` column, with a second `LIKE` index per text column: 15 on an account's
history), and each costs its share of every history row an import writes.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from simple_history.models import HistoricalRecords

HISTORY_READ_BY = ("id", "account")


class TrackedHistory(HistoricalRecords):
    def copy_fields(self, model: type[models.Model]) -> dict[str, models.Field]:
        fields = super().copy_fields(model)
        for name, field in fields.items():
            if name not in HISTORY_READ_BY:
                field.db_index = False
        return fields


def tracked_history(**options: Any) -> HistoricalRecords:
    return TrackedHistory(user_db_constraint=False, **options)
