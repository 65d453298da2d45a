"""Matrix rows for the Xero reconciliation: Finance and data stewards import, map and
resolve; executives read the queue; every role reads a customer's open discrepancies on
its 360 page (tested in tests/test_billing_pages.py)."""

from __future__ import annotations

from decimal import Decimal

from billing_sync.choices import Cause, FileStatus, ImportKind, MatchStatus
from billing_sync.models import Discrepancy, XeroContact, XeroImport, XeroImportFile
from cloudcore_crm.roles import ROLE_NAMES
from tests.permission_rows import ANON, only

POST_ONLY = {**dict.fromkeys(ROLE_NAMES, 405), ANON: 302}
WRITERS = ("finance", "data_steward")
READERS = ("finance", "data_steward", "executive")

ROWS: dict[str, dict[str, int]] = {
    "billing_sync:import_list": only(*WRITERS),
    "billing_sync:import_detail": only(*WRITERS),
    "billing_sync:import_confirm": POST_ONLY,
    "billing_sync:importfile_rejected": only(*WRITERS),
    "billing_sync:contact_list": only(*WRITERS),
    "billing_sync:contact_map": POST_ONLY,
    "billing_sync:discrepancy_list": only(*READERS),
    "billing_sync:discrepancy_detail": only(*READERS),
    "billing_sync:discrepancy_resolve": POST_ONLY,
    "billing_sync:handoff_list": only(*READERS),
    "admin:billing_sync_xerocontact_changelist": only("data_steward", denied=302),
    "admin:billing_sync_xerocontact_change": only("data_steward", denied=302),
    "admin:billing_sync_xerocontact_history": only("data_steward", denied=302),
    "admin:billing_sync_discrepancy_changelist": only("data_steward", denied=302),
    "admin:billing_sync_discrepancy_change": only("data_steward", denied=302),
    "admin:billing_sync_discrepancy_history": only("data_steward", denied=302),
}


def build(world: dict, personas: dict) -> None:
    from tests.factories import AccountFactory

    run = XeroImport.objects.create(started_by=personas["finance"], dry_run=False, status="succeeded")
    world["xero_import"] = run
    world["xero_file"] = XeroImportFile.objects.create(
        run=run, name="x.csv", kind=ImportKind.INVOICES, status=FileStatus.REJECTED, rejected_csv="a,Reason\n"
    )
    world["xero_contact"] = XeroContact.objects.create(
        name="Perm Pty Ltd", name_key="perm pty ltd", status=MatchStatus.HELD
    )
    world["discrepancy"] = Discrepancy.objects.create(
        key="not_in_crm:perm", cause=Cause.NOT_IN_CRM, account=AccountFactory(), amount=Decimal("100")
    )


def url_kwargs(name: str, world: dict) -> dict:
    return {
        "billing_sync:import_detail": {"pk": world["xero_import"].pk},
        "billing_sync:import_confirm": {"pk": world["xero_import"].pk},
        "billing_sync:importfile_rejected": {"pk": world["xero_file"].pk},
        "billing_sync:contact_map": {"pk": world["xero_contact"].pk},
        "billing_sync:discrepancy_detail": {"pk": world["discrepancy"].pk},
        "billing_sync:discrepancy_resolve": {"pk": world["discrepancy"].pk},
        "admin:billing_sync_xerocontact_change": {"object_id": world["xero_contact"].pk},
        "admin:billing_sync_xerocontact_history": {"object_id": world["xero_contact"].pk},
        "admin:billing_sync_discrepancy_change": {"object_id": world["discrepancy"].pk},
        "admin:billing_sync_discrepancy_history": {"object_id": world["discrepancy"].pk},
    }.get(name, {})
