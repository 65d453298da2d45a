"""What Xero bills per year: one implementation, shared by the legacy import and billing sync.

Pure: no database, no Django. Invoice lines of one subscription (one client, one product)
go in as `InvoiceLine`s; a `BillingEstimate` comes out, holding the billing cadence, the
annualised value and a sentence saying how it was worked out, or why it cannot be told.

API
---
``InvoiceLine(number, date, amount, kind="Sales invoice", status="Paid", description="", reference="")``
    One line of a Xero sales invoice or credit note. `kind` and `status` take Xero's export
    labels ("Sales invoice", "Sales credit note", "Paid", "Awaiting Payment", "Voided",
    "Draft"...) or its API codes (ACCREC, ACCRECCREDIT, AUTHORISED, PAID, VOIDED, DRAFT,
    DELETED, SUBMITTED), in any case. `amount` is the line amount (ex GST) as printed; a
    credit note's amount subtracts whatever its sign.

``annualise(lines) -> BillingEstimate``
    The cadence and the annual value of these lines:

    - Draft, voided, deleted and awaiting-approval (submitted) documents, and anything that
      is not a sales invoice or credit note (bills, overpayments), are not counted.
    - Invoice lines dated the same day are one billing event (several lines, one bill).
    - The cadence comes from the period the lines state ("August 2026" monthly,
      "Jul-Sep 2026" or "Q1 2027" quarterly, "FY2026-27" or "12 months (04/08/2025 -
      03/08/2026)" annual, "6 months" half-yearly, words such as "monthly", "quarterly",
      "annual", "once-off", "setup fee") and, without a stated period, from the spacing of
      the billing events (each gap a whole number of months, within a few days; the
      smallest gap is the cadence, and must be 1, 3, 6 or 12 months). When both are
      known and disagree, the cadence cannot be told.
    - Annual value = the net amount of the billing events in the last year of history
      (the events after the newest event's date less twelve months, plus credit notes dated
      on or after the first of those events), divided by the number of those events, times the events per year (12,
      4, 2, 1). A monthly $2,000 line is $24,000 a year whether the export holds one month
      or fourteen. A once-off charge's annual value is the once-off amount billed in that
      year (billed once).
    - Lines stating a partial ("pro-rata") period are left out of the average; when every
      event is partial, the history covers less than one billing period and the value
      cannot be told.
    - Cannot tell (``annual_value is None``, ``known`` False, ``reason`` says why): no
      counted invoice; one invoice with no stated period or cadence word; irregular
      spacing; stated periods and spacing disagree; less than one full billing period;
      credit notes exceeding the invoices.

``stated_period(text) -> Period | None``
    The billing period a line's description or reference states, if any.

``Tolerance(percent=Decimal("1"), amount=Decimal("100")).drifts(held, billed) -> bool``
    Whether two annual values differ beyond the tolerance: by more than `percent` of the
    held value AND more than `amount` dollars (so within 1% or within $100 is no drift).

``Cadence``: MONTHLY, QUARTERLY, HALF_YEARLY, ANNUAL, ONCE_OFF (str enum; ``.per_year``).

Money is `Decimal`, rounded half-up to cents.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
DAYS_PER_MONTH = Decimal("30.4375")
NOT_COUNTED = frozenset({"draft", "voided", "void", "deleted", "awaiting approval", "submitted"})
INVOICE_KINDS = frozenset({"sales invoice", "accrec", "invoice", "tax invoice", ""})
CREDIT_KINDS = frozenset({"sales credit note", "accreccredit", "credit note", "credit"})


class Cadence(enum.StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half-yearly"
    ANNUAL = "annual"
    ONCE_OFF = "once-off"

    @property
    def per_year(self) -> int:
        """Billing events a year (a once-off charge is billed once)."""
        return {"monthly": 12, "quarterly": 4, "half-yearly": 2, "annual": 1, "once-off": 1}[self.value]

    @property
    def months(self) -> int | None:
        return {"monthly": 1, "quarterly": 3, "half-yearly": 6, "annual": 12}.get(self.value)

    @classmethod
    def of_months(cls, months: int) -> Cadence | None:
        return {1: cls.MONTHLY, 3: cls.QUARTERLY, 6: cls.HALF_YEARLY, 12: cls.ANNUAL}.get(months)


@dataclass(frozen=True)
class InvoiceLine:
    number: str
    date: dt.date
    amount: Decimal
    kind: str = "Sales invoice"
    status: str = "Paid"
    description: str = ""
    reference: str = ""

    @property
    def is_credit(self) -> bool:
        return _word(self.kind) in CREDIT_KINDS

    @property
    def exclusion(self) -> str:
        """Why this line is not counted, or '' when it is."""
        status = _word(self.status)
        if status in NOT_COUNTED:
            return f"{self.number} is {status}"
        if _word(self.kind) not in INVOICE_KINDS | CREDIT_KINDS:
            return f"{self.number} is a {self.kind.strip().lower()}, not a sale"
        return ""

    @property
    def signed_amount(self) -> Decimal:
        return -abs(self.amount) if self.is_credit else self.amount


@dataclass(frozen=True)
class Period:
    """A billing period stated in a line's text: its length in months (None when the
    text names a cadence but no dates), its dates when given, and whether it is partial."""

    months: int | None
    start: dt.date | None = None
    end: dt.date | None = None  # inclusive
    partial: bool = False
    once_off: bool = False
    text: str = ""

    @property
    def cadence(self) -> Cadence | None:
        if self.once_off:
            return Cadence.ONCE_OFF
        if self.partial or self.months is None:
            return None
        return Cadence.of_months(self.months)


@dataclass(frozen=True)
class BillingEstimate:
    cadence: Cadence | None
    annual_value: Decimal | None
    reason: str
    counted: tuple[InvoiceLine, ...] = ()  # the lines behind the figure
    excluded: tuple[InvoiceLine, ...] = ()  # not counted (status, kind) or outside the last year
    events: int = 0  # billing events averaged

    @property
    def known(self) -> bool:
        return self.annual_value is not None

    @property
    def invoice_numbers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(line.number for line in self.counted))


@dataclass(frozen=True)
class Tolerance:
    percent: Decimal = Decimal("1")
    amount: Decimal = Decimal("100")

    def drifts(self, held: Decimal | None, billed: Decimal | None) -> bool:
        if held is None or billed is None:
            return False
        gap = abs(Decimal(held) - Decimal(billed))
        return gap > self.amount and gap > abs(Decimal(held)) * self.percent / 100


@dataclass
class _Event:
    date: dt.date
    amount: Decimal = Decimal(0)
    lines: list[InvoiceLine] = field(default_factory=list)
    periods: list[Period] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        return bool(self.periods) and all(p.partial for p in self.periods)


def annualise(lines: Iterable[InvoiceLine]) -> BillingEstimate:
    lines = list(lines)
    excluded = [line for line in lines if line.exclusion]
    counted = [line for line in lines if not line.exclusion]
    invoices = [line for line in counted if not line.is_credit]
    credits = [line for line in counted if line.is_credit]
    if not invoices:
        why = "no invoice is counted" if not credits else "only credit notes, no invoice"
        return BillingEstimate(None, None, f"Cannot tell: {why}", tuple(counted), tuple(excluded))

    periods = {id(line): stated_period(line.description) or stated_period(line.reference) for line in invoices}
    once = [line for line in invoices if periods[id(line)] is not None and periods[id(line)].once_off]
    set_aside: list[InvoiceLine] = []
    if once and len(once) < len(invoices):
        set_aside = once  # a setup fee beside a recurring charge is not what the product bills a year
        invoices = [line for line in invoices if line not in once]
        counted = [line for line in counted if line not in once]
        excluded = excluded + once
    events: dict[dt.date, _Event] = {}
    for line in sorted(invoices, key=lambda line: (line.date, line.number)):
        event = events.setdefault(line.date, _Event(line.date))
        event.amount += line.amount
        event.lines.append(line)
        if periods[id(line)] is not None:
            event.periods.append(periods[id(line)])
    ordered = list(events.values())

    cadence, why = _cadence(ordered)
    if cadence is None:
        return BillingEstimate(None, None, f"Cannot tell: {why}", tuple(counted), tuple(excluded))

    full = [event for event in ordered if not event.partial]
    if not full:
        return BillingEstimate(
            cadence,
            None,
            f"Cannot tell: the history covers less than one {cadence} billing period (pro-rata lines only)",
            tuple(counted),
            tuple(excluded),
        )
    newest = full[-1].date
    since = _add_months(newest, -12)
    window = [event for event in full if event.date > since]
    window_credits = [line for line in credits if line.date >= window[0].date]
    net = sum((event.amount for event in window), Decimal(0)) + sum(
        (line.signed_amount for line in window_credits), Decimal(0)
    )
    behind = [line for event in window for line in event.lines] + window_credits
    behind_ids = {id(line) for line in behind}
    outside = [line for line in counted if id(line) not in behind_ids]
    if net <= 0:
        return BillingEstimate(
            cadence,
            None,
            "Cannot tell: credit notes exceed the invoices of the last year",
            tuple(behind),
            tuple(excluded + outside),
            len(window),
        )
    if cadence is Cadence.ONCE_OFF:
        value = net
        how = f"once-off, {_count(len(window), 'charge')} in the last year"
    else:
        value = net / len(window) * cadence.per_year
        how = f"{cadence}: {_count(len(window), 'invoice')} averaging {_money(net / len(window))}, x{cadence.per_year}"
    if window_credits:
        how += f", less {_count(len(window_credits), 'credit note')}"
    if len(full) < len(ordered):
        how += f"; {_count(len(ordered) - len(full), 'pro-rata invoice')} left out"
    if set_aside:
        how += f"; {_count(len(set_aside), 'once-off line')} left out"
    return BillingEstimate(
        cadence,
        value.quantize(CENT, rounding=ROUND_HALF_UP),
        how,
        tuple(behind),
        tuple(excluded + outside),
        len(window),
    )


def _cadence(events: list[_Event]) -> tuple[Cadence | None, str]:
    """The cadence of these billing events and, when it cannot be told, why."""
    stated = {p.cadence for event in events for p in event.periods if not p.partial} - {None}
    if len(stated) > 1:
        names = ", ".join(sorted(str(c) for c in stated))
        return None, f"the lines state different periods ({names})"
    from_text = next(iter(stated), None)
    if from_text is Cadence.ONCE_OFF:
        return from_text, ""
    gaps = [(later.date - earlier.date).days for earlier, later in itertools.pairwise(events)]
    if not gaps:
        if from_text is not None:
            return from_text, ""
        partial = [p for p in events[0].periods if p.partial]
        if partial:
            return None, "the history covers less than one billing period (one pro-rata invoice)"
        return None, "one invoice and no stated period: cannot tell how often it is billed"
    months = [_whole_months(days) for days in gaps]
    if None in months:
        if from_text is not None:
            return from_text, ""
        return None, _irregular(gaps)
    unit = min(months)
    spaced = Cadence.of_months(unit) if all(m % unit == 0 for m in months) else None
    if from_text is not None:
        if spaced is not None and spaced is not from_text and unit < from_text.months:
            return None, f"the lines state {from_text} periods but invoices are {spaced} apart"
        return from_text, ""
    if spaced is None:
        return None, _irregular(gaps)
    return spaced, ""


def _irregular(gaps: list[int]) -> str:
    shown = ", ".join(str(days) for days in gaps[:6])
    return f"invoices are irregularly spaced ({shown} days apart)"


def _whole_months(days: int) -> int | None:
    """The whole number of months a gap of `days` is, within a few days' slack, else None."""
    months = int((Decimal(days) / DAYS_PER_MONTH).to_integral_value(rounding=ROUND_HALF_UP))
    if months < 1:
        return None
    slack = Decimal(4) + Decimal(months) * Decimal("0.6")  # 4-5 days a month, ~11 days a year
    return months if abs(Decimal(days) - months * DAYS_PER_MONTH) <= slack else None


