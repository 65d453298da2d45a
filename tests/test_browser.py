"""The pages whose behaviour lives in the browser (htmx), driven in headless Chromium.

Each test logs in through the real login form, marks the page's `window`, and checks the
mark is still there after the interaction: the page changed in place, without a reload.

Needs Debian's `chromium` and `chromium-driver`; skipped without them, except where
`REQUIRE_BROWSER=1` (set by `.ci/run`, which installs them) turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil

import pytest
from django.core.cache import cache
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from customers.choices import Office
from migration.choices import RunStatus
from migration.models import ImportRun
from migration.services import PROGRESS_KEY
from tests.factories import AccountFactory, ContactFactory

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
if not (CHROMIUM and CHROMEDRIVER):
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise RuntimeError("REQUIRE_BROWSER=1 but chromium or chromedriver is not installed")
    pytest.skip("chromium and chromedriver are not installed", allow_module_level=True)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keeps the role groups
WAIT = 10  # seconds; htmx waits 300 ms after typing, the run page polls every 2 s


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
        "--disable-background-networking",  # the machine's closed network refuses them anyway
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


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


def _mark_page(browser) -> None:
    browser.execute_script("window.__sameDocument = true;")


def _same_page(browser) -> bool:
    return browser.execute_script("return window.__sameDocument === true;")


def test_typing_in_the_customer_search_filters_the_table_in_place(log_in, live_server):
    AccountFactory(legal_name="Meridian Health Partners Pty Ltd", code="CC009", number=9)
    for number in range(3):
        AccountFactory(legal_name=f"Other Client {number} Pty Ltd")
    browser = log_in("sales_rep")
    browser.get(f"{live_server.url}/customers/")
    table = browser.find_element(By.ID, "account-table")
    assert "Other Client 0" in table.text
    _mark_page(browser)

    browser.find_element(By.ID, "id_q").send_keys("Meridian")  # the list's own box, not the global search

    WebDriverWait(browser, WAIT).until(lambda b: "Other Client" not in b.find_element(By.ID, "account-table").text)
    assert "CC009" in browser.find_element(By.ID, "account-table").text
    assert _same_page(browser)
    assert "q=Meridian" in browser.current_url  # the filtered list has an address to share


def test_choosing_a_filter_refreshes_the_table_in_place(log_in, live_server):
    AccountFactory(legal_name="Perth Client Pty Ltd", office=Office.PERTH)
    AccountFactory(legal_name="Sydney Client Pty Ltd", office=Office.SYDNEY)
    browser = log_in("sales_manager")
    browser.get(f"{live_server.url}/customers/")
    _mark_page(browser)

    Select(browser.find_element(By.ID, "id_office")).select_by_value(Office.SYDNEY)

    WebDriverWait(browser, WAIT).until(lambda b: "Perth Client" not in b.find_element(By.ID, "account-table").text)
    assert "Sydney Client" in browser.find_element(By.ID, "account-table").text
    assert _same_page(browser) and "office=sydney" in browser.current_url


def test_the_agent_lookup_answers_in_place(log_in, live_server):
    account = AccountFactory(legal_name="Meridian Health Partners Pty Ltd", code="CC009", number=9)
    ContactFactory(account=account, first_name="Helen", last_name="Marsh", email="helen.marsh@meridian.example")
    browser = log_in("support_agent")
    browser.get(f"{live_server.url}/support/lookup/")
    _mark_page(browser)

    box = browser.find_element(By.ID, "lookup-q")
    box.send_keys("helen.marsh@meridian.example")
    box.submit()

    WebDriverWait(browser, WAIT).until(lambda b: "Meridian Health" in b.find_element(By.ID, "lookup-result").text)
    assert _same_page(browser)


def test_a_running_import_shows_its_progress_then_its_report_without_a_reload(log_in, live_server, personas):
    run = ImportRun.objects.create(started_by=personas["data_steward"], status=RunStatus.RUNNING)
    cache.set(PROGRESS_KEY.format(pk=run.pk), 250)
    browser = log_in("data_steward")
    browser.get(f"{live_server.url}{run.get_absolute_url()}")
    assert "250 rows read so far" in browser.page_source
    _mark_page(browser)

    cache.set(PROGRESS_KEY.format(pk=run.pk), 750)
    WebDriverWait(browser, WAIT).until(lambda b: "750 rows read so far" in b.page_source)
    ImportRun.objects.filter(pk=run.pk).update(status=RunStatus.SUCCEEDED, report={"conflicts": 3, "reviews": 0})

    WebDriverWait(browser, WAIT).until(lambda b: "Conflicts between stores" in b.page_source)
    assert "rows read so far" not in browser.page_source
    assert _same_page(browser)
