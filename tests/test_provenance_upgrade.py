"""Upgrading a database imported before provenance was kept per sheet: every row survives,
folded into one record per record and sheet."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("migration", "0002_d2_helpdesk_stores")]
AFTER = [("migration", "0003_provenance_per_sheet")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # restores migration-made rows
def test_per_row_provenance_is_folded_into_one_record_per_sheet():
    old_apps = _migrate(BEFORE)
    try:
        ContentType = old_apps.get_model("contenttypes", "ContentType")
        Provenance = old_apps.get_model("migration", "Provenance")
        account_type = ContentType.objects.get(app_label="customers", model="account")
        for row, fields in [(57, ["legal_name"]), (9, ["abn"]), (312, ["legal_name", "phone"])]:
            Provenance.objects.create(
                content_type=account_type,
                object_id=1,
                store="d1",
                file="cm.xlsx",
                sheet="Clients",
                row=row,
                fields=fields,
            )
        Provenance.objects.create(
            content_type=account_type, object_id=2, store="d1", file="cm.xlsx", sheet="Clients", row=58, fields=["abn"]
        )
    finally:
        new_apps = _migrate(AFTER)

    Provenance = new_apps.get_model("migration", "Provenance")
    folded = Provenance.objects.get(object_id=1)
    assert (folded.row, folded.rows, folded.fields) == (9, [9, 57, 312], ["abn", "legal_name", "phone"])
    single = Provenance.objects.get(object_id=2)
    assert (single.row, single.rows) == (58, [58])


def test_provenance_names_its_rows_briefly():
    from migration.models import Provenance

    one = Provenance(store="d1", file="cm.xlsx", sheet="Clients", row=57, rows=[57])
    many = Provenance(store="d4", file="xero.csv", row=2, rows=[2, 9, 14, 30, 41, 77, 90])
    assert str(one) == "D1 client master: cm.xlsx [Clients] row 57"
    assert str(many) == "D4 Xero sales invoices: xero.csv rows 2, 9, 14, 30, 41 and 2 more"
