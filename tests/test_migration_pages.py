"""The steward's web import: upload, preview, confirm, download rejects, settle conflicts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from customers.models import Account, AccountAlias
from migration.models import ImportConflict, ImportRun, MatchReview
from tests.factories import AccountFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = str(tmp_path / "uploads")


def _workbook(rows) -> SimpleUploadedFile:
    import io

    wb = Workbook()
    ws = wb.active
    ws.append(["Client ID", "Client Name", "Product", "Start Date", "Renewal Date", "Annual Value"])
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile("client master.xlsx", buffer.getvalue())


ROWS = [
    ["CC401", "Upload Client Pty Ltd", "DataVault", "1/07/2025", "1/07/2026", "$5,000"],
    ["CC402", "", "DataVault", "1/07/2026", "1/07/2027", "$5,000"],  # a contract with no client
]


def test_a_steward_previews_then_confirms_an_upload(client_for, django_capture_on_commit_callbacks):
    client = client_for("data_steward")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("migration:importrun_list"), {"files": [_workbook(ROWS)]})
    preview = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == preview.get_absolute_url()
    preview.refresh_from_db()
    assert preview.status == "previewed" and Account.objects.count() == 0
    page = client.get(preview.get_absolute_url()).content.decode()
    assert "Confirm and import" in page and "Download (1)" in page

    rejected = client.get(reverse("migration:importfile_rejected", args=[preview.files.get().pk]))
    assert rejected["Content-Type"].startswith("text/csv")
    assert "no client name" in rejected.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(reverse("migration:importrun_confirm", args=[preview.pk]))
    real = ImportRun.objects.exclude(pk=preview.pk).get()
    assert confirmed["Location"] == real.get_absolute_url()
    real.refresh_from_db()
    assert real.status == "succeeded" and not real.dry_run
    assert list(Account.objects.values_list("code", flat=True)) == ["CC401"]


def test_the_run_page_answers_htmx_polls_with_its_status_partial(client_for):
    run = ImportRun.objects.create(status="running")
    html = client_for("data_steward").get(run.get_absolute_url(), HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" in html and "<html" not in html


def test_the_run_page_lists_a_stores_own_counts_beside_the_usual_columns(client_for):
    from migration.models import ImportFile

    run = ImportRun.objects.create(status="succeeded", report={"files": []})
    ImportFile.objects.create(
        run=run, name="xero.csv", store="d4", status="imported", counts={"read": 4541, "values updated": 124}
    )
    html = client_for("data_steward").get(run.get_absolute_url()).content.decode()
    assert "Read: 4541" in html and "Values updated: 124" in html


def test_a_bad_upload_keeps_the_page_and_says_why(client_for):
    response = client_for("data_steward").post(reverse("migration:importrun_list"), {})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()


def test_confirming_something_that_is_not_a_dry_run_is_refused(client_for):
    run = ImportRun.objects.create(status="succeeded")
    response = client_for("data_steward").post(reverse("migration:importrun_confirm", args=[run.pk]), follow=True)
    assert "Only a finished dry run" in response.content.decode()
    assert ImportRun.objects.count() == 1


def test_a_steward_applies_the_other_value_of_a_conflict_with_history(client_for, personas):
    subscription = SubscriptionFactory(annual_value=Decimal("12000.00"))
    conflict = ImportConflict.objects.create(
        account=subscription.account,
        subscription=subscription,
        field="annual_value",
        kept_store="d4",
        kept_value="12000.00",
        other_store="d1",
        other_value="12500.00",
    )
    client = client_for("data_steward")
    client.post(
        reverse("migration:importconflict_resolve", args=[conflict.pk]),
        {"apply_other": "1", "reason": "Signed contract says 12,500"},
    )
    subscription.refresh_from_db()
    conflict.refresh_from_db()
    assert subscription.annual_value == Decimal("12500.00")
    assert conflict.status == "applied" and conflict.resolved_by == personas["data_steward"]
    assert subscription.history.latest().history_change_reason == "Signed contract says 12,500"


def test_keeping_the_current_value_changes_nothing(client_for):
    subscription = SubscriptionFactory(annual_value=Decimal("12000.00"))
    conflict = ImportConflict.objects.create(
        account=subscription.account,
        subscription=subscription,
        field="annual_value",
        kept_store="d4",
        kept_value="12000.00",
        other_store="d1",
        other_value="9000.00",
    )
    client_for("data_steward").post(
        reverse("migration:importconflict_resolve", args=[conflict.pk]), {"apply_other": "0", "reason": "Xero is right"}
    )
    subscription.refresh_from_db()
    assert subscription.annual_value == Decimal("12000.00")
    assert ImportConflict.objects.get().status == "kept"


def test_resolving_a_held_name_makes_it_an_alias(client_for):
    account = AccountFactory(legal_name="Harbour Dental Perth Pty Ltd")
    review = MatchReview.objects.create(store="d4", file="xero.csv", row=7, incoming_name="Harbour Dental Nth")
    client_for("data_steward").post(reverse("migration:matchreview_resolve", args=[review.pk]), {"code": account.code})
    review.refresh_from_db()
    assert review.status == "resolved"
    assert AccountAlias.objects.filter(account=account, value="Harbour Dental Nth").exists()


def test_an_unknown_client_code_is_refused(client_for):
    review = MatchReview.objects.create(store="d4", file="xero.csv", row=7, incoming_name="Nobody")
    response = client_for("data_steward").post(
        reverse("migration:matchreview_resolve", args=[review.pk]), {"code": "CC999999"}, follow=True
    )
    assert "Enter the code of an existing client" in response.content.decode()
    assert MatchReview.objects.get().status == "open"


def test_the_import_pages_keep_their_query_count_as_runs_grow(client_for, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for("data_steward")

    def count(url):
        with django_assert_max_num_queries(15), CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    for _ in range(2):
        ImportRun.objects.create(status="succeeded")
    small = [count(reverse("migration:importrun_list")), count(reverse("migration:importconflict_list"))]
    for _ in range(20):
        ImportRun.objects.create(status="succeeded")
    assert [count(reverse("migration:importrun_list")), count(reverse("migration:importconflict_list"))] == small
