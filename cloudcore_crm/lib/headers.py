"""One header-mapping helper for every legacy file and export.

Real files name the same column many ways ("Client Name", "*ContactName", "client_name ",
"Company"). Importers declare the canonical fields they need with their synonyms; the map
matches headers by name (never by position), ignoring case, spacing, punctuation and a
leading `*` (Xero's import-template marker).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple


class Fit(NamedTuple):
    """How well a header row fits a map. Compared as a tuple: the share of required
    columns first, then how many of the map's columns are there, so a sheet that carries
    another store's few required columns still goes to the map that knows all of it."""

    required: float
    columns: int


def header_key(text: object) -> str:
    """'*Contact Name ' -> 'contactname'; 'E-mail Address' -> 'emailaddress'."""
    value = str(text or "").strip().lstrip("*").strip().lower()
    return re.sub(r"[^a-z0-9]+", "", value)


class MissingColumnsError(ValueError):
    """A file lacks columns an importer cannot do without."""

    def __init__(self, missing: Sequence[str]):
        self.missing = list(missing)
        super().__init__("Missing required column(s): " + ", ".join(self.missing))


@dataclass
class HeaderMap:
    """Canonical field -> accepted header spellings; `required` must all be present."""

    synonyms: dict[str, Sequence[str]]
    required: Iterable[str] = ()
    _keys: dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._keys = {}
        for canonical, names in self.synonyms.items():
            for name in (canonical, *names):
                self._keys.setdefault(header_key(name), canonical)

    def match(self, headers: Sequence[object]) -> dict[str, int]:
        """Column index of each canonical field found in `headers` (first occurrence wins)."""
        found: dict[str, int] = {}
        for index, header in enumerate(headers):
            canonical = self._keys.get(header_key(header))
            if canonical and canonical not in found:
                found[canonical] = index
        return found

    def resolve(self, headers: Sequence[object]) -> dict[str, int]:
        """Like `match`, but raise MissingColumnsError when a required field is absent."""
        found = self.match(headers)
        missing = [name for name in self.required if name not in found]
        if missing:
            raise MissingColumnsError(missing)
        return found

    def score(self, headers: Sequence[object]) -> float:
        """How well `headers` fit this map (share of required fields found): used to
        recognise a file by its headers, not its name."""
        required = list(self.required) or list(self.synonyms)
        found = self.match(headers)
        return sum(1 for name in required if name in found) / len(required)

    def fit(self, headers: Sequence[object]) -> Fit:
        return Fit(self.score(headers), len(self.match(headers)))

    @staticmethod
    def row_dict(row: Sequence[object], columns: dict[str, int]) -> dict[str, object]:
        return {name: (row[index] if index < len(row) else None) for name, index in columns.items()}


def decode_csv_bytes(data: bytes) -> str:
    """Text of a CSV export: UTF-8 (with or without BOM), else Windows-1252 as Outlook and
    older Excel write it. Never guesses further: cp1252 decodes almost any byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")
