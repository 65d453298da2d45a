"""The billing pages whose behaviour lives in htmx, in headless Chromium (skipped without
it, like tests/test_browser.py, whose fixtures these reuse)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from billing_sync.choices import Cause, RunStatus
from billing_sync.models import Discrepancy, XeroImport
from billing_sync.services import PROGRESS_KEY
from tests.factories import AccountFactory
from tests.test_browser import WAIT, _mark_page, _same_page, browser, log_in  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keeps the role groups


def test_choosing_a_cause_refreshes_the_queue_in_place(log_in, live_server):  # noqa: F811 - fixture
    Discrepancy.objects.create(
        key="value:1", cause=Cause.VALUE, account=AccountFactory(legal_name="Value Client Pty Ltd"), amount=Decimal(9)
    )
    Discrepancy.objects.create(
        key="not_billed:1",
        cause=Cause.NOT_BILLED,
        account=AccountFactory(legal_name="Unbilled Client Pty Ltd"),
        amount=Decimal(5),
    )
    page = log_in("finance")
    page.get(f"{live_server.url}/billing/discrepancies/")
    _mark_page(page)

    Select(page.find_element(By.ID, "id_cause")).select_by_value(Cause.NOT_BILLED)

    WebDriverWait(page, WAIT).until(lambda b: "Value Client" not in b.find_element(By.ID, "discrepancy-table").text)
    assert "Unbilled Client" in page.find_element(By.ID, "discrepancy-table").text
    assert _same_page(page) and "cause=not_billed" in page.current_url


def test_a_running_xero_import_shows_its_progress_then_its_report(log_in, live_server, personas):  # noqa: F811
    run = XeroImport.objects.create(started_by=personas["finance"], status=RunStatus.RUNNING, rows_total=1000)
    cache.set(PROGRESS_KEY.format(pk=run.pk), 250)
    page = log_in("finance")
    page.get(f"{live_server.url}{run.get_absolute_url()}")
    assert "250 of 1,000 rows read" in page.page_source
    _mark_page(page)

    cache.set(PROGRESS_KEY.format(pk=run.pk), 750)
    WebDriverWait(page, WAIT).until(lambda b: "750 of 1,000 rows read" in b.page_source)
    XeroImport.objects.filter(pk=run.pk).update(
        status=RunStatus.SUCCEEDED, report={"reconciliation": {"opened": 3, "reopened": 0}}
    )
    WebDriverWait(page, WAIT).until(lambda b: "discrepancies opened" in b.page_source)
    assert _same_page(page)