# --- stated periods -------------------------------------------------------------------------

_MONTH_NAMES = {
    "jan": 1,
    "january": 1,
    "feb": 2,
    "february": 2,
    "mar": 3,
    "march": 3,
    "apr": 4,
    "april": 4,
    "may": 5,
    "jun": 6,
    "june": 6,
    "jul": 7,
    "july": 7,
    "aug": 8,
    "august": 8,
    "sep": 9,
    "sept": 9,
    "september": 9,
    "oct": 10,
    "october": 10,
    "nov": 11,
    "november": 11,
    "dec": 12,
    "december": 12,
}
_MONTH = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_YEAR = r"(\d{4}|'?\d{2})"
_TO = r"\s*(?:-|\u2013|\u2014|to|until|thru|through)\s*"  # hyphen, en and em dashes
_DATE = r"(\d{1,2})[/.](\d{1,2})[/.](\d{2,4})|(\d{4})-(\d{2})-(\d{2})"
_DATE_RANGE = re.compile(rf"(?:{_DATE}){_TO}(?:{_DATE})")
_FY = re.compile(r"\bfy\s*(\d{4}|\d{2})(?:\s*[-/\u2013]\s*(\d{4}|\d{2}))?\b")
_QUARTER = re.compile(r"\bq([1-4])\s*(fy)?\s*" + _YEAR + r"\b")
_HALF = re.compile(r"\bh([12])\s*(fy)?\s*" + _YEAR + r"\b")
_MONTH_RANGE = re.compile(rf"\b{_MONTH}\.?(?:\s*{_YEAR})?{_TO}{_MONTH}\.?[\s,-]*{_YEAR}\b")
_ONE_MONTH = re.compile(rf"\b{_MONTH}\.?(?:[\s,]+(\d{{4}})|\s*[-']\s*(\d{{2}}))\b")
_N_MONTHS = re.compile(r"\b(\d{1,2}|one|three|six|twelve)[\s-]*(months?|mths?|mos?)\b")
_N_YEARS = re.compile(r"\b(1|one)[\s-]*(years?|yrs?)\b")
_WORDS: list[tuple[re.Pattern, int | None, bool]] = [
    (re.compile(r"\b(once[\s-]?off|one[\s-]?off|one[\s-]?time|set[\s-]?up fee|setup|installation fee)\b"), None, True),
    (re.compile(r"\b(half[\s-]?year(ly)?|six[\s-]?monthly|semi[\s-]?annual(ly)?|bi[\s-]?annual(ly)?)\b"), 6, False),
    (re.compile(r"(?<![a-z])(quarterly|per quarter|a quarter|/\s*qtr)(?![a-z])"), 3, False),
    (re.compile(r"(?<![a-z])(monthly|per month|a month|/\s*mth|/\s*month)(?![a-z])"), 1, False),
    (re.compile(r"(?<![a-z])(annual(ly)?|yearly|per annum|per year|p\.\s?a\.?)(?![a-z])"), 12, False),
]
_PARTIAL = re.compile(r"\b(pro[\s-]?rata|prorata|pro[\s-]?rated|partial)\b")
_NUMBER_WORDS = {"one": 1, "three": 3, "six": 6, "twelve": 12}


