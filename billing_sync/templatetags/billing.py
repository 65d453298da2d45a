"""Small display helpers for the billing pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def person(user, empty: str = "—") -> str:
    """A user's full name, else username, else `empty` (no user)."""
    if user is None:
        return empty
    return user.get_full_name() or user.get_username()


@register.filter
def money(value, empty: str = "—") -> str:
    """'$12,345.60' (a queue page shows hundreds of amounts: floatformat's localisation
    was most of its rendering time)."""
    if value is None or value == "":
        return empty
    return f"${value:,.2f}" if value >= 0 else f"-${-value:,.2f}"
