"""POST rows for the steward import pages: only data stewards start, confirm and settle imports."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile

from customers.models import Product
from migration import services
from migration.choices import ConflictStatus, HeldKind, HeldStatus, ReviewStatus, RunStatus
from migration.models import (
    EvidencedSubscription,
    HeldValue,
    ImportConflict,
    ImportRun,
    MatchReview,
    Provenance,
    StaffAlias,
)
from migration.views import _review_groups
from tests.post_rows import PostRow, allowed

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def build(world: dict, personas: dict) -> None:
    upload_dir = tempfile.mkdtemp(prefix="post-matrix-")
    world["preview"] = ImportRun.objects.create(
        started_by=personas["data_steward"], dry_run=True, status=RunStatus.PREVIEWED, upload_dir=upload_dir
    )
    account = world["account"]
    world["provenance"] = Provenance.objects.create(
        content_type=ContentType.objects.get_for_model(account),
        object_id=account.pk,
        store="d1",
        file="d1.xlsx",
        row=2,
        fields=["legal_name"],
        run=world["import_run"],
    )
    # A steward's mappings of held values (through the service, as the held page does):
    # one alias of each kind, so their admin pages have a record to show.
    steward = personas["data_steward"]
    for kind, value, mapping in (
        (HeldKind.PRODUCT, "Sync Cloud", {"product": Product.objects.get(code="cloudsync")}),
        (HeldKind.STAFF, "Sam Rep", {"user": personas["sales_rep"]}),
        (HeldKind.SURVEY, "Very happy", {"score": 9}),
        (HeldKind.STAGE, "Negotiation", {"stage": "proposal"}),
    ):
        held = HeldValue.objects.create(kind=kind, value=value, key=value.lower(), rows=1)
        services.map_held_value(held=held, actor=steward, **mapping)


def _upload(world: dict) -> dict:
    body = (SAMPLES / "xero_sales_invoices_export.csv").read_bytes()
    return {"files": SimpleUploadedFile("xero_sales_invoices_export.csv", body, content_type="text/csv")}


def _conflict_resolved(world: dict, role: str) -> None:
    conflict = ImportConflict.objects.get(pk=world["conflict"].pk)
    assert conflict.status == ConflictStatus.KEPT and conflict.resolved_by.username == role


def _review_resolved(world: dict, role: str) -> None:
    review = MatchReview.objects.get(pk=world["review"].pk)
    assert review.status != ReviewStatus.OPEN


def _conflicts_kept(world: dict, role: str) -> None:
    assert not ImportConflict.objects.filter(status=ConflictStatus.OPEN, field="abn").exists()


def _group_resolved(world: dict, role: str) -> None:
    assert MatchReview.objects.get(pk=world["review"].pk).status != ReviewStatus.OPEN


def _group_key(world: dict) -> str:
    return next(g["key"] for g in _review_groups() if world["review"] in g["reviews"])


def _evidence_decided(world: dict, role: str) -> None:
    assert EvidencedSubscription.objects.get(pk=world["evidence"].pk).decided_by.username == role


def _held_mapped(world: dict, role: str) -> None:
    assert HeldValue.objects.get(pk=world["held"].pk).status != HeldStatus.OPEN
    assert StaffAlias.objects.filter(value="Mei Chen", user=world["personas"]["sales_rep"]).exists()


def _drift_settled(world: dict, role: str) -> None:
    drift = ImportConflict.objects.get(pk=world["drift"].pk)
    assert drift.status != ConflictStatus.OPEN and drift.resolved_by.username == role


POSTS: dict[str, PostRow] = {
    "migration:importrun_list": PostRow(allowed("data_steward"), data=_upload),
    "migration:importrun_confirm": PostRow(allowed("data_steward"), kwargs=lambda w: {"pk": w["preview"].pk}),
    "migration:importconflict_resolve": PostRow(
        allowed("data_steward"),
        kwargs=lambda w: {"pk": w["conflict"].pk},
        data=lambda w: {"apply_other": "0", "reason": "POST matrix: the master is right"},
        done=_conflict_resolved,
    ),
    "migration:matchreview_resolve": PostRow(
        allowed("data_steward"),
        kwargs=lambda w: {"pk": w["review"].pk},
        data=lambda w: {"code": w["account"].code},
        done=_review_resolved,
    ),
    "migration:importconflict_bulk": PostRow(
        allowed("data_steward"),
        data=lambda w: {"field": "abn", "action": "keep", "reason": "POST matrix: the master is right"},
        done=_conflicts_kept,
    ),
    "migration:matchreview_resolve_group": PostRow(
        allowed("data_steward"),
        data=lambda w: {"key": _group_key(w), "code": w["account"].code},
        done=_group_resolved,
    ),
    # Subscriptions the import found from evidence: Customer Relations (or a steward) decides.
    "migration:evidence_decide": PostRow(
        allowed("customer_relations", "data_steward"),
        kwargs=lambda w: {"pk": w["evidence"].pk},
        data=lambda w: {"decision": "confirmed", "reason": "POST matrix: they use it"},
        done=_evidence_decided,
    ),
    "migration:held_map": PostRow(
        allowed("data_steward"),
        kwargs=lambda w: {"pk": w["held"].pk},
        data=lambda w: {"user": w["personas"]["sales_rep"].pk},
        done=_held_mapped,
    ),
    # Contract-value drift is Finance's (or a steward's) to settle.
    "migration:drift_resolve": PostRow(
        allowed("finance", "data_steward"),
        kwargs=lambda w: {"pk": w["drift"].pk},
        data=lambda w: {"apply_other": "0", "reason": "POST matrix: the contract says so"},
        done=_drift_settled,
    ),
}

READ_ONLY = {
    "migration:evidence_list",
    "migration:held_list",
    "migration:drift_list",
    "migration:importrun_detail",
    "migration:importfile_rejected",
    "migration:importconflict_list",
    "migration:matchreview_list",
}
