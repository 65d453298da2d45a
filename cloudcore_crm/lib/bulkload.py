"""Fast bulk writes for the bulk services (imports, the ticket mirror, the nightly risk job).

The same rows Django's `bulk_create` and simple-history's `bulk_history_create` would
write, but on PostgreSQL through `COPY`: Django 5.2's `bulk_create` sends each column as
an `UNNEST` array that psycopg quotes value by value in Python, which was most of an
import's writing time. On SQLite the rows go through `executemany`, after Django's own
field preparation, so both databases store exactly what the ORM would.

    insert(contacts)                                  # new records; sets their ids
    insert_history(contacts, date=now, default_reason="…")  # one '+' history row each
    update(subscriptions, ["annual_value"])           # named fields of existing records
    upsert(Provenance, rows, unique=[…], update=[…])  # rows as dicts of column values
    insert_rows(Provenance, rows)                     # the same, for rows known to be new

    with writing_behind():                            # COPYs sent by a thread while you go on
        ...

Ids come from the table's own sequence (one `nextval` query per batch), so a record has
its id before it is copied and its children can point at it. These helpers write rows,
nothing else: ownership, validation and reasons belong to the services that call them.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from operator import attrgetter
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.db.models.expressions import DatabaseDefault, Value
from django.db.models.fields import NOT_PROVIDED
from django.db.models.fields.json import JSONField
from psycopg import Copy, postgres, sql
from psycopg.adapt import Dumper
from psycopg.copy import Writer
from psycopg.pq import Format

BATCH = 5000  # rows per sequence query and per SQLite executemany
logger = logging.getLogger(__name__)
_NO_USER = object()

# Field classes whose Python value PostgreSQL takes as it is: no preparation needed.
_RAW_TYPES = (
    models.CharField,  # also EmailField, URLField, SlugField
    models.TextField,
    models.IntegerField,  # also the Positive*/Small/Big variants and AutoFields
    models.BooleanField,
    models.DateField,  # also DateTimeField (aware values; USE_TZ is on)
    models.DecimalField,
    models.ForeignKey,
)


# --- Records ------------------------------------------------------------------------------


def insert(instances: Sequence[models.Model]) -> None:
    """Insert new records of one model and give each its id, as `bulk_create` does
    (related records saved earlier are picked up, `auto_now` fields are set)."""
    if not instances:
        return
    model = type(instances[0])
    meta = model._meta
    _ready_to_insert(instances)
    if connection.vendor == "postgresql":
        assign_ids(instances)
        fields = list(meta.concrete_fields)
        _copy(meta.db_table, fields, _values(fields, instances))
    else:
        model._default_manager.bulk_create(instances, batch_size=BATCH // 10)
    alias = connection.alias  # read through Django's connection proxy once, not per record
    for instance in instances:
        instance._state.adding = False
        instance._state.db = alias


def _ready_to_insert(instances: Sequence[models.Model]) -> None:
    """What a save does before an insert: parents written earlier give their ids, and
    `auto_now` fields are set."""
    for instance in instances:
        _attach_parents(instance)
    for field in _auto_now_fields(type(instances[0])):
        for instance in instances:
            field.pre_save(instance, add=True)


def assign_ids(instances: Sequence[models.Model]) -> None:
    """Give new records of one model their ids from the table's sequence (PostgreSQL;
    elsewhere the insert does). A caller writing several models behind (`writing_behind`)
    assigns them all first, so its id queries do not wait for its own COPYs."""
    if not instances or connection.vendor != "postgresql":
        return
    meta = type(instances[0])._meta
    pk = meta.pk
    if meta.parents or not isinstance(pk, models.AutoField | models.BigAutoField | models.SmallAutoField):
        raise ValueError(f"bulkload.insert needs a model with its own serial id, not {meta.label}.")
    missing = [i for i in instances if i.pk is None]
    for start in range(0, len(missing), BATCH):
        chunk = missing[start : start + BATCH]
        for instance, new_id in zip(chunk, _next_ids(meta.db_table, pk.column, len(chunk)), strict=True):
            setattr(instance, pk.attname, new_id)


def insert_records(instances: Sequence[models.Model]) -> None:
    """Insert new records of one model that nothing refers to afterwards: copied without
    their ids, which the table's sequence gives (the instances keep `pk` None), so no id
    query has to wait for the COPYs written behind before them."""
    if not instances:
        return
    meta = type(instances[0])._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    _ready_to_insert(instances)
    names = [f.attname for f in fields]
    insert_rows(type(instances[0]), map(attrgetter(*names), instances), names=names)  # prepared there


def insert_history(
    instances: Sequence[models.Model],
    *,
    date: dt.datetime,
    history_type: str = "+",
    default_user: models.Model | None = None,
    default_reason: str = "",
) -> None:
    """One historical row per record, as simple-history's `bulk_history_create` writes it:
    the record's tracked fields, its `_history_user` and `_change_reason` (else the
    defaults), one time for the batch."""
    if not instances or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    model = type(instances[0])
    history = model.history.model
    tracked = list(history.tracked_fields)
    users = [getattr(i, "_history_user", _NO_USER) for i in instances]
    if _NO_USER in users:
        # The request's user (simple-history's middleware), or None for a command.
        unnamed = instances[users.index(_NO_USER)]
        fallback = default_user or history.get_default_history_user(unnamed)
        users = [fallback if user is _NO_USER else user for user in users]
    reasons = [getattr(i, "_change_reason", None) or default_reason for i in instances]
    columns = [history._meta.get_field(f.name) for f in tracked] + [
        history._meta.get_field(name)
        for name in ("history_date", "history_change_reason", "history_type", "history_user")
    ]
    tracked_values = _values([history._meta.get_field(f.name) for f in tracked], instances)
    rows = (
        (*values, date, reason, history_type, user.pk if user is not None else None)
        for values, reason, user in zip(tracked_values, reasons, users, strict=True)
    )
    if connection.vendor == "postgresql":
        _copy(history._meta.db_table, columns, rows)
    else:
        _executemany_insert(history._meta.db_table, columns, rows)


def insert_with_history(instances: Sequence[models.Model], *, date: dt.datetime, **history: Any) -> None:
    insert(instances)
    insert_history(instances, date=date, **history)


def update_with_history(
    instances: Sequence[models.Model], fields: Sequence[str], *, date: dt.datetime, **history: Any
) -> None:
    """`update` of `fields`, then one '~' history row per record (the whole record)."""
    if not instances:
        return
    update(instances, fields)
    insert_history(instances, date=date, history_type="~", **history)


def update(instances: Sequence[models.Model], fields: Sequence[str]) -> None:
    """Write `fields` of existing records, as `bulk_update` does. On PostgreSQL the values
    go into a staging table by COPY and one `UPDATE ... FROM` joins it on the id:
    `bulk_update`'s `CASE WHEN id = ...` has one branch per record of the batch, which the
    server tries in turn for every row it updates."""
    if not instances:
        return
    model = type(instances[0])
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(instances, fields, batch_size=BATCH // 5)
        return
    meta = model._meta
    written = [meta.pk] + [meta.get_field(name) for name in fields]
    staging = _staging_table(meta.db_table, written)
    _copy(staging, written, _values(written, instances))
    sets = sql.SQL(", ").join(
        sql.SQL("{0} = {1}.{0}").format(sql.Identifier(f.column), sql.Identifier(staging)) for f in written[1:]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("UPDATE {table} SET {sets} FROM {staging} WHERE {table}.{pk} = {staging}.{pk}").format(
                table=sql.Identifier(meta.db_table),
                sets=sets,
                staging=sql.Identifier(staging),
                pk=sql.Identifier(meta.pk.column),
            )
        )


def _staging_table(table: str, fields: Sequence[models.Field]) -> str:
    """An empty temporary table with the columns' types and none of the table's
    constraints, dropped at commit."""
    staging = f"_staging_{table}"
    columns = sql.SQL(", ").join(sql.Identifier(f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(staging)))
        cursor.execute(
            sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(
                sql.Identifier(staging), columns, sql.Identifier(table)
            )
        )
    return staging


def insert_rows(
    model: type[models.Model],
    rows: Iterable[dict[str, Any]] | Iterable[Sequence[Any]],
    names: Sequence[str] | None = None,
) -> None:
    """Insert rows (dicts of field attnames to values, or sequences of the values of
    `names`) that are known to be new, ids left to the database: `upsert` without looking
    for the rows already there."""
    names, values = _named_rows(rows, names)
    if not names:
        return
    fields = [model._meta.get_field(name) for name in names]
    if connection.vendor == "postgresql":
        _copy(model._meta.db_table, fields, _prepared(fields, values))
    else:
        _executemany_insert(model._meta.db_table, fields, values)


def upsert(
    model: type[models.Model],
    rows: Iterable[dict[str, Any]] | Iterable[Sequence[Any]],
    *,
    unique: Sequence[str],
    update: Sequence[str],
    names: Sequence[str] | None = None,
) -> None:
    """Insert rows (dicts of field attnames to values, or sequences of the values of
    `names`), or update `update` on the row that already holds the same `unique` values.
    Ids are left to the database."""
    names, values = _named_rows(rows, names)
    if not names:
        return
    meta = model._meta
    fields = [meta.get_field(name) for name in names]
    table = meta.db_table
    unique_cols = [meta.get_field(n).column for n in unique]
    update_cols = [meta.get_field(n).column for n in update]
    if connection.vendor == "postgresql":
        staging = _staging_table(table, fields)
        cols = sql.SQL(", ").join(sql.Identifier(f.column) for f in fields)
        _copy(staging, fields, _prepared(fields, values))
        statement = sql.SQL(
            "INSERT INTO {table} ({cols}) SELECT {cols} FROM {staging} ON CONFLICT ({unique}) DO UPDATE SET {sets}"
        ).format(
            table=sql.Identifier(table),
            cols=cols,
            staging=sql.Identifier(staging),
            unique=sql.SQL(", ").join(map(sql.Identifier, unique_cols)),
            sets=sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in update_cols),
        )
        with connection.cursor() as cursor:
            cursor.execute(statement)
    else:
        quote = connection.ops.quote_name
        sets = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in update_cols)
        conflict = f" ON CONFLICT ({', '.join(map(quote, unique_cols))}) DO UPDATE SET {sets}"
        _executemany_insert(table, fields, values, suffix=conflict)


# --- Rows -----------------------------------------------------------------------------------


def _named_rows(rows, names: Sequence[str] | None) -> tuple[list[str], list[Sequence[Any]]]:
    """(column names, rows of values in their order) from dicts, or from sequences of the
    values of `names` (which spare building a dict per row: provenance writes 150,000)."""
    rows = list(rows)
    if not rows:
        return [], []
    if names is not None:
        return list(names), rows
    names = list(rows[0])
    return names, [[row[name] for name in names] for row in rows]


def _attach_parents(instance: models.Model) -> None:
    """A child built before its parent was written gets the parent's id now."""
    for field in _foreign_keys(type(instance)):
        if getattr(instance, field.attname) is None and field.is_cached(instance):
            parent = field.get_cached_value(instance)
            if parent is not None:
                if parent.pk is None:
                    raise ValueError(f"{type(instance).__name__}.{field.name} points at an unsaved record.")
                setattr(instance, field.attname, parent.pk)


