"""What Xero bills per year: cadence and annual value, every figure worked out by hand."""

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from customers.billing_cadence import Cadence, InvoiceLine, Tolerance, annualise, stated_period

D = Decimal


def line(number, day, amount, **kw):
    return InvoiceLine(number=number, date=dt.date.fromisoformat(day), amount=D(amount), **kw)


def monthly(amount, months, year=2026, first=1, **kw):
    return [line(f"INV-{year}{m:02}", f"{year}-{m:02}-{first:02}", amount, **kw) for m in months]


# --- cadence from spacing -------------------------------------------------------------------


def test_three_monthly_invoices_of_2000_are_24000_a_year():
    estimate = annualise(monthly("2000", [7, 8, 9]))
    assert estimate.cadence is Cadence.MONTHLY
    assert estimate.annual_value == D("24000.00")


def test_one_month_stated_in_the_line_is_enough_for_a_monthly_value():
    estimate = annualise([line("INV-1", "2026-08-01", "2000", description="Managed Services retainer - August 2026")])
    assert estimate.cadence is Cadence.MONTHLY
    assert estimate.annual_value == D("24000.00")


def test_fourteen_months_of_2000_are_still_24000_a_year():
    lines = monthly("2000", range(1, 13), year=2025) + monthly("2000", [1, 2], year=2026)
    estimate = annualise(lines)
    assert estimate.annual_value == D("24000.00")
    assert estimate.events == 12  # Mar 2025 .. Feb 2026
    assert {x.number for x in estimate.excluded} == {"INV-202501", "INV-202502"}


def test_monthly_invoices_on_month_ends_still_read_as_monthly():
    days = ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"]
    estimate = annualise([line(f"I{i}", d, "150.50") for i, d in enumerate(days)])
    assert estimate.cadence is Cadence.MONTHLY
    assert estimate.annual_value == D("1806.00")  # 150.50 x 12


def test_quarterly_spacing_annualises_by_four():
    days = ["2025-10-01", "2026-01-01", "2026-04-01"]
    estimate = annualise([line(f"Q{i}", d, "1500") for i, d in enumerate(days)])
    assert estimate.cadence is Cadence.QUARTERLY
    assert estimate.annual_value == D("6000.00")


def test_half_yearly_spacing_annualises_by_two():
    estimate = annualise([line("H1", "2025-07-15", "3300"), line("H2", "2026-01-15", "3300")])
    assert estimate.cadence is Cadence.HALF_YEARLY
    assert estimate.annual_value == D("6600.00")


def test_annual_spacing_takes_the_latest_years_invoice():
    estimate = annualise([line("A1", "2024-08-04", "2200"), line("A2", "2025-08-04", "2400")])
    assert estimate.cadence is Cadence.ANNUAL
    assert estimate.annual_value == D("2400.00")
    assert estimate.invoice_numbers == ("A2",)


def test_a_missing_month_in_the_export_does_not_change_the_monthly_value():
    estimate = annualise(monthly("1000", [1, 2, 4, 5]))  # March absent
    assert estimate.cadence is Cadence.MONTHLY
    assert estimate.annual_value == D("12000.00")


def test_a_price_change_within_the_year_is_averaged_over_its_invoices():
    estimate = annualise(monthly("1000", [1, 2, 3]) + monthly("1300", [4, 5, 6]))
    assert estimate.annual_value == D("13800.00")  # (3000 + 3900) / 6 x 12


def test_lines_of_one_invoice_date_are_one_billing_event():
    lines = [
        line("INV-1", "2026-07-01", "825", description="DataVault storage"),
        line("INV-1", "2026-07-01", "175", description="DataVault storage extra"),
        line("INV-2", "2026-08-01", "1000", description="DataVault storage"),
    ]
    estimate = annualise(lines)
    assert estimate.events == 2
    assert estimate.annual_value == D("12000.00")


# --- cadence from the stated period ---------------------------------------------------------


@pytest.mark.parametrize(
    "text, months",
    [
        ("August 2026", 1),
        ("Managed Services retainer - July 2025", 1),
        ("Backup - Aug-26", 1),
        ("Jul-Sep 2026", 3),
        ("Support Jul - Sep 2026", 3),
        ("Support Jul\u2013Sep 2026", 3),
        ("Nov-Jan 2027", 3),
        ("Q1 2027", 3),
        ("Q1 FY2027", 3),
        ("H2 2026", 6),
        ("6 months", 6),
        ("FY2026-27", 12),
        ("FY27", 12),
        ("FY 2026/27", 12),
        ("renewal, 12 months (04/08/2025 - 03/08/2026)", 12),
        ("01/07/2026 to 30/06/2027", 12),
        ("DataVault object storage & backup - monthly, 25 TB", 1),
        ("Firewall management, quarterly", 3),
        ("Licence, half-yearly", 6),
        ("Annual subscription", 12),
        ("Hosting $99/mth", 1),
    ],
)
def test_stated_periods_are_read_as_months(text, months):
    assert stated_period(text).months == months


