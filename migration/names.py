"""How the import compares the loose names of legacy cells: products, staff, survey labels,
pipeline stages.

Pure functions (no database): the run context builds its lookups with them, and the alias
models store their keys with them, so a steward's mapping and the import always agree.
"""

from __future__ import annotations

import functools
import re

_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]|\{[^}]*\}")
_WORD = re.compile(r"[a-z0-9]+")


@functools.lru_cache(maxsize=8192)  # the same item codes and descriptions come back on every line
def _product_key(text: str) -> str:
    low = text.lower().replace("&", " and ").replace("+", " and ")
    stripped = _BRACKETED.sub(" ", low)
    if stripped.strip():
        low = stripped
    return "".join(_singular(word) for word in _WORD.findall(low))


def product_key(text: object) -> str:
    """A product name as compared: case, spacing and punctuation ignored, "&" read as
    "and", bracketed words dropped and plurals made singular ("Managed Service" and
    "managed  services (legacy)" are one key; "Security and Compliance" is
    "Security & Compliance")."""
    return _product_key(str(text or ""))


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def staff_key(text: object) -> str:
    """A person's name as compared: case and spacing ignored ("mei  CHEN" is "Mei Chen")."""
    return " ".join(str(text or "").replace("\u00a0", " ").lower().split())


def label_key(text: object) -> str:
    """A survey label as compared: case, spacing and end punctuation ignored."""
    return " ".join(str(text or "").lower().split()).strip(" .!")[:200]


def stage_key(text: object) -> str:
    """A pipeline stage as compared: its words only ("Closed - Won", "closed-won " and
    "CLOSED WON" are one key)."""
    return " ".join(re.findall(r"[a-z]+", str(text or "").lower()))[:200]
