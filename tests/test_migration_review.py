"""What people answer after an import, and that the next import remembers it: Customer
Relations on subscriptions found in Xero and the calendar, stewards on held values,
Finance on contract-value drift."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from customers.choices import SubscriptionStatus
from customers.models import Product, Subscription
from migration.choices import ConflictKind, ConflictStatus, EvidenceStatus, HeldKind
from migration.models import EvidencedSubscription, HeldValue, ImportConflict, ProductAlias
from migration.services import run_import

pytestmark = pytest.mark.django_db

ESTATE = Path(__file__).parent / "estates" / "handmade"


def _import(steward):
    return run_import(paths=sorted(p for p in ESTATE.iterdir() if p.is_file()), actor=steward)


@pytest.fixture
def imported(personas):
    User = get_user_model()
    for username, first, last in (("praman", "Priya", "Raman"), ("twalsh", "Tom", "Walsh")):
        User.objects.create_user(username, first_name=first, last_name=last)
    _import(personas["data_steward"])
    return personas


def _evidence(code: str, product: str) -> EvidencedSubscription:
    return EvidencedSubscription.objects.get(account__code=code, product__code=product)


def _live(code: str, product: str):
    return Subscription.objects.live().filter(account__code=code, product__code=product).first()


def test_customer_relations_confirm_a_subscription_and_the_next_import_does_not_ask_again(imported, client_for):
    found = _evidence("CC101", "managed-services")
    response = client_for("customer_relations").post(
        reverse("migration:evidence_decide", args=[found.pk]), {"decision": "confirmed", "reason": "On the PO"}
    )
    assert response.status_code == 302
    found.refresh_from_db()
    assert found.status == EvidenceStatus.CONFIRMED
    assert found.decided_by == imported["customer_relations"]
    _import(imported["data_steward"])
    found.refresh_from_db()
    assert found.status == EvidenceStatus.CONFIRMED
    assert EvidencedSubscription.objects.filter(status=EvidenceStatus.OPEN).count() == 2


def test_a_dismissed_subscription_is_cancelled_and_never_created_again(imported, client_for):
    found = _evidence("CC105", "datavault")
    client_for("customer_relations").post(
        reverse("migration:evidence_decide", args=[found.pk]), {"decision": "dismissed", "reason": "Trial only"}
    )
    assert _live("CC105", "datavault") is None
    assert Subscription.objects.get(pk=found.subscription_id).status == SubscriptionStatus.CANCELLED
    _import(imported["data_steward"])
    assert _live("CC105", "datavault") is None
    assert Subscription.objects.filter(account__code="CC105", product__code="datavault").count() == 1


def test_a_corrected_renewal_date_is_not_overwritten_by_the_calendar(imported, client_for):
    found = _evidence("CC101", "managed-services")
    client_for("customer_relations").post(
        reverse("migration:evidence_decide", args=[found.pk]),
        {"decision": "corrected", "renewal_date": "2027-07-31", "reason": "Contract says July"},
    )
    assert _live("CC101", "managed-services").renewal_date == dt.date(2027, 7, 31)
    _import(imported["data_steward"])
    assert _live("CC101", "managed-services").renewal_date == dt.date(2027, 7, 31)
    assert ImportConflict.objects.filter(
        subscription=_live("CC101", "managed-services"), field="renewal_date", other_value="2027-06-30"
    ).exists()


def test_a_sales_rep_cannot_settle_a_found_subscription(imported, client_for):
    found = _evidence("CC101", "managed-services")
    response = client_for("sales_rep").post(
        reverse("migration:evidence_decide", args=[found.pk]), {"decision": "dismissed", "reason": "no"}
    )
    assert response.status_code == 403
    found.refresh_from_db()
    assert found.status == EvidenceStatus.OPEN
    assert _live("CC101", "managed-services") is not None


def test_a_steward_maps_a_held_product_and_the_next_import_creates_its_subscription(imported, client_for):
    held = HeldValue.objects.get(kind=HeldKind.PRODUCT)
    response = client_for("data_steward").post(
        reverse("migration:held_map", args=[held.pk]), {"product": Product.objects.get(code="managed-services").pk}
    )
    assert response.status_code == 302
    assert ProductAlias.objects.get().value == "Onsite support, Perth CBD (hours)"
    _import(imported["data_steward"])
    # The onsite hours now count as Managed Services lines of Banksia's (a steward's call).
    assert _live("CC101", "managed-services") is not None
    assert not HeldValue.objects.filter(kind=HeldKind.PRODUCT, status="open").exists()


def test_a_steward_maps_a_survey_label_and_the_next_import_rates_the_ticket(imported, client_for):
    from support_bridge.models import Ticket

    held = HeldValue.objects.get(kind=HeldKind.SURVEY)
    client_for("data_steward").post(reverse("migration:held_map", args=[held.pk]), {"score": "4"})
    _import(imported["data_steward"])
    assert Ticket.objects.get(external_id="4008").satisfaction == 4


def test_finance_apply_the_masters_value_and_the_next_import_keeps_it(imported, client_for):
    drift = ImportConflict.objects.get(kind=ConflictKind.DRIFT)
    response = client_for("finance").post(
        reverse("migration:drift_resolve", args=[drift.pk]), {"apply_other": "1", "reason": "Discount agreed in June"}
    )
    assert response.status_code == 302
    drift.refresh_from_db()
    assert drift.status == ConflictStatus.APPLIED
    assert _live("CC103", "analytics-pro").annual_value == Decimal("30000.00")
    _import(imported["data_steward"])
    assert _live("CC103", "analytics-pro").annual_value == Decimal("30000.00")


def test_support_cannot_settle_drift(imported, client_for):
    drift = ImportConflict.objects.get(kind=ConflictKind.DRIFT)
    response = client_for("support_agent").post(
        reverse("migration:drift_resolve", args=[drift.pk]), {"apply_other": "1", "reason": "x"}
    )
    assert response.status_code == 403
    assert _live("CC103", "analytics-pro").annual_value == Decimal("33000.00")


@pytest.mark.parametrize(
    "role, url", [("customer_relations", "evidence_list"), ("data_steward", "held_list"), ("finance", "drift_list")]
)
def test_review_lists_show_what_waits_within_a_query_budget(
    imported, client_for, django_assert_max_num_queries, role, url
):
    client = client_for(role)
    with django_assert_max_num_queries(12):
        response = client.get(reverse(f"migration:{url}"))
    assert response.status_code == 200


def test_finance_see_both_values_and_the_invoices_of_a_drift(imported, client_for):
    html = client_for("finance").get(reverse("migration:drift_list")).content.decode()
    assert "$30,000.00" in html
    assert "$33,000.00" in html
    assert "INV-2301, INV-2302" in html


def _cancel(code: str, product: str, actor, reason: str) -> None:
    """A person cancels the live subscription in the CRM, through the service."""
    from customers.services import update_subscription

    live = _live(code, product)
    update_subscription(
        subscription=live,
        changes={"status": SubscriptionStatus.CANCELLED},
        expected_version=live.version,
        actor=actor,
        reason=reason,
    )


def test_a_found_subscription_confirmed_then_cancelled_is_not_created_again(imported, client_for):
    """Customer Relations confirmed Managed Services for Banksia, and it was cancelled
    since: that is newer than Xero's old invoices, so the next import leaves it ended."""
    found = _evidence("CC101", "managed-services")
    client_for("customer_relations").post(
        reverse("migration:evidence_decide", args=[found.pk]), {"decision": "confirmed", "reason": "On the PO"}
    )
    _cancel("CC101", "managed-services", imported["customer_relations"], "Client ended the managed service in November")

    again = _import(imported["data_steward"])

    assert _live("CC101", "managed-services") is None
    assert Subscription.objects.filter(account__code="CC101", product__code="managed-services").count() == 1
    assert _evidence("CC101", "managed-services").status == EvidenceStatus.CONFIRMED
    assert again.files.get(store="d4").counts["ended since it was found"] == 1