@cache
def _foreign_keys(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if f.is_relation and f.many_to_one]


@cache
def _auto_now_fields(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]


def _values(fields: Sequence[models.Field], instances: Iterable[models.Model]) -> Iterable[Sequence[Any]]:
    """Each instance's column values, read in one C call per record."""
    getter = attrgetter(*[f.attname for f in fields])
    rows = ((getter(i),) for i in instances) if len(fields) == 1 else map(getter, instances)
    return _prepared(fields, rows)


def _prepared(fields: Sequence[models.Field], rows: Iterable[Sequence[Any]]) -> Iterable[Sequence[Any]]:
    """The rows with the values of fields that need it prepared for the database (the rest
    are passed as they are). Each field's preparer is chosen once, not per value."""
    preparers = [(i, _preparer(f)) for i, f in enumerate(fields) if _needs_preparing(f)]
    if not preparers:
        yield from rows
        return
    for row in rows:
        row = list(row)
        for i, prepare in preparers:
            row[i] = prepare(row[i])
        yield row


def _needs_preparing(field: models.Field) -> bool:
    return (
        not isinstance(field, _RAW_TYPES)
        or field.db_default is not NOT_PROVIDED
        or (connection.vendor == "postgresql" and _range_checked(field))
    )


def _range_checked(field: models.Field) -> bool:
    """Binary COPY wraps an out-of-range smallint or integer silently (2**31 becomes 0)
    where text COPY refuses it, so those are checked here. Not bigints (psycopg refuses
    what does not fit), nor ids: a primary key, its copy in a history row, or a foreign
    key holds a value of an integer column the database issued."""
    if not isinstance(field, models.IntegerField) or isinstance(field, models.BigIntegerField):
        return False
    if field.primary_key:
        return False
    recorded = getattr(field.model, "instance_type", None)  # a simple-history model's record
    return not (recorded is not None and field.name == recorded._meta.pk.name)


