"""`manage.py seed_demo_billing`: Finance's demo queue holds cases of each cause, a held
and an unmatched contact, and one case already resolved with its history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing_sync.choices import Cause, DiscrepancyStatus, MatchStatus, Resolution
from billing_sync.demo import seed_demo_billing
from billing_sync.models import Discrepancy, XeroContact
from customers.choices import SubscriptionStatus
from tests.factories import AccountFactory, SubscriptionFactory, product

TODAY = dt.date(2026, 12, 7)


@pytest.mark.django_db
def test_the_demo_queue_has_each_cause_and_one_resolved_case(personas):
    codes = ["datavault", "cloudsync", "managed-services", "security-compliance"]
    for n in range(22):
        account = AccountFactory(legal_name=f"Demo Client {chr(65 + n)}{chr(75 + n % 10)} Pty Ltd", abn="")
        SubscriptionFactory(
            account=account,
            product=product(codes[n % 4]),
            annual_value=Decimal(6000 + 500 * n),
            start_date=dt.date(2024, 1, 1),
            renewal_date=dt.date(2027, 1, 1),
        )
        if n % 3 == 0:
            SubscriptionFactory(
                account=account,
                product=product("cloud-hosting"),
                annual_value=Decimal("3000"),
                start_date=dt.date(2024, 1, 1),
                renewal_date=dt.date(2026, 3, 1),
                status=SubscriptionStatus.CANCELLED,
            )
    lines = seed_demo_billing(today=TODAY)
    assert lines[0].startswith("Imported the demo's Xero exports")
    causes = set(Discrepancy.objects.filter(status=DiscrepancyStatus.OPEN).values_list("cause", flat=True))
    assert causes == set(Cause.values)
    resolved = Discrepancy.objects.get(status=DiscrepancyStatus.RESOLVED)
    assert (resolved.resolution, resolved.resolved_by) == (Resolution.ACCEPT_XERO, personas["finance"])
    assert resolved.subscription.history.latest().history_change_reason.startswith(
        f"Billing discrepancy #{resolved.pk}"
    )
    assert set(XeroContact.objects.exclude(status=MatchStatus.MATCHED).values_list("status", flat=True)) == {
        MatchStatus.HELD,
        MatchStatus.UNMATCHED,
    }
    assert seed_demo_billing(today=TODAY)[0].startswith("Xero imports already present")
