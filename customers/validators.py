"""Validators for customer facts."""

from __future__ import annotations

import re
from functools import lru_cache

from django.core.exceptions import ValidationError

ABN_WEIGHTS = (10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)


def clean_abn(value: str) -> str:
    """Strip spaces so '51 824 753 556' and '51824753556' are the same ABN."""
    return "".join(value.split()) if value else ""


def abn_is_valid(value: str) -> bool:
    """The ATO checksum: subtract 1 from the first digit, weight, sum, divisible by 89."""
    return _checksum_holds(clean_abn(value))


@lru_cache(maxsize=4096)  # an import checks a row's ABN three times in a row (cell, match, field)
def _checksum_holds(digits: str) -> bool:
    if not re.fullmatch(r"\d{11}", digits) or digits[0] == "0":
        return False
    numbers = [int(d) for d in digits]
    numbers[0] -= 1
    return sum(w * n for w, n in zip(ABN_WEIGHTS, numbers, strict=True)) % 89 == 0


def validate_abn(value: str) -> None:
    digits = clean_abn(value)
    if not re.fullmatch(r"\d{11}", digits):
        raise ValidationError("An ABN has 11 digits, e.g. 51 824 753 556.", code="abn_format")
    if not abn_is_valid(digits):
        raise ValidationError("This ABN fails the ATO checksum; check for a mistyped digit.", code="abn_checksum")


def format_abn(value: str) -> str:
    digits = clean_abn(value)
    if len(digits) != 11:
        return value
    return f"{digits[:2]} {digits[2:5]} {digits[5:8]} {digits[8:]}"
