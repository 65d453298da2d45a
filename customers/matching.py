"""Name, phone and email normalisation shared by search, duplicate detection and imports.

"Acme Pty Ltd", "ACME Pty. Limited" and "Acme" all normalise to "acme", so one key finds
them all. Legal suffixes are removed only at the end of a name. The rules follow the
duplicate-matching key of the Corporations Act abbreviations (s148-149): "Pty", "Ltd",
"Co" and "&" may be written with or without full stops, or in full.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Longest first, so "pty ltd" is removed before "ltd" is considered.
_LEGAL_SUFFIXES = (
    "and company",
    "and co",
    "proprietary limited",
    "proprietary ltd",
    "pty limited",
    "pty ltd",
    "no liability",
    "incorporated",
    "corporation",
    "limited",
    "company",
    "corp",
    "pty",
    "p l",
    "ltd",
    "inc",
    "nl",
    "co",
)
# How a removed suffix is named in evidence ("after removing 'Pty Ltd'").
_SUFFIX_LABELS = {
    "and company": "& Company",
    "and co": "& Co",
    "proprietary limited": "Proprietary Limited",
    "proprietary ltd": "Proprietary Ltd",
    "pty limited": "Pty Limited",
    "pty ltd": "Pty Ltd",
    "no liability": "NL",
    "incorporated": "Incorporated",
    "corporation": "Corporation",
    "limited": "Limited",
    "company": "Company",
    "corp": "Corp",
    "pty": "Pty",
    "p l": "P/L",
    "ltd": "Ltd",
    "inc": "Inc",
    "nl": "NL",
    "co": "Co",
}
_TRADING_AS = re.compile(r"\b(?:t/a|t/as|trading as)\b")
_TRUSTEE_FOR = re.compile(r"^(?:the )?trustees? for (?:the )?")
_ATF = re.compile(r"^.*?\b(?:atf|as trustee for)\b (?:the )?")

# Free-mail and ISP domains say nothing about which company a person works for.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "outlook.com.au",
        "hotmail.com",
        "hotmail.com.au",
        "live.com",
        "live.com.au",
        "msn.com",
        "yahoo.com",
        "yahoo.com.au",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "protonmail.com",
        "proton.me",
        "bigpond.com",
        "bigpond.net.au",
        "bigpond.com.au",
        "telstra.com",
        "optusnet.com.au",
        "iinet.net.au",
        "westnet.com.au",
        "tpg.com.au",
        "internode.on.net",
        "ozemail.com.au",
        "dodo.com.au",
        "aapt.net.au",
    }
)
# Area code for a bare eight-digit landline, from the account's state.
_STATE_AREA = {"NSW": "02", "ACT": "02", "VIC": "03", "TAS": "03", "QLD": "07", "WA": "08", "SA": "08", "NT": "08"}


@dataclass(frozen=True)
class NameKey:
    """A name's comparison key, plus what normalisation removed (for evidence in words)."""

    key: str
    removed: tuple[str, ...] = ()
    trading: str = ""  # the key of the text after "t/a" or "trading as", if any


def _fold(name: str) -> str:
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    return text.casefold().replace("&", " and ")


def _clean(text: str) -> str:
    text = text.replace("p/l", "p l")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _strip_suffixes(text: str) -> tuple[str, tuple[str, ...]]:
    removed: list[str] = []
    changed = True
    while changed:
        changed = False
        for suffix in _LEGAL_SUFFIXES:
            if text.endswith(" " + suffix):
                text = text[: -len(suffix) - 1].strip()
                removed.insert(0, _SUFFIX_LABELS[suffix])
                changed = True
                break
    if text.startswith("the "):
        text = text[4:]
    return text, tuple(removed)


def _entity(text: str) -> str:
    # "The Trustee for the Smith Family Trust" and "Smith Pty Ltd ATF Smith Family Trust"
    # both name the trust: keep the text after "trustee for" / "atf".
    text = _TRUSTEE_FOR.sub("", text)
    return _ATF.sub("", text)


@lru_cache(maxsize=65_536)  # imports and scans meet the same few thousand names again and again
def name_key(name: str) -> NameKey:
    """The comparison key of an organisation name, what it removed, and its trading name."""
    folded = _fold(name)
    parts = _TRADING_AS.split(folded, maxsplit=1)
    legal = _clean(_entity(_clean(parts[0])))
    key, removed = _strip_suffixes(legal)
    trading = ""
    if len(parts) == 2:
        trading, trading_removed = _strip_suffixes(_clean(_entity(_clean(parts[1]))))
        removed = removed + trading_removed
    return NameKey(key=key, removed=removed, trading=trading)


def normalise_name(name: str) -> str:
    """A comparison key for an organisation name: lower case, ASCII, no punctuation,
    '&' read as 'and', the 'trading as' tail and legal suffixes removed."""
    return name_key(name).key


def name_keys(*names: str) -> tuple[str, ...]:
    """Every key a record may be matched on: each name's key and its trading name's key."""
    keys: list[str] = []
    for name in names:
        if not name:
            continue
        parsed = name_key(name)
        for key in (parsed.key, parsed.trading):
            if key and key not in keys:
                keys.append(key)
    return tuple(keys)


def phone_digits(phone: str) -> str:
    """Digits of an Australian number in national form, so '+61 8 9212 3456' and
    '(08) 9212 3456' compare equal."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if digits.startswith("61") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits


def phone_e164(phone: str, *, state: str = "") -> str:
    """'+61892123456' for any way of writing an Australian number, or '' when unsure.

    A bare eight-digit landline takes the area code of the account's state.
    """
    digits = phone_digits(phone)
    if len(digits) == 8 and state in _STATE_AREA and not digits.startswith("1"):
        digits = _STATE_AREA[state] + digits
    if len(digits) == 10 and digits.startswith("0"):
        return "+61" + digits[1:]
    if (digits.startswith("13") and len(digits) in (6, 10)) or (digits.startswith("1800") and len(digits) == 10):
        return "+61" + digits  # non-geographic 13/1300/1800 numbers keep their leading 1
    return ""


def email_domain(email: str) -> str:
    """The company domain of an address, or '' for free-mail and malformed addresses."""
    _, at, domain = (email or "").strip().lower().rpartition("@")
    domain = domain.strip(".")
    if not at or "." not in domain or domain in FREE_MAIL_DOMAINS:
        return ""
    return domain


def alias_key(kind: str, value: str) -> str:
    """The lookup key of an alias: a normalised name, or an external id in lower case."""
    return normalise_name(value) if kind == "name" else (value or "").strip().lower()