@functools.lru_cache(maxsize=8192)  # an export repeats the same descriptions on thousands of lines
def stated_period(text: str) -> Period | None:
    """The billing period `text` states: dates, a financial year, a quarter, a month range,
    one month, 'N months', or a cadence word. None when it states none."""
    if not text:
        return None
    low = " ".join(text.lower().split())
    partial = bool(_PARTIAL.search(low))
    for finder in (_date_range, _quarter, _half, _financial_year, _month_range, _one_month):
        found = finder(low)
        if found is not None:
            start, end = found
            months = _months_between(start, end)
            return Period(months=months, start=start, end=end, partial=partial or months is None, text=text.strip())
    match = _N_MONTHS.search(low)
    if match:
        count = _NUMBER_WORDS.get(match.group(1)) or int(match.group(1))
        return Period(months=count, partial=partial, text=text.strip())
    if _N_YEARS.search(low):
        return Period(months=12, partial=partial, text=text.strip())
    for pattern, months, once in _WORDS:
        if pattern.search(low):
            return Period(months=months, partial=partial, once_off=once, text=text.strip())
    if partial:
        return Period(months=None, partial=True, text=text.strip())
    return None


def _date_range(low: str) -> tuple[dt.date, dt.date] | None:
    match = _DATE_RANGE.search(low)
    if not match:
        return None
    g = match.groups()
    start = _date(g[0:6])
    end = _date(g[6:12])
    if start is None or end is None or end < start:
        return None
    return start, end


