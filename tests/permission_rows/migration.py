"""Matrix rows for the steward import pages."""

from __future__ import annotations

from cloudcore_crm.roles import ROLE_NAMES
from customers.models import Product
from migration.models import EvidencedSubscription, HeldValue, ImportConflict, ImportFile, ImportRun, MatchReview
from tests.permission_rows import ANON, only

STEWARDS = only("data_steward")
POST_ONLY = {**dict.fromkeys(ROLE_NAMES, 405), ANON: 302}  # POST only; anonymous users go to log in
ADMIN = only("data_steward", denied=302)

ROWS: dict[str, dict[str, int]] = {
    "migration:importrun_list": STEWARDS,
    "migration:importrun_detail": STEWARDS,
    "migration:importrun_confirm": POST_ONLY,
    "migration:importfile_rejected": STEWARDS,
    "migration:importconflict_list": STEWARDS,
    "migration:importconflict_resolve": POST_ONLY,
    "migration:matchreview_list": STEWARDS,
    "migration:matchreview_resolve": POST_ONLY,
    "migration:importconflict_bulk": POST_ONLY,
    "migration:matchreview_resolve_group": POST_ONLY,
    "migration:evidence_list": only("customer_relations", "data_steward"),
    "migration:evidence_decide": POST_ONLY,
    "migration:held_list": STEWARDS,
    "migration:held_map": POST_ONLY,
    "migration:drift_list": only("finance", "data_steward"),
    "migration:drift_resolve": POST_ONLY,
    "admin:migration_importrun_changelist": ADMIN,
    "admin:migration_importfile_changelist": ADMIN,
    "admin:migration_provenance_changelist": ADMIN,
    "admin:migration_importconflict_changelist": ADMIN,
    "admin:migration_matchreview_changelist": ADMIN,
    "admin:migration_productalias_changelist": ADMIN,
    "admin:migration_staffalias_changelist": ADMIN,
    "admin:migration_surveylabel_changelist": ADMIN,
    "admin:migration_stageword_changelist": ADMIN,
    "admin:migration_heldvalue_changelist": ADMIN,
    "admin:migration_evidencedsubscription_changelist": ADMIN,
}


def build(world: dict, personas: dict) -> None:
    run = ImportRun.objects.create(started_by=personas["data_steward"], status="succeeded")
    world["import_run"] = run
    world["import_file"] = ImportFile.objects.create(run=run, name="d1.xlsx", status="imported", rejected_csv="row\n")
    world["conflict"] = ImportConflict.objects.create(
        account=world["account"], field="abn", kept_store="d1", other_store="d4", other_value="51824753556"
    )
    world["review"] = MatchReview.objects.create(store="d4", file="x.csv", row=2, incoming_name="Acme")
    world["evidence"] = EvidencedSubscription.objects.create(
        account=world["account"], product=Product.objects.get(code="cloudsync"), stores=["d4"]
    )
    world["held"] = HeldValue.objects.create(kind="staff", value="Mei Chen", key="mei chen", rows=3)
    world["drift"] = ImportConflict.objects.create(
        account=world["account"], field="annual_value", kind="drift", kept_store="d4", other_store="d1"
    )


def url_kwargs(name: str, world: dict) -> dict:
    return {
        "migration:importrun_detail": {"pk": world["import_run"].pk},
        "migration:importrun_confirm": {"pk": world["import_run"].pk},
        "migration:importfile_rejected": {"pk": world["import_file"].pk},
        "migration:importconflict_resolve": {"pk": world["conflict"].pk},
        "migration:matchreview_resolve": {"pk": world["review"].pk},
        "migration:evidence_decide": {"pk": world["evidence"].pk},
        "migration:held_map": {"pk": world["held"].pk},
        "migration:drift_resolve": {"pk": world["drift"].pk},
    }.get(name, {})
