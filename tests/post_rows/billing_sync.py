"""POST rows for the Xero reconciliation: Finance and data stewards upload, confirm, map and resolve."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from billing_sync.choices import MatchStatus
from billing_sync.models import Discrepancy, XeroContact, XeroImport
from tests.post_rows import PostRow, allowed

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
WRITERS = ("finance", "data_steward")


def build(world: dict, personas: dict) -> None:
    world["xero_preview"] = XeroImport.objects.create(
        started_by=personas["finance"], dry_run=True, status="previewed", upload_dir=tempfile.mkdtemp(prefix="xero-")
    )


def _upload(world: dict) -> dict:
    body = (SAMPLES / "xero_sales_invoices_export.csv").read_bytes()
    return {"files": SimpleUploadedFile("xero_sales_invoices_export.csv", body, content_type="text/csv")}


def _mapped(world: dict, role: str) -> None:
    contact = XeroContact.objects.get(pk=world["xero_contact"].pk)
    assert contact.account_id == world["account"].pk and contact.status != MatchStatus.HELD


def _resolved(world: dict, role: str) -> None:
    assert not Discrepancy.objects.get(pk=world["discrepancy"].pk).is_open


POSTS: dict[str, PostRow] = {
    "billing_sync:import_list": PostRow(allowed(*WRITERS), data=_upload),
    "billing_sync:import_confirm": PostRow(allowed(*WRITERS), kwargs=lambda w: {"pk": w["xero_preview"].pk}),
    "billing_sync:contact_map": PostRow(
        allowed(*WRITERS),
        kwargs=lambda w: {"pk": w["xero_contact"].pk},
        data=lambda w: {"code": w["account"].code, "reason": "POST matrix: their Xero name"},
        done=_mapped,
    ),
    "billing_sync:discrepancy_resolve": PostRow(
        allowed(*WRITERS),
        kwargs=lambda w: {"pk": w["discrepancy"].pk},
        data=lambda w: {"resolution": "explained", "reason": "POST matrix: a one-off credit"},
        done=_resolved,
    ),
}

READ_ONLY = {
    "billing_sync:import_detail",
    "billing_sync:importfile_rejected",
    "billing_sync:contact_list",
    "billing_sync:discrepancy_list",
    "billing_sync:discrepancy_detail",
    "billing_sync:handoff_list",
}
