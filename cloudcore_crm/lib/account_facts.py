"""Account facts: how an app lends another a per-account fact in SQL without either
importing the other (the queryset counterpart of `panels.py`).

`renewals` weights its forecast by the churn-risk band, which belongs to `support_bridge`;
both depend on `customers` only. `support_bridge` registers, in its `AppConfig.ready()`,
two factories for the fact:

- `expression(account_ref)`: the value for one row (`OuterRef("account_id")`), a
  correlated subquery: for the rows of a page, a feed;
- `accounts(value)`: the ids of the accounts holding a value (`""`: every account that
  has the fact at all), for `account_id__in=` filters and per-value aggregates, which
  PostgreSQL runs as one hashed semi-join instead of a subquery per row.

With no app registered, `expression` gives the default and `accounts` gives None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import CharField, Expression, F, QuerySet, Value

CHURN_RISK_BAND = "churn_risk_band"  # "low", "medium" or "high" (support_bridge's RiskBand values)


@dataclass(frozen=True)
class Fact:
    expression: Callable[[F], Expression]
    accounts: Callable[[str], QuerySet]


_REGISTRY: dict[str, Fact] = {}


def register(name: str, fact: Fact) -> None:
    _REGISTRY[name] = fact


def expression(name: str, account_ref: F, *, default: Any = "") -> Expression:
    fact = _REGISTRY.get(name)
    if fact is None:
        return Value(default, output_field=CharField())
    return fact.expression(account_ref)


def accounts(name: str, value: str = "") -> QuerySet | None:
    fact = _REGISTRY.get(name)
    return None if fact is None else fact.accounts(value)


def is_registered(name: str) -> bool:
    return name in _REGISTRY
