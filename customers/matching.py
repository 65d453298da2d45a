"""Name normalisation shared by search, duplicate detection and imports.

"Acme Pty Ltd", "ACME Pty. Limited" and "Acme" all normalise to "acme", so one key finds
them all. Legal suffixes are removed only at the end of a name.
"""

from __future__ import annotations

import re
import unicodedata

# Longest first, so "pty ltd" is removed before "ltd" is considered.
_LEGAL_SUFFIXES = (
    "proprietary limited",
    "pty limited",
    "pty ltd",
    "p l",
    "limited",
    "ltd",
    "inc",
    "incorporated",
    "pty",
    "co",
    "corporation",
    "corp",
)
_TRADING_AS = re.compile(r"\b(t/a|trading as)\b.*$")


def normalise_name(name: str) -> str:
    """A comparison key for an organisation name: lower case, ASCII, no punctuation,
    '&' read as 'and', the 'trading as' tail and legal suffixes removed."""
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    text = text.lower().replace("&", " and ")
    text = _TRADING_AS.sub("", text)
    text = text.replace("p/l", "p l")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    changed = True
    while changed:
        changed = False
        for suffix in _LEGAL_SUFFIXES:
            if text.endswith(" " + suffix):
                text = text[: -len(suffix) - 1].strip()
                changed = True
    if text.startswith("the "):
        text = text[4:]
    return text


def phone_digits(phone: str) -> str:
    """Digits of an Australian number in national form, so '+61 8 9212 3456' and
    '(08) 9212 3456' compare equal."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if digits.startswith("61") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits


def alias_key(kind: str, value: str) -> str:
    """The lookup key of an alias: a normalised name, or an external id in lower case."""
    return normalise_name(value) if kind == "name" else (value or "").strip().lower()