def _preparer(field: models.Field) -> Callable[[Any], Any]:
    """How one field's values become what COPY (or SQLite's executemany) takes."""
    if isinstance(field, JSONField):
        if connection.vendor != "postgresql":
            convert = _unchanged  # SQLite: prepared by the field itself in `_sqlite_value`
        else:
            encode = json.JSONEncoder().encode if field.encoder is None else field.encoder().encode
            encoded: dict[tuple, str] = {}  # for this batch: provenance repeats its lists (1.8-2.6 µs each)
            plain = field.encoder is None

            def convert(value):
                if value is None:
                    return None
                if type(value) is list:
                    if plain and all(type(item) is int for item in value):
                        # json's own text for a list of ints (provenance's row numbers, mostly
                        # unique): a third of the time of the remembering below.
                        return "[" + ", ".join(map(str, value)) + "]"
                    try:
                        key = (tuple(value), tuple(map(type, value)))  # [1] and [True] are equal
                        text = encoded.get(key)
                        if text is None:
                            text = encoded[key] = encode(value)
                        return text
                    except TypeError:  # a list holding dicts or lists: not remembered
                        pass
                return encode(value)
    elif connection.vendor == "postgresql" and _range_checked(field):
        low, high = connection.ops.integer_field_range(field.get_internal_type())
        low = -(2**63) if low is None else low
        high = 2**63 - 1 if high is None else high

        def convert(value):
            if isinstance(value, enum.Enum):
                value = value.value
            if value is not None and not low <= value <= high:
                raise ValueError(f"{field} cannot hold {value!r}: out of the column's range.")
            return value
    else:

        def convert(value):
            if isinstance(value, enum.Enum):
                return value.value
            return field.get_db_prep_save(value, connection)

    if field.db_default is NOT_PROVIDED:
        return convert
    default = _literal_default(field)
    return lambda value: default if isinstance(value, DatabaseDefault) else convert(value)