def _date(groups) -> dt.date | None:
    day, month, year, iso_year, iso_month, iso_day = groups
    try:
        if iso_year:
            return dt.date(int(iso_year), int(iso_month), int(iso_day))
        return dt.date(_full_year(year), int(month), int(day))  # Australian: day first
    except ValueError:
        return None


def _full_year(text: str) -> int:
    text = text.lstrip("'")
    year = int(text)
    return year + 2000 if year < 100 else year


def _financial_year(low: str) -> tuple[dt.date, dt.date] | None:
    """Australian financial years run July to June: FY2026-27 and FY27 are Jul 2026 - Jun 2027."""
    match = _FY.search(low)
    if not match:
        return None
    first, second = match.groups()
    if second:
        start_year = _full_year(first)
        if _full_year(second) % 100 != (start_year + 1) % 100:
            return None
    else:
        start_year = _full_year(first) - 1  # FY2027 ends June 2027
    return dt.date(start_year, 7, 1), dt.date(start_year + 1, 6, 30)


def _quarter(low: str) -> tuple[dt.date, dt.date] | None:
    match = _QUARTER.search(low)
    if not match:
        return None
    number, fy, year = int(match.group(1)), match.group(2), _full_year(match.group(3))
    start = dt.date(year - 1, 7, 1) if fy else dt.date(year, 1, 1)
    start = _add_months(start, 3 * (number - 1))
    return start, _add_months(start, 3) - dt.timedelta(days=1)


