"""Money and churn risk against answers worked out by hand, not by the code under test.

Money: the shared Xero sample (tests/samples/xero_sales_invoices_export.csv) imported over
a client master written here, through the legacy import. The expected contract values are
what Xero bills per year, annualised by each line's billing cadence (DESIGN.md: "never a
sum of whatever months an export happens to hold"), computed by hand from the sample:

| client, product | sample lines that count | cadence | per year |
|---|---|---|---:|
| Acme, DataVault | INV-0101 DV-STD 825.00 (Paid) | monthly | 825.00 x 12 = 9,900.00 |
| Acme, Managed Services | INV-0101 MS-HOURS 450.00 "retainer - July 2025" | monthly | 450.00 x 12 = 5,400.00 |
| Acme, Security & Compliance | INV-0102 (as "ACME") 2,400.00 "12 months" (Awaiting Payment) | annual | 2,400.00 |
| Bluegum, DataVault | INV-0103 is Voided | - | master's 8,500.00 stays |
| Swan River Dental, CloudSync | INV-0104 is a Draft | - | master's 3,000.00 stays |
| Harbourside, Security & Compliance | INV-0105 is Awaiting Approval (not yet billed) | - | master's 6,500.00 stays |
| Pilbara, DataVault | CN-0007 is a credit for a past outage, no product | - | master's 6,000.00 stays |

Acme's onsite support hours (660.00, one-off, no product) are no subscription's value.
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import Workbook

from customers.choices import ActivityKind, Segment
from customers.demo import ensure_demo_users
from customers.models import Subscription
from migration.choices import FileStatus, Store
from migration.models import ImportConflict
from migration.services import run_import
from support_bridge import services as support_services
from support_bridge.choices import RiskBand, TicketPriority, TicketStatus
from support_bridge.models import RiskScore
from tests.factories import AccountFactory, ActivityFactory, SubscriptionFactory
from tests.factories_support import TicketFactory

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).parent / "samples"

MASTER = [
    # Client ID, Client Name, ABN, Product, Seats, Start Date, Renewal Date, Annual Value
    ["CC001", "Acme Pty Ltd", "", "DataVault", 25, "1/07/2025", "1/07/2026", "$12,000"],
    ["CC001", "Acme Pty Ltd", "", "Managed Services", 1, "1/07/2025", "1/07/2026", "$4,000"],
    ["CC001", "Acme Pty Ltd", "", "Security & Compliance", 1, "4/08/2025", "4/08/2026", "$2,000"],
    ["CC002", "Bluegum Logistics Pty. Limited", "", "DataVault", 10, "15/03/2025", "15/03/2026", "$8,500"],
    ["CC003", "Harbourside Legal Ltd", "", "Security & Compliance", 1, "1/09/2025", "1/09/2026", "$6,500"],
    ["CC005", "Swan River Dental P/L", "", "CloudSync", 8, "1/09/2025", "1/09/2026", "$3,000"],
    ["CC006", "Pilbara Mining Services Pty Ltd", "", "DataVault", 5, "1/01/2025", "1/01/2026", "$6,000"],
]
HEADERS = ["Client ID", "Client Name", "ABN", "Product", "Seats", "Start Date", "Renewal Date", "Annual Value"]


def _master(path: Path, rows=MASTER) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    workbook.save(path)


@pytest.fixture
def steward(db):
    ensure_demo_users()
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="data_steward")


@pytest.fixture
def imported(tmp_path, steward):
    _master(tmp_path / "client_master.xlsx")
    shutil.copy(SAMPLES / "xero_sales_invoices_export.csv", tmp_path)
    run = run_import(paths=sorted(tmp_path.iterdir()), actor=steward)
    assert run.files.get(store=Store.XERO).status == FileStatus.IMPORTED
    return run


def value(code: str, product: str) -> Decimal:
    return Subscription.objects.get(account__code=code, product__name=product).annual_value


def test_xero_money_acme_datavault_is_the_monthly_line_times_twelve(imported):
    assert value("CC001", "DataVault") == Decimal("9900.00")


def test_xero_money_acme_managed_services_retainer_is_the_monthly_line_times_twelve(imported):
    assert value("CC001", "Managed Services") == Decimal("5400.00")


def test_xero_money_acme_annual_security_renewal_is_its_invoice_even_under_another_contact_name(imported, steward):
    assert value("CC001", "Security & Compliance") == Decimal("2400.00")
    subscription = Subscription.objects.get(account__code="CC001", product__name="Security & Compliance")
    latest = subscription.history.latest()
    assert latest.history_user == steward and "xero_sales_invoices_export.csv" in latest.history_change_reason
    # The master said 2,000.00: Xero wins, and the drift is kept with both values.
    drift = ImportConflict.objects.get(subscription=subscription, field="annual_value")
    assert Decimal(drift.other_value) == Decimal("2000.00")


@pytest.mark.parametrize(
    ("code", "product", "master"),
    [
        pytest.param("CC002", "DataVault", "8500.00", id="voided invoice"),
        pytest.param("CC005", "CloudSync", "3000.00", id="draft invoice"),
        pytest.param("CC003", "Security & Compliance", "6500.00", id="awaiting approval"),
        pytest.param("CC006", "DataVault", "6000.00", id="credit note without a product"),
    ],
)
def test_xero_money_lines_that_are_not_billed_leave_the_masters_value(imported, code, product, master):
    assert value(code, product) == Decimal(master)
    subscription = Subscription.objects.get(account__code=code, product__name=product)
    assert not ImportConflict.objects.filter(subscription=subscription, field="annual_value").exists()


def test_xero_money_one_off_hours_are_no_subscriptions_value(imported):
    # Exactly the three Acme subscriptions of the master: the 660.00 of onsite hours
    # created none and changed none.
    assert Subscription.objects.filter(account__code="CC001").count() == 3


# A credit note against a product the client subscribes to reduces what Xero bills for it.
# Written by hand in the export's real columns: an annual DataVault invoice of 6,000.00 and
# a 500.00 credit note for the same product a fortnight later -> 5,500.00 a year.
CREDIT_EXPORT = "\n".join(
    [
        "ContactName,InvoiceNumber,InvoiceDate,InventoryItemCode,Description,Quantity,UnitAmount,LineAmount,Type,Status",
        'Pilbara Mining Services Pty Ltd,INV-0201,01/10/2025,DV-STD,"DataVault object storage, annual (12 months)",'
        "1.0000,6000.00,6000.00,Sales invoice,Paid",
        "Pilbara Mining Services Pty Ltd,CN-0202,15/10/2025,DV-STD,DataVault service credit - outage 02/10/2025,"
        "1.0000,500.00,500.00,Sales credit note,Paid",
        "",
    ]
)


def test_xero_money_a_credit_note_is_subtracted_from_the_products_year(tmp_path, steward):
    _master(tmp_path / "client_master.xlsx", [MASTER[-1]])
    (tmp_path / "xero_credit.csv").write_text(CREDIT_EXPORT, encoding="utf-8")
    run_import(paths=sorted(tmp_path.iterdir()), actor=steward)
    assert value("CC006", "DataVault") == Decimal("5500.00")


# --- Churn risk of a small client built by hand --------------------------------------------


def _ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def test_risk_score_of_a_hand_built_client_matches_the_hand_computed_score(personas):
    """Weights: tickets 30, satisfaction level 20, trend 20, open high 15, renewal 10,
    billing 10, no contact 10 (settings); bands: high from 60.

    Peers in the mid segment have 1, 1 and 2 recent tickets; our client 4, so the median of
    [1, 1, 2, 4] is 1.5 and the ratio 4 / 1.5 = 2.667: share (2.667 - 1) / 3 = 0.5556,
    30 x 0.5556 = 16.667.
    Recent ratings 5, 5, 5 (one ticket unrated): 5.0; the year before: 7 and 6, so 6.5.
    Trend: fell 1.5 (>= 1, and 5.0 < 7.5): share 1.5 / 3 = 0.5, 20 x 0.5 = 10.
    Level: 5.0 < 7: share (7 - 5) / 3 = 0.6667, 20 x 0.6667 = 13.333 (no reason of its
    own: the trend sentence names the level).
    Open high-priority tickets: 2, share 2 / 2 = 1: 15.
    Renewal in 45 days: 10. No call, email, meeting or note in 90 days: 10.
    Billing discrepancy: no billing app, 0.
    Total 16.667 + 10 + 13.333 + 15 + 10 + 10 = 75: high.
    """
    for tickets in (1, 1, 2):
        peer = AccountFactory(segment=Segment.MID)
        for n in range(tickets):
            TicketFactory(account=peer, opened_at=_ago(20 + n), satisfaction=8)
        ActivityFactory(account=peer, kind=ActivityKind.CALL, occurred_at=_ago(10))
    client = AccountFactory(segment=Segment.MID, owner=personas["sales_rep"])
    renewal = timezone.localdate() + dt.timedelta(days=45)
    SubscriptionFactory(account=client, start_date=renewal - dt.timedelta(days=365), renewal_date=renewal)
    closed, open_ = TicketStatus.CLOSED, TicketStatus.OPEN
    TicketFactory(account=client, opened_at=_ago(30), satisfaction=5, status=closed)
    TicketFactory(account=client, opened_at=_ago(60), satisfaction=5, status=closed)
    TicketFactory(account=client, opened_at=_ago(90), satisfaction=5, status=open_, priority=TicketPriority.HIGH)
    TicketFactory(account=client, opened_at=_ago(10), status=open_, priority=TicketPriority.HIGH)
    TicketFactory(account=client, opened_at=_ago(200), satisfaction=7)
    TicketFactory(account=client, opened_at=_ago(300), satisfaction=6)

    support_services.recompute_risk()

    score = RiskScore.objects.get(account=client)
    assert (score.score, score.band) == (75, RiskBand.HIGH)
    assert score.reasons[:2] == ["4 tickets in 180 days; peer median 1.5", "2 open high-priority tickets"]
    assert set(score.reasons[2:]) == {
        "satisfaction fell from 6.5 to 5.0",
        f"renewal due in 45 days ({renewal.day} {renewal:%b %Y})",
        "no call, email, meeting or note in 90 days",
    }
    assert len(score.reasons) == 5


def test_risk_score_of_a_quiet_happy_client_is_zero(personas):
    """One ticket (median 1, ratio 1: no volume points), rated 9 and 9 (no level, no
    trend), nothing open, renewal a year away, a call last week: 0, low."""
    client = AccountFactory(segment=Segment.SMALL)
    SubscriptionFactory(account=client, renewal_date=timezone.localdate() + dt.timedelta(days=300))
    TicketFactory(account=client, opened_at=_ago(20), satisfaction=9)
    TicketFactory(account=client, opened_at=_ago(250), satisfaction=9)
    ActivityFactory(account=client, kind=ActivityKind.CALL, occurred_at=_ago(7))

    support_services.recompute_risk()

    score = RiskScore.objects.get(account=client)
    assert (score.score, score.band, score.reasons) == (0, RiskBand.LOW, [])


# --- Churn-risk arithmetic at its edges (pure: assess() on facts written here) -------------

WEIGHTS = {
    "ticket_volume": 30.0,
    "satisfaction_level": 20.0,
    "satisfaction_trend": 20.0,
    "open_high_priority": 15.0,
    "renewal_soon": 10.0,
    "billing_discrepancy": 10.0,
    "no_recent_contact": 10.0,
}
TODAY = dt.date(2026, 3, 1)


def _assess(median: float = 1.0, *, recent=None, previous=None, **facts):
    from support_bridge import risk

    facts.setdefault("recent_contact", True)
    fact = risk.Facts(account_id=1, segment="mid", owner_id=None, **facts)
    if recent is not None:
        fact.recent_rating_sum, fact.recent_ratings = recent * 2, 2
    if previous is not None:
        fact.previous_rating_sum, fact.previous_ratings = previous * 2, 2
    return risk.assess(fact, peer_median=median, today=TODAY, weight=WEIGHTS)


@pytest.mark.parametrize(("score", "band"), [(60, "high"), (59, "medium"), (30, "medium"), (29, "low"), (0, "low")])
def test_risk_bands_start_at_60_and_30(score, band):
    from support_bridge import risk

    assert risk.band_for(score) == band


@pytest.mark.parametrize(
    ("facts", "score", "reasons"),
    [
        # 3 tickets against a median of 1: ratio 3, share (3 - 1) / 3 = 0.667, x 30 = 20.
        ({"recent_tickets": 3}, 20, ["3 tickets in 180 days; peer median 1"]),
        # 10 tickets: ratio 10, share capped at 1: 30.
        ({"recent_tickets": 10}, 30, ["10 tickets in 180 days; peer median 1"]),
        # Exactly twice the median (4 against 2): share (2 - 1) / 3 x 30 = 10.
        ({"recent_tickets": 4}, 10, ["4 tickets in 180 days; peer median 2"]),
        # 2 tickets is never "many", whatever the median.
        ({"recent_tickets": 2}, 0, []),
        # A fall of 0.5 (6.0 -> 5.5) is no trend; the level 5.5: (7 - 5.5) / 3 x 20 = 10.
        ({"recent": 5.5, "previous": 6.0}, 10, ["average satisfaction 5.5/10 over 180 days"]),
        # A fall of exactly 1 (7.0 -> 6.0) is a trend: 1/3 x 20 = 6.667; level 1/3 x 20 = 6.667.
        ({"recent": 6.0, "previous": 7.0}, 13, ["satisfaction fell from 7.0 to 6.0"]),
        # 8.5 -> 7.0: a fall of 1.5 ending below 7.5: 0.5 x 20 = 10; 7.0 is no low level.
        ({"recent": 7.0, "previous": 8.5}, 10, ["satisfaction fell from 8.5 to 7.0"]),
        # 9.0 -> 7.5 and 9.5 -> 8.0: falls that end satisfied are noise.
        ({"recent": 7.5, "previous": 9.0}, 0, []),
        ({"recent": 8.0, "previous": 9.5}, 0, []),
        # 10 -> 4: trend share capped at 1 (20), level (7 - 4) / 3 = 1 (20).
        ({"recent": 4.0, "previous": 10.0}, 40, ["satisfaction fell from 10.0 to 4.0"]),
        # Just below "satisfied": (7 - 6.9) / 3 x 20 = 0.667 points, still a reason.
        ({"recent": 6.9}, 1, ["average satisfaction 6.9/10 over 180 days"]),
        # Rated 0 and 0: the level share is capped at 1: 20.
        ({"recent": 0.0}, 20, ["average satisfaction 0.0/10 over 180 days"]),
        # Four open high-priority tickets: share capped at 1: 15.
        ({"open_high": 4}, 15, ["4 open high-priority tickets"]),
        # One open high-priority ticket: share 1/2 x 15 = 7.5, rounded to even: 8.
        ({"open_high": 1}, 8, ["1 open high-priority ticket"]),
    ],
)
def test_risk_factor_edges_by_hand(facts, score, reasons):
    median = 2.0 if facts.get("recent_tickets") == 4 else 1.0
    assessment = _assess(median, **facts)
    assert (assessment.score, assessment.reasons) == (score, reasons)


def test_risk_three_tickets_against_a_median_of_two_are_not_many():
    # Ratio 1.5 is under twice the peers: no points.
    assert _assess(2.0, recent_tickets=3).score == 0


def test_risk_score_is_capped_at_100():
    # 30 + 20 + 20 + 15 + 10 + 10 + 10 = 115 -> 100.
    assessment = _assess(
        recent_tickets=20,
        recent=2.0,
        previous=9.0,
        open_high=3,
        renewal_date=TODAY + dt.timedelta(days=30),
        billing_discrepancy=True,
        recent_contact=False,
    )
    assert (assessment.score, assessment.band) == (100, "high")