def _literal_default(field: models.Field) -> Any:
    # COPY has no DEFAULT keyword: write the literal default; an expression can't be.
    default = field.db_default
    if hasattr(default, "resolve_expression"):
        if not isinstance(default, Value):
            raise ValueError(f"{field} has a computed database default; set a value before a bulk insert.")
        default = default.value
    return default


def _unchanged(value: Any) -> Any:
    return value


# --- Statements -----------------------------------------------------------------------------


def _next_ids(table: str, column: str, count: int) -> list[int]:
    with connection.cursor() as cursor:
        # The sequence is named once: `nextval(pg_get_serial_sequence(...))` looked it up
        # again for every id, 4 µs each (0.6 s of a 10,000-client import's 385,000 ids).
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, column])
        (sequence,) = cursor.fetchone()
        cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count])
        return sorted(row[0] for row in cursor.fetchall())


def _copy(table: str, fields: Sequence[models.Field], rows: Iterable[Sequence[Any]]) -> None:
    """COPY the rows in, in PostgreSQL's binary format when every column has a known one:
    psycopg writes a timestamp as text through `str()`, which was most of the time spent
    formatting rows; in binary it packs the number."""
    types = _binary_types(tuple(fields))
    statement = sql.SQL("COPY {} ({}) FROM STDIN{}").format(
        sql.Identifier(table),
        sql.SQL(", ").join(sql.Identifier(f.column) for f in fields),
        sql.SQL(" (FORMAT BINARY)" if types else ""),
    )
    behind: _WriteBehind | None = getattr(connection, "_write_behind", None)
    # The COPY goes to psycopg's own cursor: its errors are raised as Django's (an
    # IntegrityError, say), as the ORM's would be.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        if types:
            cursor.cursor.adapters.register_dumper(_JsonText, _JsonTextBinaryDumper)
        if behind is not None:
            behind.submit(statement, _formatted(cursor.cursor, types, rows))
            return
        with cursor.cursor.copy(statement) as copy:
            if types:
                copy.set_types(types)
            for row in rows:
                copy.write_row(row)


