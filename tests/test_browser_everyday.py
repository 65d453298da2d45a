"""Everyday journeys in headless Chromium: a conflict resolved in one click, "mine" for a
coordinator, a sorted and exported list, a bulk reassignment, a grouped review decision,
typo search and the type-ahead, and the customer 360 on a phone.

Set `BROWSER_SCREENSHOTS=/some/dir` to keep a screenshot of each journey's last page.
Needs Debian's `chromium` and `chromium-driver` (see tests/test_browser.py).
"""

from __future__ import annotations

import io
import os
import shutil
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.factories import AccountFactory, ContactFactory, SubscriptionFactory, UserFactory

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
if not (CHROMIUM and CHROMEDRIVER):
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise RuntimeError("REQUIRE_BROWSER=1 but chromium or chromedriver is not installed")
    pytest.skip("chromium and chromedriver are not installed", allow_module_level=True)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keeps the role groups
WAIT = 10


def _driver(width: int = 1280, height: int = 900, downloads: str | None = None):
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
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    if downloads:
        options.add_experimental_option("prefs", {"download.default_directory": downloads})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture(scope="module")
def browser():
    driver = _driver()
    yield driver
    driver.quit()


def _log_in(driver, live_server, user):
    driver.delete_all_cookies()
    driver.get(f"{live_server.url}/accounts/login/")
    driver.find_element(By.NAME, "username").send_keys(user.username)
    driver.find_element(By.NAME, "password").send_keys("cloudcore-demo")
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(driver, WAIT).until(lambda b: "/accounts/login/" not in b.current_url)
    return driver


def _screenshot(driver, name: str) -> None:
    folder = os.environ.get("BROWSER_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / f"{name}.png"))


def _fill(driver, name: str, value: str) -> None:
    box = driver.find_element(By.NAME, name)
    box.clear()
    box.send_keys(value)


def test_an_edit_conflict_is_resolved_with_one_more_click(browser, live_server, personas):
    account = AccountFactory(number=9, code="CC009", legal_name="Meridian Health Partners Pty Ltd")
    contact = ContactFactory(account=account, first_name="Priya", last_name="Shah", phone="08 9212 3456")
    url = f"{live_server.url}/customers/CC009/contacts/{contact.pk}/edit/"
    mine = _log_in(browser, live_server, personas["customer_relations"])
    mine.get(url)
    other = _log_in(_driver(), live_server, personas["data_steward"])
    try:
        other.get(url)
        _fill(other, "phone", "08 6000 0000")
        _fill(other, "reason", "From the signed order form")
        other.find_element(By.CSS_SELECTOR, "form.edit-form button[type=submit]").click()
        WebDriverWait(other, WAIT).until(lambda b: "/edit/" not in b.current_url)
    finally:
        other.quit()

    _fill(mine, "title", "Head of IT")
    _fill(mine, "reason", "Updated title")
    mine.find_element(By.CSS_SELECTOR, "form.edit-form button[type=submit]").click()
    WebDriverWait(mine, WAIT).until(lambda b: "Someone else changed this record" in b.page_source)
    assert mine.find_element(By.NAME, "title").get_attribute("value") == "Head of IT"
    assert mine.find_element(By.NAME, "phone").get_attribute("value") == "08 6000 0000"
    assert "set this to “08 6000 0000”" in mine.find_element(By.CSS_SELECTOR, ".has-conflict").text
    _screenshot(mine, "conflict")

    mine.find_element(By.CSS_SELECTOR, "form.edit-form button[type=submit]").click()

    WebDriverWait(mine, WAIT).until(lambda b: "/edit/" not in b.current_url)
    contact.refresh_from_db()
    assert (contact.phone, contact.title) == ("08 6000 0000", "Head of IT")
    mine.get(f"{live_server.url}/customers/CC009/history/")
    history = mine.find_element(By.ID, "history-table").text
    assert "From the signed order form" in history
    assert "Updated title" in history


def _download(driver, url: str) -> bytes:
    """Fetch a link the page shows with the browser's own session."""
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())
    request = urllib.request.Request(url, headers={"Cookie": cookies})
    with urllib.request.urlopen(request, timeout=WAIT) as response:
        return response.read()