def test_financial_year_runs_july_to_june():
    period = stated_period("Security & Compliance FY2026-27")
    assert (period.start, period.end) == (dt.date(2026, 7, 1), dt.date(2027, 6, 30))


def test_month_range_across_new_year_starts_in_the_year_before():
    period = stated_period("Nov-Jan 2027")
    assert (period.start, period.end) == (dt.date(2026, 11, 1), dt.date(2027, 1, 31))


# Every stated period's dates, by hand: a subscription only Xero knows starts on the first
# stated day (migration/importers/xero.py), so a month read one off is a wrong start date.
@pytest.mark.parametrize(
    "text, start, end",
    [
        ("January 2026", "2026-01-01", "2026-01-31"),
        ("Jan 2026", "2026-01-01", "2026-01-31"),
        ("February 2026", "2026-02-01", "2026-02-28"),
        ("Feb 2028", "2028-02-01", "2028-02-29"),  # a leap year
        ("March 2026", "2026-03-01", "2026-03-31"),
        ("Mar 2026", "2026-03-01", "2026-03-31"),
        ("April 2026", "2026-04-01", "2026-04-30"),
        ("Apr 2026", "2026-04-01", "2026-04-30"),
        ("May 2026", "2026-05-01", "2026-05-31"),
        ("June 2026", "2026-06-01", "2026-06-30"),
        ("Jun 2026", "2026-06-01", "2026-06-30"),
        ("July 2026", "2026-07-01", "2026-07-31"),
        ("Jul 2026", "2026-07-01", "2026-07-31"),
        ("August 2026", "2026-08-01", "2026-08-31"),
        ("Aug-26", "2026-08-01", "2026-08-31"),
        ("September 2026", "2026-09-01", "2026-09-30"),
        ("Sept 2026", "2026-09-01", "2026-09-30"),
        ("Sep 2026", "2026-09-01", "2026-09-30"),
        ("October 2026", "2026-10-01", "2026-10-31"),
        ("Oct 2026", "2026-10-01", "2026-10-31"),
        ("November 2026", "2026-11-01", "2026-11-30"),
        ("Nov 2026", "2026-11-01", "2026-11-30"),
        ("December 2026", "2026-12-01", "2026-12-31"),
        ("Dec 2026", "2026-12-01", "2026-12-31"),
        ("Jul-Sep 2026", "2026-07-01", "2026-09-30"),
        ("Dec 2025 - Feb 2026", "2025-12-01", "2026-02-28"),
        ("Q1 2027", "2027-01-01", "2027-03-31"),
        ("Q2 2027", "2027-04-01", "2027-06-30"),
        ("Q3 2026", "2026-07-01", "2026-09-30"),
        ("Q4 2026", "2026-10-01", "2026-12-31"),
        ("Q1 FY2027", "2026-07-01", "2026-09-30"),  # the financial year starts in July
        ("Q2 FY2027", "2026-10-01", "2026-12-31"),
        ("Q3 FY27", "2027-01-01", "2027-03-31"),
        ("Q4 FY2027", "2027-04-01", "2027-06-30"),
        ("H1 2026", "2026-01-01", "2026-06-30"),
        ("H2 2026", "2026-07-01", "2026-12-31"),
        ("H1 FY2027", "2026-07-01", "2026-12-31"),
        ("H2 FY2027", "2027-01-01", "2027-06-30"),
        ("FY2027", "2026-07-01", "2027-06-30"),
        ("FY27", "2026-07-01", "2027-06-30"),
        ("FY2026-27", "2026-07-01", "2027-06-30"),
        ("12 months (04/08/2025 - 03/08/2026)", "2025-08-04", "2026-08-03"),
        ("2026-07-01 to 2027-06-30", "2026-07-01", "2027-06-30"),
        ("Backup - Dec-99", "2099-12-01", "2099-12-31"),  # two digits are always this century
    ],
)
def test_stated_periods_start_and_end_on_the_days_they_name(text, start, end):
    period = stated_period(text)
    assert (period.start, period.end) == (dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    assert not period.partial


@pytest.mark.parametrize(
    "text, months",
    [
        ("30/01/2026 - 28/02/2026", 1),  # from the 30th: a month ends on the 28th in February
        ("31/01/2027 - 27/02/2027", 1),  # February 2027 has 28 days (2028 is the leap year)
        ("01/02/2026 - 30/03/2026", 2),  # a day short of two months
        ("01/07/2026 - 29/06/2027", 12),  # a day short of a year
        ("02/07/2026 - 01/07/2027", 12),
        ("31/10/2026 - 29/11/2026", 1),  # a month from the 31st ends in a 30-day November
        ("Aug - Aug 2026", 1),
        ("31/01/2026 - 27/02/2026", 1),  # a day short of a month's end is still a month
        ("six months", 6),
        ("three-month licence", 3),
        ("twelve months", 12),
        ("one month", 1),
        ("1 year", 12),
    ],
)
def test_periods_in_words_and_dates_a_day_off_are_whole_months(text, months):
    period = stated_period(text)
    assert (period.months, period.partial) == (months, False)


def test_a_backwards_month_range_is_a_typo_not_a_pro_rata_period():
    # Read as a range it would end before it starts; read as its month it stays in the average.
    period = stated_period("Mar 2027 - Jan 2027")
    assert (period.months, period.partial, period.start) == (1, False, dt.date(2027, 3, 1))


@pytest.mark.parametrize("text", ["", "Onsite support, Perth CBD (hours)", "PM services", "Marketing", "Project 26"])
def test_text_without_a_period_states_none(text):
    assert stated_period(text) is None


def test_a_dated_part_month_is_pro_rata():
    period = stated_period("Backup 15/08/2026 - 31/08/2026")
    assert period.partial
    assert period.cadence is None


def test_one_quarterly_line_in_a_three_month_export_is_a_quarter():
    estimate = annualise([line("INV-1", "2026-07-01", "3000", description="Managed firewall Jul-Sep 2026")])
    assert estimate.cadence is Cadence.QUARTERLY
    assert estimate.annual_value == D("12000.00")


def test_one_financial_year_line_is_an_annual_value():
    estimate = annualise([line("INV-1", "2026-07-01", "18000", description="Security & Compliance FY2026-27")])
    assert estimate.cadence is Cadence.ANNUAL
    assert estimate.annual_value == D("18000.00")


def test_the_period_may_be_stated_in_the_reference():
    estimate = annualise([line("INV-1", "2026-07-01", "500", description="Backup", reference="Jul-Sep 2026")])
    assert estimate.annual_value == D("2000.00")


def test_stated_monthly_periods_with_a_missing_invoice_are_still_monthly():
    lines = [
        line("I1", "2026-01-01", "400", description="Jan 2026"),
        line("I2", "2026-03-01", "400", description="Mar 2026"),
    ]
    estimate = annualise(lines)
    assert estimate.cadence is Cadence.MONTHLY
    assert estimate.annual_value == D("4800.00")


def test_annual_periods_invoiced_a_month_apart_cannot_be_told():
    lines = [
        line("I1", "2026-01-01", "400", description="Annual subscription"),
        line("I2", "2026-02-01", "400", description="Annual subscription"),
    ]
    estimate = annualise(lines)
    assert estimate.annual_value is None
    assert "annual" in estimate.reason


def test_lines_stating_different_periods_cannot_be_told():
    lines = [
        line("I1", "2026-01-01", "400", description="January 2026"),
        line("I2", "2026-02-01", "1200", description="Feb-Apr 2026"),
    ]
    estimate = annualise(lines)
    assert estimate.annual_value is None
    assert estimate.reason == "Cannot tell: the lines state different periods (monthly, quarterly)"


# --- once-off -------------------------------------------------------------------------------


def test_a_once_off_charge_is_its_own_amount():
    estimate = annualise([line("INV-1", "2026-07-01", "4500", description="Once-off migration project")])
    assert estimate.cadence is Cadence.ONCE_OFF
    assert estimate.annual_value == D("4500.00")


def test_a_setup_fee_beside_a_monthly_charge_is_left_out():
    lines = [
        *monthly("800", [7, 8, 9], description="Backup monthly"),
        line("INV-S", "2026-07-01", "1500", description="Setup fee"),
    ]
    estimate = annualise(lines)
    assert estimate.cadence is Cadence.MONTHLY
    assert estimate.annual_value == D("9600.00")
    assert "INV-S" not in estimate.invoice_numbers


# --- credit notes and statuses --------------------------------------------------------------


def test_a_credit_note_subtracts_from_the_year():
    lines = [
        *monthly("2000", [7, 8, 9]),
        line("CN-1", "2026-08-15", "600", kind="Sales credit note"),
    ]
    estimate = annualise(lines)
    assert estimate.annual_value == D("21600.00")  # (6000 - 600) / 3 x 12
    assert "CN-1" in estimate.invoice_numbers
    assert estimate.reason == "monthly: 3 invoices averaging $1,800.00, x12, less 1 credit note"


def test_a_credit_note_on_the_day_of_the_years_first_invoice_counts():
    lines = [*monthly("2000", [7, 8, 9]), line("CN-1", "2026-07-01", "300", kind="Sales credit note")]
    estimate = annualise(lines)
    assert estimate.annual_value == D("22800.00")  # (6000 - 300) / 3 x 12
    assert estimate.reason.endswith(", less 1 credit note")


def test_the_sentence_counts_in_words_a_person_reads():
    assert annualise(monthly("2000", [7, 8])).reason == "monthly: 2 invoices averaging $2,000.00, x12"
    one = annualise([line("INV-1", "2026-08-01", "2000", description="August 2026")])
    assert one.reason == "monthly: 1 invoice averaging $2,000.00, x12"
    assert annualise(monthly("2000", [7, 8, 9])).reason.endswith("x12")  # no credit note, nothing after


def test_a_credit_note_amount_subtracts_whatever_its_sign():
    lines = [line("A1", "2025-08-04", "2400"), line("CN", "2025-09-01", "-400", kind="ACCRECCREDIT")]
    estimate = annualise([*lines, line("A0", "2024-08-04", "2400")])
    assert estimate.annual_value == D("2000.00")


def test_a_credit_note_before_the_last_year_does_not_count():
    lines = [
        line("A0", "2024-08-04", "2400"),
        line("CN", "2024-09-01", "400", kind="Sales credit note"),
        line("A1", "2025-08-04", "2400"),
    ]
    assert annualise(lines).annual_value == D("2400.00")


def test_a_year_credited_in_full_cannot_be_told():
    lines = [line("A1", "2025-08-04", "2400", description="Annual"), line("CN", "2025-09-01", "2400", kind="credit")]
    estimate = annualise(lines)
    assert (estimate.annual_value, estimate.cadence) == (None, Cadence.ANNUAL)


def test_credits_exceeding_invoices_cannot_be_told():
    lines = [
        line("A1", "2025-08-04", "2400", description="Annual"),
        line("CN", "2025-09-01", "3000", kind="credit note"),
    ]
    estimate = annualise(lines)
    assert estimate.annual_value is None
    assert "credit notes exceed" in estimate.reason


@pytest.mark.parametrize("status", ["Voided", "Draft", "DELETED", "Awaiting Approval", "SUBMITTED", "VOIDED"])
def test_documents_that_do_not_count_are_excluded(status):
    lines = [*monthly("2000", [7, 8, 9]), line("X", "2026-09-15", "99999", status=status)]
    estimate = annualise(lines)
    assert estimate.annual_value == D("24000.00")
    assert [x.number for x in estimate.excluded] == ["X"]


@pytest.mark.parametrize("status", ["Paid", "Awaiting Payment", "AUTHORISED", "PAID"])
def test_approved_invoices_count(status):
    assert annualise(monthly("100", [1, 2], status=status)).annual_value == D("1200.00")


@pytest.mark.parametrize("kind", ["Bill", "Sales overpayment", "ACCPAY"])
def test_bills_and_overpayments_are_not_sales(kind):
    lines = [*monthly("100", [1, 2]), line("B", "2026-02-15", "5000", kind=kind)]
    assert annualise(lines).annual_value == D("1200.00")


# --- cannot tell ----------------------------------------------------------------------------


def test_one_invoice_with_no_period_cannot_be_told():
    estimate = annualise([line("INV-1", "2026-07-01", "2000", description="DataVault")])
    assert not estimate.known
    assert estimate.annual_value is None
    assert estimate.reason.startswith("Cannot tell: one invoice and no stated period")
    assert estimate.invoice_numbers == ("INV-1",)


def test_irregular_spacing_cannot_be_told():
    days = ["2026-01-01", "2026-01-20", "2026-03-15"]
    estimate = annualise([line(f"I{i}", d, "500") for i, d in enumerate(days)])
    assert estimate.annual_value is None
    assert "irregularly spaced (19, 54 days apart)" in estimate.reason


def test_the_reason_shows_the_first_six_gaps():
    days = [
        "2026-01-01",
        "2026-01-10",
        "2026-02-01",
        "2026-02-05",
        "2026-03-20",
        "2026-03-22",
        "2026-05-01",
        "2026-05-02",
    ]
    estimate = annualise([line(f"I{i}", d, "500") for i, d in enumerate(days)])
    assert estimate.reason == "Cannot tell: invoices are irregularly spaced (9, 22, 4, 43, 2, 40 days apart)"


# A gap is a whole number of months within 4 days plus 0.6 of a day a month: 4.6 days for a
# month (30.44 days: 26 to 35 days), 11.2 for a year (365.25 days: 355 to 376 days).
@pytest.mark.parametrize(
    "gap, cadence",
    [
        (26, Cadence.MONTHLY),
        (35, Cadence.MONTHLY),
        (25, None),
        (36, None),
        (355, Cadence.ANNUAL),
        (376, Cadence.ANNUAL),
        (354, None),
        (377, None),
    ],
)
def test_how_far_a_gap_may_stray_from_whole_months(gap, cadence):
    first = dt.date(2026, 1, 5)
    lines = [line("I1", first.isoformat(), "900"), line("I2", (first + dt.timedelta(days=gap)).isoformat(), "900")]
    assert annualise(lines).cadence is cadence


def test_each_cadence_knows_its_months_and_billing_events_a_year():
    assert [(c.months, c.per_year) for c in Cadence] == [(1, 12), (3, 4), (6, 2), (12, 1), (None, 1)]
    assert [Cadence.of_months(m) for m in (1, 3, 6, 12, 2)] == [*list(Cadence)[:4], None]


@pytest.mark.parametrize("text", ["FY2026-25", "FY2026-28", "FY26/28"])
def test_a_financial_year_must_end_the_year_after_it_starts(text):
    period = stated_period(text)
    assert period is None or period.start is None


def test_a_two_year_range_is_twenty_four_months_and_no_cadence():
    period = stated_period("Licence 01/07/2025 - 30/06/2027")
    assert (period.months, period.partial, period.cadence) == (24, False, None)


def test_a_range_ending_on_a_day_that_does_not_exist_states_no_range():
    assert stated_period("01/07/2026 - 31/06/2027") is None


@pytest.mark.parametrize(
    "text, cadence",
    [
        ("Backup, monthly", Cadence.MONTHLY),
        ("Firewall management, quarterly", Cadence.QUARTERLY),
        ("Licence, half-yearly", Cadence.HALF_YEARLY),
        ("Licence, six-monthly", Cadence.HALF_YEARLY),
        ("Annual subscription", Cadence.ANNUAL),
        ("Once-off migration project", Cadence.ONCE_OFF),
        ("Setup fee", Cadence.ONCE_OFF),
    ],
)
def test_cadence_words_state_their_cadence(text, cadence):
    assert stated_period(text).cadence is cadence


def test_invoices_three_days_apart_are_irregular_not_a_cadence():
    estimate = annualise([line("I1", "2026-08-01", "500"), line("I2", "2026-08-04", "500")])
    assert estimate.reason == "Cannot tell: invoices are irregularly spaced (3 days apart)"


def test_gaps_of_three_and_four_months_are_no_cadence():
    days = ["2026-01-01", "2026-04-01", "2026-08-01"]
    estimate = annualise([line(f"I{i}", d, "500") for i, d in enumerate(days)])
    assert (estimate.cadence, estimate.annual_value) == (None, None)


def test_monthly_lines_with_the_months_between_missing_from_the_export_are_still_monthly():
    lines = [
        line("I1", "2026-01-01", "800", description="Backup - January 2026"),
        line("I2", "2026-04-01", "800", description="Backup - April 2026"),
        line("I3", "2026-07-01", "800", description="Backup - July 2026"),
    ]
    assert annualise(lines).annual_value == D("9600.00")


def test_an_estimate_that_cannot_be_told_averaged_no_billing_events():
    assert annualise([line("I1", "2026-08-01", "500")]).events == 0


def test_two_days_short_of_a_year_is_pro_rata():
    period = stated_period("01/07/2026 - 28/06/2027")
    assert (period.months, period.partial) == (None, True)


def test_a_range_with_a_day_that_does_not_exist_states_no_range():
    assert stated_period("31/02/2026 - 30/03/2026") is None


def test_a_stated_period_cannot_be_changed_by_whoever_reads_it():
    # Periods are cached and shared between lines: one reader must not change another's.
    period = stated_period("August 2026")
    with pytest.raises(dataclasses.FrozenInstanceError):
        period.months = 3
    assert stated_period("August 2026").months == 1


def test_a_year_billed_at_fifty_cents_net_is_still_told():
    lines = [line("A1", "2025-08-04", "100.00", description="Annual"), line("CN", "2025-09-01", "99.50", kind="credit")]
    assert annualise(lines).annual_value == D("0.50")


def test_a_one_day_range_is_a_pro_rata_period():
    period = stated_period("Callout 01/07/2026 - 01/07/2026")
    assert (period.partial, period.start, period.end) == (True, dt.date(2026, 7, 1), dt.date(2026, 7, 1))


def test_two_monthly_spacing_is_not_a_cadence():
    estimate = annualise([line("I1", "2026-01-01", "500"), line("I2", "2026-03-01", "500")])
    assert estimate.annual_value is None


def test_a_pro_rata_invoice_alone_covers_less_than_a_billing_period():
    estimate = annualise([line("I1", "2026-08-15", "1100", description="Backup pro-rata 15/08/2026 - 31/08/2026")])
    assert estimate.annual_value is None
    assert "less than one billing period" in estimate.reason


def test_a_line_that_only_says_pro_rata_is_a_partial_period():
    estimate = annualise([line("I1", "2026-08-15", "400", description="Licence - pro rata")])
    assert estimate.reason == ("Cannot tell: the history covers less than one billing period (one pro-rata invoice)")


def test_a_pro_rata_month_states_no_cadence():
    period = stated_period("Pro-rata August 2026")
    assert (period.months, period.partial, period.cadence) == (1, True, None)


def test_stated_quarters_invoiced_early_or_late_are_still_quarterly():
    lines = [
        line("Q1", "2026-01-01", "1500", description="Firewall Q1 2026"),
        line("Q2", "2026-03-01", "1500", description="Firewall Q2 2026"),  # two months on
        line("Q3", "2026-06-01", "1500", description="Firewall Q3 2026"),  # three months on
    ]
    estimate = annualise(lines)
    assert (estimate.cadence, estimate.annual_value) == (Cadence.QUARTERLY, D("6000.00"))


def test_a_pro_rata_first_invoice_is_left_out_of_the_average():
    lines = [
        line("I0", "2026-08-15", "1100", description="Backup monthly, pro-rata"),
        line("I1", "2026-09-01", "2000", description="Backup monthly"),
        line("I2", "2026-10-01", "2000", description="Backup monthly"),
    ]
    estimate = annualise(lines)
    assert estimate.annual_value == D("24000.00")
    assert "1 pro-rata invoice left out" in estimate.reason


def test_no_lines_cannot_be_told():
    assert annualise([]).annual_value is None


def test_only_credit_notes_cannot_be_told():
    estimate = annualise([line("CN", "2026-01-01", "100", kind="Sales credit note")])
    assert estimate.reason == "Cannot tell: only credit notes, no invoice"


def test_values_round_half_up_to_cents():
    estimate = annualise(monthly("33.335", [1, 2, 3]))
    assert estimate.annual_value == D("400.02")  # 33.335 x 12 = 400.02


# --- tolerance ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "held, billed, drift",
    [
        ("24000", "24000", False),
        ("24000", "24200", False),  # $200 is under 1% of $24,000 ($240)
        ("24000", "24300", True),  # $300 is over 1% and over $100
        ("5000", "5090", False),  # $90 is over 1% ($50) but under $100
        ("5000", "5150", True),
        ("50000", "49400", True),  # $600 down, over $500
        ("12000", "6000", True),
        ("5000", "5100", False),  # exactly $100 is not beyond $100
        ("5000", "5101", True),
        ("20000", "20200", False),  # exactly 1% ($200) is not beyond 1%
        ("20000", "20201", True),
    ],
)
def test_drift_is_beyond_one_percent_and_one_hundred_dollars(held, billed, drift):
    assert Tolerance().drifts(D(held), D(billed)) is drift


def test_tolerance_can_be_set():
    assert Tolerance(percent=D("0"), amount=D("0")).drifts(D("100"), D("100.01"))


def test_a_missing_value_is_no_drift():
    assert Tolerance().drifts(None, D("100")) is False
