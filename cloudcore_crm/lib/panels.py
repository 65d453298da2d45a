"""Panels: how an app adds a box to another app's page without the page importing it.

The customer 360 page belongs to `customers`, which imports no other app; yet support
wants its churn-risk box there. An app registers a panel for a named slot in its
`AppConfig.ready()`; the page renders `{% panels "account_360" account %}`. Each panel's
context function must run a fixed number of queries (the page's query budget counts them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

ContextFunction = Callable[[HttpRequest, Any], dict[str, Any] | None]


@dataclass(frozen=True)
class Panel:
    slot: str  # "home", "account_360", "account_360_opportunities", "opportunity_form", "agent_lookup"
    name: str
    template: str
    context: ContextFunction  # returns None to hide the panel
    order: int = 100


_REGISTRY: dict[str, list[Panel]] = {}


def register(panel: Panel) -> None:
    """Add (or replace, by name) a panel in its slot."""
    panels = [p for p in _REGISTRY.get(panel.slot, []) if p.name != panel.name]
    panels.append(panel)
    _REGISTRY[panel.slot] = sorted(panels, key=lambda p: (p.order, p.name))


def for_slot(slot: str) -> list[Panel]:
    return list(_REGISTRY.get(slot, []))
