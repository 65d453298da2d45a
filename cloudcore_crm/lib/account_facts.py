"""Account facts: how an app lends another a per-account SQL expression without either
importing the other (the queryset counterpart of `panels.py`).

`renewals` weights its forecast by the churn-risk band, which belongs to `support_bridge`;
both depend on `customers` only. `support_bridge` registers, in its `AppConfig.ready()`,
a factory that turns a reference to an account id (`OuterRef("account_id")`) into an
expression for the band; `renewals` annotates with `expression("churn_risk_band", ...)`,
and gets the default when no app registered the fact (the band is then unknown).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import CharField, Expression, F, Value

ExpressionFactory = Callable[[F], Expression]

CHURN_RISK_BAND = "churn_risk_band"  # "low", "medium" or "high" (support_bridge's RiskBand values)

_REGISTRY: dict[str, ExpressionFactory] = {}


def register(name: str, factory: ExpressionFactory) -> None:
    _REGISTRY[name] = factory


def expression(name: str, account_ref: F, *, default: Any = "") -> Expression:
    factory = _REGISTRY.get(name)
    if factory is None:
        return Value(default, output_field=CharField())
    return factory(account_ref)


def is_registered(name: str) -> bool:
    return name in _REGISTRY
