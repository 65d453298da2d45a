"""A sales rep's order walked to activation in headless Chromium: started from a won deal,
blocked once for a missing field, submitted, validated by Customer Relations, provisioned
by hand, and seen active on the customer's status link without a login."""

from __future__ import annotations

from decimal import Decimal

import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from customers.choices import OpportunityStage
from customers.models import Subscription
from onboarding.choices import OrderStatus
from onboarding.models import Order
from tests.factories import AccountFactory, OpportunityFactory, product
from tests.test_browser import WAIT, browser, log_in  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _wait(driver, condition):
    """Wait through page loads: an element read while the next page replaces it is retried."""
    ignored = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(driver, WAIT, ignored_exceptions=ignored).until(condition)


def _fill(driver, name: str, value: str) -> None:
    field = driver.find_element(By.NAME, name)
    field.clear()
    field.send_keys(value)


def _click(driver, selector: str) -> None:
    driver.find_element(By.CSS_SELECTOR, selector).click()


def test_a_sales_reps_order_is_walked_to_activation(log_in, live_server, personas, settings):  # noqa: F811
    settings.ONBOARDING_AUTO_PRODUCTS = []  # provisioned by hand, so each step shows
    account = AccountFactory(owner=personas["sales_rep"], legal_name="Karri Distillery Pty Ltd")
    deal = OpportunityFactory(
        account=account,
        owner=personas["sales_rep"],
        stage=OpportunityStage.WON,
        product=product("cloudsync"),
        amount=Decimal("7200.00"),
        name="CloudSync for the cellar door",
    )

    driver = log_in("sales_rep")
    driver.get(f"{live_server.url}/customers/{account.code}/")
    driver.find_element(By.CSS_SELECTOR, f"a[href$='?opportunity={deal.pk}']").click()
    _wait(driver, lambda d: "/onboarding/new/" in d.current_url)
    assert driver.find_element(By.NAME, "account_code").get_attribute("value") == account.code
    assert driver.find_element(By.NAME, "lines-0-annual_value").get_attribute("value") == "7200.00"
    _fill(driver, "billing_contact_name", "Bea Biller")
    _fill(driver, "billing_contact_email", "accounts@karri.example")
    _fill(driver, "lines-0-seats", "18")
    _click(driver, "button[value=submit]")
    missing = _wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".missing-fields"))
    assert "Technical contact email" in missing.text
    order = Order.objects.get()
    assert order.status == OrderStatus.DRAFT

    _fill(driver, "technical_contact_name", "Tom Tech")
    _fill(driver, "technical_contact_email", "it@karri.example")
    _click(driver, "button[value=submit]")
    _wait(driver, lambda d: d.current_url.endswith(f"/onboarding/{order.order_id}/"))
    _wait(driver, lambda d: "Submitted" in d.find_element(By.CSS_SELECTOR, "h1").text)
    _click(driver, "form[action$='/status-link/'] button")
    link = _wait(driver, lambda d: d.find_element(By.ID, "status-link")).get_attribute("href")

    driver = log_in("customer_relations")
    driver.get(f"{live_server.url}/onboarding/{order.order_id}/")
    _click(driver, "form[action$='/validate/'] button")
    _wait(driver, lambda d: "Validated" in d.find_element(By.CSS_SELECTOR, "h1").text)

    driver = log_in("provisioning")
    driver.get(f"{live_server.url}/onboarding/tasks/")
    task = order.tasks.get()
    _click(driver, f"#task-{task.pk} form[action$='/claim/'] button")
    _wait(driver, lambda d: "In progress" in d.find_element(By.ID, f"task-{task.pk}").text)
    driver.find_element(By.CSS_SELECTOR, f"#task-{task.pk} a[href$='/complete/']").click()
    _fill(driver, "tenancy_ref", "CS-PER-4411")
    _click(driver, "form.edit-form button[type=submit]")
    _wait(driver, lambda d: d.current_url.endswith("/onboarding/tasks/"))

    order.refresh_from_db()
    assert order.status == OrderStatus.ACTIVE
    subscription = Subscription.objects.get(account=account, product=product("cloudsync"))
    assert (subscription.seats, subscription.annual_value, subscription.tenancy_ref) == (
        18,
        Decimal("7200.00"),
        "CS-PER-4411",
    )
    assert subscription.order_ref == order.order_id

    driver.delete_all_cookies()
    driver.get(link)
    assert "Your services are active." in driver.find_element(By.CSS_SELECTOR, ".headline").text
    assert "/accounts/login/" not in driver.current_url