def test_mine_shows_a_coordinator_their_accounts(browser, live_server, personas):
    AccountFactory(legal_name="Coordinated Client Pty Ltd", relations_coordinator=personas["customer_relations"])
    AccountFactory(legal_name="Someone Else's Client Pty Ltd")
    _log_in(browser, live_server, personas["customer_relations"])
    browser.get(f"{live_server.url}/")
    browser.find_element(By.PARTIAL_LINK_TEXT, "All your accounts").click()

    WebDriverWait(browser, WAIT).until(lambda b: "mine=on" in b.current_url)
    table = browser.find_element(By.ID, "account-table").text
    assert "Coordinated Client" in table
    assert "Someone Else" not in table
    assert "Ignored" not in browser.page_source
    _screenshot(browser, "mine")


def test_a_sorted_list_exports_as_shown_with_formula_cells_as_text(browser, live_server, personas):
    for name, value in (
        ("Banksia Dental Pty Ltd", "1000"),
        ("=cmd|' /C calc'!A0", "9000"),
        ("Coral Bay Pty Ltd", "5000"),
    ):
        SubscriptionFactory(account=AccountFactory(legal_name=name), annual_value=Decimal(value))
    _log_in(browser, live_server, personas["finance"])
    browser.get(f"{live_server.url}/customers/")
    browser.find_element(By.CSS_SELECTOR, "a.sort-link[href*='sort=value']").click()
    WebDriverWait(browser, WAIT).until(lambda b: "sort=value" in b.current_url)
    WebDriverWait(browser, WAIT).until(lambda b: b.find_elements(By.CSS_SELECTOR, "a.sort-link[href*='sort=-value']"))
    browser.find_element(By.CSS_SELECTOR, "a.sort-link[href*='sort=-value']").click()  # again: largest first
    WebDriverWait(browser, WAIT).until(lambda b: "sort=-value" in b.current_url)
    WebDriverWait(browser, WAIT).until(lambda b: "▼" in b.find_element(By.ID, "account-table").text)
    first_row = browser.find_element(By.CSS_SELECTOR, "#account-table tbody tr").text
    assert "=cmd" in first_row
    Select(browser.find_element(By.ID, "id_office")).select_by_value("perth")  # a filter keeps the order
    WebDriverWait(browser, WAIT).until(lambda b: "office=perth" in b.current_url)
    assert "sort=-value" in browser.current_url
    _screenshot(browser, "sorted-list")

    xlsx = _download(browser, browser.find_element(By.ID, "export-xlsx").get_attribute("href"))

    sheet = load_workbook(io.BytesIO(xlsx)).active
    names = [row[1].value for row in sheet.iter_rows(min_row=2)]
    assert names == ["'=cmd|' /C calc'!A0", "Coral Bay Pty Ltd", "Banksia Dental Pty Ltd"]
    assert sheet.cell(row=2, column=2).data_type == "s"


def test_a_sales_manager_reassigns_ticked_accounts_and_each_gets_history(browser, live_server, personas):
    from customers.models import Account

    accounts = [
        AccountFactory(legal_name=f"Territory Client {n} Pty Ltd", owner=personas["sales_rep"]) for n in range(3)
    ]
    new_rep = UserFactory(username="nina", first_name="Nina", last_name="Ng", roles=["sales_rep"])
    _log_in(browser, live_server, personas["sales_manager"])
    browser.get(f"{live_server.url}/customers/")
    for account in accounts[:2]:
        browser.find_element(By.CSS_SELECTOR, f"input[name=codes][value={account.code}]").click()
    Select(browser.find_element(By.ID, "bulk-owner-select")).select_by_visible_text("Nina Ng")
    browser.find_element(By.ID, "bulk-owner-reason").send_keys("Territory change")
    browser.find_element(By.CSS_SELECTOR, "#bulk-owner button[type=submit]").click()

    WebDriverWait(browser, WAIT).until(lambda b: "now owned by Nina Ng" in b.page_source)
    _screenshot(browser, "bulk-reassign")
    for account in accounts[:2]:
        latest = Account.history.filter(id=account.pk).latest()
        assert (latest.owner_id, latest.history_change_reason) == (new_rep.pk, "Territory change")
    assert Account.objects.get(pk=accounts[2].pk).owner == personas["sales_rep"]