def test_a_master_subscription_cancelled_in_the_crm_is_not_created_again(imported):
    """The client master still lists Quokka's Managed Services; a person cancelled it in
    the CRM since. Importing the same sheet again does not bring it back."""
    _cancel("CC104", "managed-services", imported["customer_relations"], "Cancelled at renewal")

    again = _import(imported["data_steward"])

    assert _live("CC104", "managed-services") is None
    assert Subscription.objects.filter(account__code="CC104", product__code="managed-services").count() == 1
    assert again.files.get(store="d1").counts["ended in the CRM since"] == 1


def test_invoices_dated_after_a_subscription_ended_are_a_new_contract(imported, tmp_path):
    """Quokka's Managed Services was cancelled in the CRM; a Xero invoice dated after that
    (they came back) is new evidence: a new subscription is created and listed for
    Customer Relations, and the cancelled one stays as it was."""
    _cancel("CC104", "managed-services", imported["customer_relations"], "Cancelled at renewal")
    header, *lines = (ESTATE / "xero_sales_invoices.csv").read_text().splitlines()
    (quokka,) = [line for line in lines if line.startswith("Quokka") and "INV-2401" in line]
    later = quokka.replace("INV-2401", "INV-3001").replace("01/07/2026,31/07/2026", "01/02/2099,28/02/2099")
    (tmp_path / "xero_later.csv").write_text("\n".join([header, later]) + "\n")

    run = run_import(paths=[tmp_path / "xero_later.csv"], actor=imported["data_steward"])

    assert run.files.get().counts["subscriptions created from invoices"] == 1
    subscriptions = Subscription.objects.filter(account__code="CC104", product__code="managed-services")
    assert sorted(subscriptions.values_list("status", flat=True)) == ["active", "cancelled"]
    assert _live("CC104", "managed-services").start_date == dt.date(2026, 7, 1)  # the period the line states
    assert _evidence("CC104", "managed-services").status == EvidenceStatus.OPEN


def test_an_invoice_dated_the_day_a_subscription_ended_is_its_last_not_a_new_contract(imported, tmp_path):
    """Quokka's Managed Services is cancelled today; Xero's invoice dated today (its final
    bill) is no evidence of a new contract, one dated tomorrow is."""
    from django.utils import timezone

    _cancel("CC104", "managed-services", imported["customer_relations"], "Cancelled at renewal")
    header, *lines = (ESTATE / "xero_sales_invoices.csv").read_text().splitlines()
    (quokka,) = [line for line in lines if line.startswith("Quokka") and "INV-2401" in line]
    today = timezone.localdate()

    def export(day: dt.date, number: str) -> Path:
        dated = quokka.replace("INV-2401", number).replace("01/07/2026,31/07/2026", f"{day:%d/%m/%Y},{day:%d/%m/%Y}")
        path = tmp_path / f"{number}.csv"
        path.write_text("\n".join([header, dated]) + "\n")
        return path

    final = run_import(paths=[export(today, "INV-3002")], actor=imported["data_steward"])
    assert final.files.get().counts.get("ended in the CRM since") == 1
    assert _live("CC104", "managed-services") is None

    later = run_import(paths=[export(today + dt.timedelta(days=1), "INV-3003")], actor=imported["data_steward"])
    assert later.files.get().counts["subscriptions created from invoices"] == 1
    assert _live("CC104", "managed-services") is not None
