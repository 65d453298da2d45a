"""`{% load formats %}`: `{{ value|money }}`, `{{ date|day }}`,
`{{ abn|abn }}`, the same formatting on every page (see cloudcore_crm/lib/formats.py)."""

from __future__ import annotations

from django import template

from cloudcore_crm.lib import formats

register = template.Library()


@register.filter
def money(value) -> str:
    return formats.money(value)


@register.filter
def day(value) -> str:
    return formats.day(value)


@register.filter(name="abn")
def abn_filter(value) -> str:
    return formats.abn(value)