def test_a_misspelt_search_and_the_type_ahead_find_the_customer(browser, live_server, personas):
    from selenium.webdriver.common.keys import Keys

    AccountFactory(legal_name="Meridian Health Partners Pty Ltd", code="CC009", number=9)
    AccountFactory(legal_name="Banksia Dental Pty Ltd")
    _log_in(browser, live_server, personas["support_agent"])
    browser.get(f"{live_server.url}/")

    browser.find_element(By.TAG_NAME, "body").send_keys("/")  # focuses the header box
    assert browser.switch_to.active_element.get_attribute("id") == "global-q"
    browser.switch_to.active_element.send_keys("merdian")
    WebDriverWait(browser, WAIT).until(lambda b: "CC009" in b.find_element(By.ID, "search-suggestions").text)
    _screenshot(browser, "type-ahead")
    browser.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
    assert "CC009" in browser.switch_to.active_element.text
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    WebDriverWait(browser, WAIT).until(lambda b: b.current_url.endswith("/customers/CC009/"))

    browser.get(f"{live_server.url}/search/?q=merdian")
    assert "Close spellings" in browser.page_source
    assert "Meridian Health Partners" in browser.find_element(By.ID, "main").text
    _screenshot(browser, "typo-search")


def test_ctrl_k_focuses_the_search_box(browser, live_server, personas):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    _log_in(browser, live_server, personas["sales_rep"])
    browser.get(f"{live_server.url}/customers/")
    browser.find_element(By.TAG_NAME, "h1").click()
    ActionChains(browser).key_down(Keys.CONTROL).send_keys("k").key_up(Keys.CONTROL).perform()
    assert browser.switch_to.active_element.get_attribute("id") == "global-q"


def test_one_grouped_decision_settles_every_row_with_that_spelling(browser, live_server, personas):
    from migration.models import MatchReview

    account = AccountFactory(legal_name="Harbour Dental Pty Ltd")
    candidate = {"code": account.code, "name": account.legal_name, "score": 81, "evidence": ["similar name"]}
    for row in (3, 9, 14):
        MatchReview.objects.create(
            store="d4", file="xero.csv", row=row, incoming_name="Harbour Dental Nth", candidates=[candidate]
        )
    MatchReview.objects.create(store="d3", file="pipeline.xlsx", row=2, incoming_name="Coral Bay Freight")
    _log_in(browser, live_server, personas["data_steward"])
    browser.get(f"{live_server.url}/migration/reviews/")
    _screenshot(browser, "review-groups")

    browser.find_element(By.XPATH, f"//button[contains(., 'It is {account.code}')]").click()

    WebDriverWait(browser, WAIT).until(lambda b: "3 rows settled" in b.page_source)
    assert MatchReview.objects.filter(status="resolved").count() == 3
    assert MatchReview.objects.get(incoming_name="Coral Bay Freight").status == "open"


def test_the_customer_360_fits_a_390_pixel_phone(live_server, personas):
    account = AccountFactory(legal_name="Meridian Health Partners Pty Ltd", code="CC009", number=9)
    for n in range(3):
        SubscriptionFactory(account=account, annual_value=Decimal("48000.00") + n, tenancy_ref=f"TEN-{n:06d}-AU")
        ContactFactory(account=account, first_name="Priya", last_name=f"Shah-Longname{n}")
    phone = _driver(390, 844)
    try:
        _log_in(phone, live_server, personas["sales_manager"])
        phone.get(f"{live_server.url}/customers/CC009/")
        overflow = phone.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;"
        )
        _screenshot(phone, "360-phone")
        assert overflow <= 0
    finally:
        phone.quit()
