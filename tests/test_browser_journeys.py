"""What users do, in headless Chromium: a merge and its undo, an alert acknowledged, a
role that sees a field it does not own as read-only. Every test fails on any error in
the browser's JavaScript console (a broken htmx swap, a missing script, a CSP refusal).

Same set-up as tests/test_browser.py (Debian's chromium and chromium-driver; skipped
without them unless REQUIRE_BROWSER=1).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from decimal import Decimal

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from customers.models import Account, AccountMerge
from support_bridge.models import ChurnAlert
from tests.factories import AccountFactory, DuplicateCandidateFactory, SubscriptionFactory
from tests.factories_support import ChurnAlertFactory

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
if not (CHROMIUM and CHROMEDRIVER):
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise RuntimeError("REQUIRE_BROWSER=1 but chromium or chromedriver is not installed")
    pytest.skip("chromium and chromedriver are not installed", allow_module_level=True)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keeps the role groups
WAIT = 10


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(autouse=True)
def no_console_errors(browser):
    browser.get_log("browser")  # drop what an earlier test left
    yield
    # Chromium asks every site for /favicon.ico by itself; the project serves none (a 404
    # the page never asked for). Anything else at SEVERE fails the test.
    errors = [
        entry
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" and "/favicon.ico" not in entry["message"]
    ]
    assert not errors, f"JavaScript console errors: {errors}"


@pytest.fixture
def log_in(browser, live_server, personas):
    def log_in_as(role: str):
        browser.delete_all_cookies()
        browser.get(f"{live_server.url}/accounts/login/")
        browser.find_element(By.NAME, "username").send_keys(personas[role].username)
        browser.find_element(By.NAME, "password").send_keys("cloudcore-demo")
        browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        WebDriverWait(browser, WAIT).until(lambda b: "/accounts/login/" not in b.current_url)
        return browser

    return log_in_as


def _wait_for_text(browser, text: str) -> None:
    # The form posts and the browser follows a redirect: the old body may go stale meanwhile.
    wait = WebDriverWait(browser, WAIT, ignored_exceptions=(StaleElementReferenceException,))
    wait.until(lambda b: text in b.find_element(By.TAG_NAME, "body").text)


def test_a_steward_merges_a_duplicate_pair_then_undoes_the_merge(log_in, live_server):
    candidate = DuplicateCandidateFactory(
        account_a=AccountFactory(legal_name="Acme Pty Ltd", phone="08 5550 1234"),
        account_b=AccountFactory(legal_name="ACME", phone="08 5550 9999"),
    )
    kept, gone = candidate.account_a, candidate.account_b
    browser = log_in("data_steward")
    browser.get(f"{live_server.url}/customers/duplicates/{candidate.pk}/")
    browser.find_element(By.NAME, "reason").send_keys("Same client entered by Sales and Finance")
    browser.find_element(By.CSS_SELECTOR, "button[name=action][value=merge]").click()

    _wait_for_text(browser, f"Merged {gone.code}")
    assert browser.current_url.rstrip("/").endswith(kept.code)
    assert Account.objects.get(pk=gone.pk).merged_into_id == kept.pk

    merge = AccountMerge.objects.get(survivor=kept, duplicate=gone)
    browser.get(f"{live_server.url}/customers/duplicates/merges/{merge.pk}/")
    browser.find_element(By.NAME, "reason").send_keys("Two clients after all: different ABNs")
    browser.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()

    _wait_for_text(browser, "Merge undone")
    restored = Account.objects.get(pk=gone.pk)
    assert restored.merged_into_id is None and restored.phone == "08 5550 9999"
    browser.get(f"{live_server.url}{restored.get_absolute_url()}")
    assert "ACME" in browser.find_element(By.TAG_NAME, "h1").text


def test_the_account_owner_acknowledges_a_churn_alert_from_the_home_page(log_in, live_server, personas):
    account = AccountFactory(legal_name="Meridian Health Partners Pty Ltd", owner=personas["sales_rep"])
    alert = ChurnAlertFactory(account=account, owner=personas["sales_rep"])
    browser = log_in("sales_rep")
    browser.get(f"{live_server.url}/")
    panel = browser.find_element(By.CSS_SELECTOR, ".alerts-panel")
    assert account.code in panel.text and "7 tickets in 180 days" in panel.text

    panel.find_element(By.NAME, "note").send_keys("Booked a call with their CFO for Monday")
    panel.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    _wait_for_text(browser, f"Acknowledged the alert on {account.code}")
    alert = ChurnAlert.objects.get(pk=alert.pk)
    assert alert.acknowledged_by == personas["sales_rep"] and alert.note == "Booked a call with their CFO for Monday"
    assert not browser.find_elements(By.CSS_SELECTOR, ".alerts-panel form.ack-form")


def test_finance_sees_the_seats_read_only_and_changes_only_the_contract_value(log_in, live_server):
    subscription = SubscriptionFactory(
        account=AccountFactory(legal_name="Harbourside Legal Ltd"),
        annual_value=Decimal("6500.00"),
        renewal_date=dt.date(2026, 9, 1),
    )
    browser = log_in("finance")
    browser.get(f"{live_server.url}/customers/{subscription.account.code}/subscriptions/{subscription.pk}/edit/")

    seats = browser.find_element(By.NAME, "seats")
    assert seats.get_attribute("disabled") is not None
    seats_help = browser.find_element(By.XPATH, "//*[@name='seats']/ancestor::div[contains(@class,'field')]")
    assert "Owned by Customer Relations" in seats_help.text
    value = browser.find_element(By.NAME, "annual_value")
    assert value.get_attribute("disabled") is None

    value.clear()
    value.send_keys("7000.00")
    browser.find_element(By.NAME, "reason").send_keys("Matches Xero INV-0105")
    value.submit()

    _wait_for_text(browser, "Saved subscription")
    subscription.refresh_from_db()
    assert (subscription.annual_value, subscription.seats) == (Decimal("7000.00"), 10)
