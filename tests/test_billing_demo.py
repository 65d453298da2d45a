"""`manage.py seed_demo_billing`: Finance's demo queue holds cases of each cause, a held
and an unmatched contact, and one case already resolved with its history; activated
orders are invoiced by their order ID, one overdue and one awaiting."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing_sync import orders
from billing_sync.choices import Cause, DiscrepancyStatus, HandoffStatus, MatchMethod, MatchStatus, Resolution
from billing_sync.demo import seed_demo_billing
from billing_sync.models import Discrepancy, XeroContact
from customers.choices import SubscriptionStatus
from tests.factories import AccountFactory, SubscriptionFactory, product
from tests.factories_billing import activated_order

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
    # The onboarding demo's activated orders (seed_demo_orders runs before): 20, 12 and 5 days ago.
    started = [
        activated_order(
            AccountFactory(legal_name=f"Ordered Client {n} Pty Ltd"),
            personas["sales_rep"],
            ref=f"ORD-2026-0009{n}",
            start=TODAY - dt.timedelta(days=days),
            plan=[("datavault", 20, "15000.00")],
        )
        for n, days in enumerate((20, 12, 5))
    ]
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
    states = [orders.state(orders.handoffs().get(pk=h.pk), today=TODAY).status for h in started]
    assert states == [HandoffStatus.OVERDUE, HandoffStatus.INVOICED, HandoffStatus.AWAITING]
    mapped = XeroContact.objects.get(account=started[1].order.account)
    assert (mapped.name, mapped.method) == ("Orderd Client 1 - accounts", MatchMethod.ORDER_ID)
    assert seed_demo_billing(today=TODAY)[0].startswith("Xero imports already present")
