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
