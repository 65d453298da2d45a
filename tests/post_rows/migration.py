"""POST rows for the steward import pages: only data stewards start, confirm and settle imports."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile

from migration.choices import ConflictStatus, ReviewStatus, RunStatus
from migration.models import ImportConflict, ImportRun, MatchReview, Provenance
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


def _upload(world: dict) -> dict:
    body = (SAMPLES / "xero_sales_invoices_export.csv").read_bytes()
    return {"files": SimpleUploadedFile("xero_sales_invoices_export.csv", body, content_type="text/csv")}


def _conflict_resolved(world: dict, role: str) -> None:
    conflict = ImportConflict.objects.get(pk=world["conflict"].pk)
    assert conflict.status == ConflictStatus.KEPT and conflict.resolved_by.username == role


def _review_resolved(world: dict, role: str) -> None:
    review = MatchReview.objects.get(pk=world["review"].pk)
    assert review.status != ReviewStatus.OPEN


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
}

READ_ONLY = {
    "migration:importrun_detail",
    "migration:importfile_rejected",
    "migration:importconflict_list",
    "migration:matchreview_list",
}
