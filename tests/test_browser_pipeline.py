"""The pipeline board in headless Chromium: a card moves and the column counts change
without a reload (fixtures from tests/test_browser.py)."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from customers.models import StageChange
from tests.factories import OpportunityFactory
from tests.test_browser import WAIT, _mark_page, _same_page, browser, log_in  # noqa: F401 - the shared browser fixtures

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _count(driver, stage: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, f'[data-stage="{stage}"] .count').text


def test_a_rep_moves_a_card_and_the_column_counts_change_without_a_reload(log_in, live_server, personas):  # noqa: F811
    deal = OpportunityFactory(owner=personas["sales_rep"], name="Backup rollout", stage="qualified")
    StageChange.objects.create(opportunity=deal, to_stage="qualified")
    browser = log_in("sales_rep")  # noqa: F811
    browser.get(f"{live_server.url}/pipeline/?view=none")
    assert (_count(browser, "qualified"), _count(browser, "meeting")) == ("1", "0")
    _mark_page(browser)
    logs_before = browser.get_log("browser")

    move = f"#deal-{deal.pk} button[aria-label^='Move Backup rollout to Meeting']"
    browser.find_element(By.CSS_SELECTOR, move).click()

    WebDriverWait(browser, WAIT).until(lambda b: _count(b, "meeting") == "1")
    assert _count(browser, "qualified") == "0"
    assert "Moved Backup rollout to Meeting" in browser.find_element(By.ID, "board").text
    assert _same_page(browser)
    assert StageChange.objects.filter(opportunity=deal, from_stage="qualified", to_stage="meeting").count() == 1
    errors = [e for e in browser.get_log("browser")[len(logs_before) :] if e["level"] == "SEVERE"]
    assert errors == []
