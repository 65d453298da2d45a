"""Which product a Xero line bills: by item code, else description, else reference.

Item codes are CloudCore's own short codes ("DV-STD", "SEC-COMP-1Y", "CS-SEATS"): the
first part is the product's initials (DataVault -> DV, Security & Compliance -> SC or
SEC...), or its code. Descriptions and references name the product ("CloudSync file sync
& share, 8 seats"). A line that names no product (onsite hours, a site survey) is a
one-off charge, not a subscription, and is left out of what Xero bills per year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from customers.models import Product

_WORD = re.compile(r"[a-z0-9]+")
_CAMEL = re.compile(r"[A-Z][a-z0-9]*|[a-z0-9]+")


def words(text: str) -> list[str]:
    return _WORD.findall((text or "").lower().replace("&", " and "))


def _initials(name: str) -> str:
    parts = [p for p in _CAMEL.findall(name.replace("&", " ")) if p.lower() != "and"]
    return "".join(p[0] for p in parts).lower()


@dataclass
class ProductResolver:
    """Built once per import from the product table (a handful of rows)."""

    by_code: dict[str, Product] = field(default_factory=dict)
    by_phrase: list[tuple[tuple[str, ...], Product]] = field(default_factory=list)
    first_words: list[tuple[list[str], Product]] = field(default_factory=list)
    memo: dict[tuple[str, str, str], Product | None] = field(default_factory=dict)

    @classmethod
    def build(cls, products=None) -> ProductResolver:
        resolver = cls()
        products = list(products if products is not None else Product.objects.all())
        initials: dict[str, list[Product]] = {}
        for product in products:
            for key in {product.code.lower(), product.code.replace("-", "").lower(), "".join(words(product.name))}:
                resolver.by_code[key] = product
            initials.setdefault(_initials(product.name), []).append(product)
            resolver.first_words.append((words(product.name), product))
            for phrase in {tuple(words(product.name)), tuple(words(product.code.replace("-", " ")))}:
                if phrase:
                    resolver.by_phrase.append((phrase, product))
        for key, found in initials.items():
            if len(found) == 1 and len(key) >= 2:
                resolver.by_code.setdefault(key, found[0])
        # Longest phrase first: "cloud hosting" before a product called "cloud".
        resolver.by_phrase.sort(key=lambda item: -len(item[0]))
        return resolver

    def _from_code(self, item_code: str) -> Product | None:
        code = item_code.lower()
        if code in self.by_code:
            return self.by_code[code]
        parts = [p for p in re.split(r"[^a-z]+", code) if p]
        if not parts:
            return None
        head = parts[0]
        if head in self.by_code:
            return self.by_code[head]
        # "SEC-COMP-1Y": the code's first letters begin the product's first word.
        found = {
            product.pk: product
            for first_words, product in self.first_words
            if len(head) >= 3 and first_words and first_words[0].startswith(head)
        }
        return next(iter(found.values())) if len(found) == 1 else None

    def _from_text(self, text: str) -> Product | None:
        found = words(text)
        if not found:
            return None
        joined = " " + " ".join(found) + " "
        squashed = "".join(found)
        for phrase, product in self.by_phrase:
            if " " + " ".join(phrase) + " " in joined or (len(phrase) > 1 and "".join(phrase) in squashed):
                return product
        return None

    def resolve(self, *, item_code: str = "", description: str = "", reference: str = "") -> Product | None:
        key = (item_code, description, reference)
        if key not in self.memo:
            self.memo[key] = (
                (self._from_code(item_code) if item_code else None)
                or self._from_text(description)
                or self._from_text(reference)
            )
        return self.memo[key]
