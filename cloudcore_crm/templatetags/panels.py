"""`{% panels "slot" obj %}` renders every panel other apps registered for a slot."""

from __future__ import annotations

from django import template
from django.template.loader import render_to_string
from django.utils.html import format_html_join

from cloudcore_crm.lib import panels as registry

register = template.Library()


@register.simple_tag(takes_context=True)
def panels(context, slot: str, obj=None):
    request = context.get("request")
    rendered = []
    for panel in registry.for_slot(slot):
        extra = panel.context(request, obj)
        if extra is None:
            continue
        rendered.append((render_to_string(panel.template, {"object": obj, **extra}, request=request),))
    return format_html_join("", "{}", rendered)
