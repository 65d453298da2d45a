"""Database locks that serialise jobs across processes (web, workers, beat).

`job_lock("risk")` is held until the current transaction ends, so the nightly risk run and
a ticket event's rescore of one account never decide "this is a new rise" side by side.
"""

from __future__ import annotations

import hashlib

from django.db import connection, transaction


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for `name` (PostgreSQL advisory locks take a bigint)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def job_lock(name: str) -> None:
    """Wait for, then hold, the lock `name` until the surrounding transaction ends."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("job_lock() must be called inside transaction.atomic().")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(name)])
        elif connection.vendor == "sqlite":
            # A write statement takes SQLite's one write lock (even when it matches no row),
            # so a second writer waits here instead of reading what the first is changing.
            cursor.execute("UPDATE django_migrations SET id = id WHERE 0 = 1")