def _formatted(cursor, types: list[str] | None, rows: Iterable[Sequence[Any]]) -> list[bytes]:
    """The COPY data of `rows`, formatted here as psycopg would send it (binary when
    `types`), for a thread to send."""
    collected = _Collected()
    with Copy(cursor, binary=bool(types), writer=collected) as copy:
        if types:
            copy.set_types(types)
        for row in rows:
            copy.write_row(row)
    return collected.chunks


class _Collected(Writer):
    """A psycopg COPY writer that keeps the formatted blocks instead of sending them."""

    def __init__(self):
        self.chunks: list = []

    def write(self, data) -> None:
        self.chunks.append(data)


# --- Writing behind -------------------------------------------------------------------------


@contextmanager
def writing_behind() -> Iterator[None]:
    """Within the block, on PostgreSQL, this module's COPYs are sent by a thread while the
    caller goes on: the caller formats each COPY's rows (its Python work) and queues the
    data; the thread sends it and waits while the server inserts the rows, updates the
    indexes and checks the keys, which is the other core's work. An import decides its
    next rows meanwhile.

    Statements still reach the server in the order they were made: before any other
    query of Django's on this connection (a statement wrapper), and at the end of the
    block, the caller waits for the queued COPYs, and the first error one met is raised
    there as Django's (an IntegrityError, say). A block inside another one changes nothing.
    """
    if connection.vendor != "postgresql" or getattr(connection, "_write_behind", None) is not None:
        yield
        return
    connection.ensure_connection()
    behind = _WriteBehind(connection.connection)
    connection._write_behind = behind
    try:
        with connection.execute_wrapper(behind.before_statement):
            yield
            behind.join()
    finally:
        connection._write_behind = None
        behind.close()


# Statements the caller need not wait for: Django's savepoint statements (`ROLLBACK TO
# SAVEPOINT` does wait, so the error that caused it is raised first).
_QUEUED_STATEMENTS = ("SAVEPOINT ", "RELEASE SAVEPOINT ")


