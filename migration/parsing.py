"""Cell parsers for legacy spreadsheets and exports.

Each parser takes whatever openpyxl or the csv module produced (datetime, int serial,
float, text with currency signs...) and returns a clean value, or raises `CellError` with
a message a person can act on. Dates are Australian: day first, never guessed otherwise.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from django.core.exceptions import ValidationError
from openpyxl.utils.datetime import from_excel

from cloudcore_crm.lib.text import single_line
from customers.choices import AustralianState


class CellError(ValueError):
    """One cell could not be read; the message names the problem and the value."""


BLANKS = {"", "-", "--", "n/a", "na", "none", "null", "tbc", "tba", "?", "unknown"}
# Serials between these dates are plausible contract dates; outside it a number is not a date.
_SERIAL_MIN, _SERIAL_MAX = 20000, 80000  # 1954 .. 2119
_REMEMBERED = 8192  # distinct texts each of parse_date and parse_money keeps the answer for

_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for m in names
}


def clean_text(value: object) -> str:
    """Text with outer and repeated inner whitespace removed ('Acme  Pty Ltd ' -> 'Acme Pty Ltd')."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = " ".join(str(value).split())  # str.split() splits on the whitespace \s matches
    if not text.isprintable():  # a control character (NUL, ESC...) left after the split
        text = str(single_line(text))
    return text


def is_blank(value: object) -> bool:
    return clean_text(value).lower() in BLANKS


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 70 else 1900
    return year


def parse_date(value: object) -> dt.date | None:
    """A date from a datetime, an Excel serial, ISO text, AU day-first text ('30/06/2026',
    '1/7/25'), or '15 Mar 2026'. Blank-like values ('TBC') give None. Month-only text
    ('Sept 2022') is ambiguous about the day and is refused."""
    if value is None:
        return None
    if type(value) is str:
        return _date_from_text(value)
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if _SERIAL_MIN <= value <= _SERIAL_MAX:
            return from_excel(value).date()
        raise CellError(f"{value!r} is not a date")
    return _date_from_text(str(value))


@lru_cache(maxsize=_REMEMBERED)
def _date_from_text(value: str) -> dt.date | None:
    # Remembered: an export repeats the same few thousand dates over its rows (Xero's
    # 90,000 invoice lines), and the patterns below cost 10-20 µs a cell. A text that is
    # no date raises each time (an exception is never cached).
    if is_blank(value):
        return None
    text = clean_text(value)
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?", text):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})", text):
            return dt.date(_year(m[3]), int(m[2]), int(m[1]))
        if m := re.fullmatch(r"(\d{1,2})[ -]([A-Za-z]+)\.?[ -,]*(\d{2}|\d{4})", text):
            month = _MONTHS.get(m[2].lower())
            if month:
                return dt.date(_year(m[3]), month, int(m[1]))
        if re.fullmatch(r"\d{5}(\.0+)?", text):
            return parse_date(float(text))
    except ValueError as exc:  # 31/02/2026
        raise CellError(f"{text!r} is not a real date") from exc
    if re.fullmatch(r"[A-Za-z]+\.? (\d{2}|\d{4})", text):
        raise CellError(f"{text!r} has no day; enter a full date")
    raise CellError(f"{text!r} is not a date (use DD/MM/YYYY)")


def parse_money(value: object) -> Decimal | None:
    """AUD from 12000, '$12,000.00', 'AUD 12k', 'A$8.5k', '8,500', '(1,200.00)'."""
    if value is None:
        return None
    if type(value) is str:
        return _money_from_text(value)
    if isinstance(value, bool):
        raise CellError(f"{value!r} is not an amount")
    if isinstance(value, int | float | Decimal):
        return _cents(Decimal(str(value)), value)
    return _money_from_text(str(value))


MAX_AMOUNT = Decimal(10) ** 12  # beyond any contract; also where quantizing would overflow


def _cents(amount: Decimal, shown: object) -> Decimal:
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        raise CellError(f"{clean_text(shown)!r} is not a plausible amount")
    return amount.quantize(Decimal("0.01"))


@lru_cache(maxsize=_REMEMBERED)
def _money_from_text(value: str) -> Decimal | None:
    # Remembered like dates: line amounts repeat (a product's price, times its seats).
    if is_blank(value):
        return None
    text = clean_text(value).lower().replace("aud", "").replace("a$", "").replace("$", "").replace(",", "")
    text = text.replace(" ", "")
    negative = text.startswith("(") and text.endswith(")")
    text = text.strip("()")
    multiplier = Decimal(1)
    if text.endswith("k"):
        multiplier, text = Decimal(1000), text[:-1]
    elif text.endswith("m"):
        multiplier, text = Decimal(1_000_000), text[:-1]
    try:
        amount = Decimal(text) * multiplier
    except InvalidOperation as exc:
        raise CellError(f"{clean_text(value)!r} is not an amount") from exc
    return _cents(-amount if negative else amount, value)


def parse_int(value: object) -> int | None:
    if value is None or (isinstance(value, str) and is_blank(value)):
        return None
    try:
        number = Decimal(clean_text(value).replace(",", ""))
    except InvalidOperation as exc:
        raise CellError(f"{clean_text(value)!r} is not a whole number") from exc
    if number != number.to_integral_value():
        raise CellError(f"{clean_text(value)!r} is not a whole number")
    return int(number)


_STATES = {
    "western australia": AustralianState.WA,
    "new south wales": AustralianState.NSW,
    "victoria": AustralianState.VIC,
    "queensland": AustralianState.QLD,
    "south australia": AustralianState.SA,
    "tasmania": AustralianState.TAS,
    "australian capital territory": AustralianState.ACT,
    "northern territory": AustralianState.NT,
}


_STATE_CODES = frozenset(AustralianState.values)  # the enum builds a new list per `.values`


def parse_state(value: object) -> str:
    """'W.A.', 'wa', 'Western Australia' -> 'WA'; unknown text -> ''."""
    text = clean_text(value).lower()
    if not text:
        return ""
    compact = text.replace(".", "").replace(" ", "").upper()
    if compact in _STATE_CODES:
        return compact
    return _STATES.get(text, "")


def passes(validator, value: str) -> bool:
    """Whether `value` passes a Django validator (an email, a web address, a phone)."""
    try:
        validator(value)
    except ValidationError:
        return False
    return True
