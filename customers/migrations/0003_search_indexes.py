"""Trigram indexes for substring search on PostgreSQL (no-op on SQLite).

Django's `icontains` compiles to `UPPER(col::text) LIKE UPPER(%s)` on PostgreSQL, so the
indexes are on the same expression. Production creates the extension as an administrator
before migrating if the application role may not (see README).
"""

from django.db import migrations

INDEXES = [
    ("customers_account_legal_trgm", "customers_account", 'UPPER("legal_name"::text)'),
    ("customers_account_trading_trgm", "customers_account", 'UPPER("trading_name"::text)'),
    ("customers_account_norm_trgm", "customers_account", '"normalised_name"'),
    ("customers_alias_norm_trgm", "customers_accountalias", '"normalised_value"'),
    ("customers_contact_first_trgm", "customers_contact", 'UPPER("first_name"::text)'),
    ("customers_contact_last_trgm", "customers_contact", 'UPPER("last_name"::text)'),
    ("customers_contact_email_trgm", "customers_contact", 'UPPER("email"::text)'),
    ("customers_contact_phone_trgm", "customers_contact", '"phone_digits"'),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, expression in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (({expression}) gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _expression in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_products")]
    operations = [migrations.RunPython(create, drop)]