class _WriteBehind:
    """The thread of `writing_behind` and its queue of COPYs (statement, data blocks).

    The thread uses the psycopg connection itself, which serialises its users; Django's
    connection is never touched from it."""

    def __init__(self, raw_connection):
        self._raw = raw_connection
        self._jobs: queue.Queue = queue.Queue()
        self._error: BaseException | None = None  # the first failure, until `join` raises it
        self._discard = False
        self._thread = threading.Thread(target=self._work, name="bulkload-write-behind", daemon=True)
        self._thread.start()

    def submit(self, statement: sql.Composable, chunks: list | None) -> None:
        self._jobs.put((statement, chunks))

    def before_statement(self, execute, sql_text, params, many, context):
        if not params and not many and isinstance(sql_text, str) and sql_text.startswith(_QUEUED_STATEMENTS):
            # A savepoint made or released (an atomic block entered or left, around
            # every flush and every file) returns nothing: queued in its place among
            # the COPYs rather than waiting for them.
            self._jobs.put((sql_text, None))
            return None
        self.join()
        return execute(sql_text, params, many, context)

    def join(self) -> None:
        """Wait until every queued COPY has been sent and done; raise the first error."""
        self._jobs.join()
        if self._error is not None:
            error, self._error = self._error, None
            with connection.wrap_database_errors:
                raise error

    def close(self) -> None:
        """End the thread. COPYs still queued (the block ended with an exception) are
        dropped: the transaction they belong to is being rolled back."""
        self._discard = True
        self._jobs.put(None)
        self._thread.join()
        if self._error is not None:
            logger.debug("A COPY written behind failed while the block ended: %s", self._error)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                # After a failure the transaction is aborted: the COPYs queued behind the
                # failed one are skipped until the caller has seen the error.
                if self._error is None and not self._discard:
                    statement, chunks = job
                    with self._raw.cursor() as cursor:
                        if chunks is None:
                            cursor.execute(statement)
                            continue
                        with cursor.copy(statement) as copy:
                            for chunk in chunks:
                                copy.write(chunk)
            except BaseException as error:  # raised in the caller's thread by `join`
                self._error = error
            finally:
                self._jobs.task_done()


# A column's database type -> the psycopg type whose binary dumper writes it. The values
# are those `_prepared` hands over: Python's own types, and JSON already encoded as text.
_BINARY_TYPES = {
    "varchar": "text",
    "text": "text",
    "smallint": "int2",
    "integer": "int4",
    "bigint": "int8",
    "boolean": "bool",
    "numeric": "numeric",
    "date": "date",
    "timestamp with time zone": "timestamptz",
    "uuid": "uuid",
    "double precision": "float8",
    "jsonb": "jsonb",
}


@cache
def _binary_types(fields: tuple[models.Field, ...]) -> list[str] | None:
    """The psycopg type of each column for a binary COPY, or None (text COPY) when a
    column's type is not one of `_BINARY_TYPES`."""
    types = []
    for field in fields:
        db_type = (field.db_type(connection) or "").split("(")[0].strip()
        if db_type not in _BINARY_TYPES:
            return None
        types.append(_BINARY_TYPES[db_type])
    return types


class _JsonText(str):
    """Never instantiated: the class `_JsonTextBinaryDumper` is registered under."""


class _JsonTextBinaryDumper(Dumper):
    """jsonb's binary form of JSON that `_preparer` encoded already: a version byte, then
    the text (psycopg's own jsonb dumper would encode the text again, as a JSON string)."""

    format = Format.BINARY
    oid = postgres.types["jsonb"].oid

    def dump(self, obj: str) -> bytes:
        return b"\x01" + obj.encode()


def _executemany_insert(table: str, fields: Sequence[models.Field], rows: Iterable[Sequence[Any]], suffix="") -> None:
    """SQLite: each value prepared by its field exactly as the ORM would store it."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    marks = ", ".join("%s" for _ in fields)
    statement = f"INSERT INTO {quote(table)} ({columns}) VALUES ({marks}){suffix}"
    batch: list[list[Any]] = []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append([_sqlite_value(f, v) for f, v in zip(fields, row, strict=True)])
            if len(batch) >= BATCH:
                cursor.executemany(statement, batch)
                batch = []
        if batch:
            cursor.executemany(statement, batch)


def _sqlite_value(field: models.Field, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, decimal.Decimal | dt.date) or isinstance(field, JSONField):
        return field.get_db_prep_save(value, connection)
    return value
