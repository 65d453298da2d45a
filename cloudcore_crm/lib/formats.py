"""How money, dates and ABNs read everywhere (lists, the 360, forms, queues, emails).

Money: "$48,000", or "$48,000.50" when there are cents; dates:
"1 Feb 2027"; ABNs: "51 824 753 556". The template filters in
`cloudcore_crm/templatetags/formats.py` call these.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

NO_VALUE = "—"


def money(value) -> str:
    """Whole dollars, with cents only when there are some: "$48,000", "$1,234.50", "-$5"."""
    if value in (None, ""):
        return NO_VALUE
    try:
        amount = Decimal(str(value).replace(",", "").replace("$", ""))
    except InvalidOperation:
        return str(value)
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    return f"{sign}${amount:,.0f}" if amount == amount.to_integral_value() else f"{sign}${amount:,.2f}"


def day(value) -> str:
    if value in (None, ""):
        return NO_VALUE
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        value = value.date()
    return f"{value.day} {value:%b} {value.year}"


def abn(value) -> str:
    digits = "".join(ch for ch in str(value or "") if ch.isdigit())
    if len(digits) != 11:
        return str(value or "") or NO_VALUE
    return f"{digits[:2]} {digits[2:5]} {digits[5:8]} {digits[8:]}"