def _half(low: str) -> tuple[dt.date, dt.date] | None:
    match = _HALF.search(low)
    if not match:
        return None
    number, fy, year = int(match.group(1)), match.group(2), _full_year(match.group(3))
    start = dt.date(year - 1, 7, 1) if fy else dt.date(year, 1, 1)
    start = _add_months(start, 6 * (number - 1))
    return start, _add_months(start, 6) - dt.timedelta(days=1)


def _month_range(low: str) -> tuple[dt.date, dt.date] | None:
    match = _MONTH_RANGE.search(low)
    if not match:
        return None
    first, first_year, last, last_year = match.groups()
    end_year = _full_year(last_year)
    first_month, last_month = _MONTH_NAMES[first], _MONTH_NAMES[last]
    start_year = end_year if first_month <= last_month else end_year - 1  # "Nov-Jan 2027"
    if first_year:
        start_year = _full_year(first_year)
    start = dt.date(start_year, first_month, 1)
    end = _add_months(dt.date(end_year, last_month, 1), 1) - dt.timedelta(days=1)
    return (start, end) if start <= end else None


def _one_month(low: str) -> tuple[dt.date, dt.date] | None:
    match = _ONE_MONTH.search(low)
    if not match:
        return None
    month, year = _MONTH_NAMES[match.group(1)], match.group(2) or match.group(3)
    start = dt.date(_full_year(year), month, 1)
    return start, _add_months(start, 1) - dt.timedelta(days=1)


def _months_between(start: dt.date, end: dt.date) -> int | None:
    """How many whole months `start`..`end` (inclusive) is, or None when it is not whole
    (a pro-rata period). A day either way is allowed ('04/08/2025 - 04/08/2026')."""
    after = end + dt.timedelta(days=1)
    months = (after.year - start.year) * 12 + after.month - start.month
    for count in (months - 1, months, months + 1):
        if count >= 1 and abs((_add_months(start, count) - after).days) <= 1:
            return count
    return None


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def _word(text: str) -> str:
    return " ".join((text or "").lower().split())


def _count(n: int, noun: str) -> str:
    return f"1 {noun}" if n == 1 else f"{n} {noun}s"


def _money(value: Decimal) -> str:
    return f"${value.quantize(CENT, rounding=ROUND_HALF_UP):,}"
