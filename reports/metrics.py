"""The board pack's definitions, as plain functions of plain numbers.

ARR movement between two moments, per account (ARR = the annual contract value of the
account's live subscriptions):

- **new**: the account had no ARR before and has some now (the whole amount);
- **expansion**: it had ARR and now has more (the increase);
- **contraction**: it had ARR and now has less but not none (the decrease);
- **churn**: it had ARR and now has none, or is gone (the whole amount it had).

Retention over the period, on the ARR of the accounts that had ARR at its start:

- **GRR** (gross revenue retention) = (start - contraction - churn) / start;
- **NRR** (net revenue retention) = (start + expansion - contraction - churn) / start.

Both are None when nothing was held at the start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from reports.choices import Movement

ZERO = Decimal("0")


def classify(before: Decimal | None, after: Decimal | None) -> str:
    before, after = before or ZERO, after or ZERO
    if before <= 0 and after <= 0:
        return Movement.NONE
    if before <= 0:
        return Movement.NEW
    if after <= 0:
        return Movement.CHURN
    if after > before:
        return Movement.EXPANSION
    if after < before:
        return Movement.CONTRACTION
    return Movement.FLAT


@dataclass(frozen=True)
class ArrMovement:
    start: Decimal
    new: Decimal
    expansion: Decimal
    contraction: Decimal
    churn: Decimal
    end: Decimal
    counts: Mapping[str, int]

    @property
    def grr(self) -> Decimal | None:
        if self.start <= 0:
            return None
        return (self.start - self.contraction - self.churn) / self.start

    @property
    def nrr(self) -> Decimal | None:
        if self.start <= 0:
            return None
        return (self.start + self.expansion - self.contraction - self.churn) / self.start

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": money(self.start),
            "new": money(self.new),
            "expansion": money(self.expansion),
            "contraction": money(self.contraction),
            "churn": money(self.churn),
            "end": money(self.end),
            "grr": ratio(self.grr),
            "nrr": ratio(self.nrr),
            "counts": dict(self.counts),
        }


def arr_movement(before: Mapping[Any, Decimal], after: Mapping[Any, Decimal]) -> ArrMovement:
    """The movement from `before` to `after` ({account: ARR}; an account missing on one
    side had no ARR there)."""
    sums = dict.fromkeys(("new", "expansion", "contraction", "churn"), ZERO)
    counts = dict.fromkeys(("new", "expansion", "contraction", "churn", "flat"), 0)
    for key in set(before) | set(after):
        old, new = before.get(key) or ZERO, after.get(key) or ZERO
        kind = classify(old, new)
        if kind == Movement.NEW:
            sums["new"] += new
        elif kind == Movement.CHURN:
            sums["churn"] += old
        elif kind == Movement.EXPANSION:
            sums["expansion"] += new - old
        elif kind == Movement.CONTRACTION:
            sums["contraction"] += old - new
        if kind:
            counts[kind] += 1
    start = sum((v for v in before.values() if v and v > 0), ZERO)
    end = sum((v for v in after.values() if v and v > 0), ZERO)
    return ArrMovement(start=start, end=end, counts=counts, **sums)


def money(value: Decimal | float | int | None) -> float | None:
    """A money figure as stored in a snapshot's totals: a number, to the cent."""
    if value is None:
        return None
    return round(float(value), 2)


def ratio(value: Decimal | float | None) -> float | None:
    if value is None:
        return None
    return round(float(value), 4)


def change(now: float | None, then: float | None) -> dict[str, float | None]:
    """{"delta": now - then, "pct": the change as a fraction of then}."""
    if now is None or then is None:
        return {"delta": None, "pct": None}
    return {"delta": round(now - then, 2), "pct": round((now - then) / then, 4) if then else None}


def median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
