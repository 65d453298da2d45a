"""Formatting of board-pack figures, and the SVG chart beside each table."""

from __future__ import annotations

from typing import Any

from django import template

from reports import charts
from reports.pack import Chart, Table, cell_kind

register = template.Library()

DASH = "\u2013"  # en dash


def format_figure(value: Any, kind: str) -> str:
    """A figure as the board reads it: $1,234,567, 1,234, 99.4%, 13.0 h, 8.2."""
    if value is None or value == "":
        return DASH
    if kind == "text":
        return str(value)
    number = float(value)
    sign = "\u2212" if number < 0 else ""  # minus sign
    number = abs(number)
    if kind == "money":
        return f"{sign}${number:,.0f}"
    if kind == "int":
        return f"{sign}{number:,.0f}"
    if kind == "pct":
        return f"{sign}{number * 100:,.1f}%"
    if kind == "hours":
        return f"{sign}{number:,.1f} h"
    if kind == "score":
        return f"{sign}{number:,.1f}"
    return str(value)


@register.filter
def figure(value: Any, kind: str) -> str:
    return format_figure(value, kind)


@register.simple_tag
def table_cell(table: Table, row: list, column: int) -> str:
    cell = row[column]
    return format_figure(cell.value, cell_kind(table, column, row))


@register.filter
def is_numeric_column(table: Table, column: int) -> bool:
    return table.kinds[column] != "text"


@register.inclusion_tag("reports/partials/chart.html")
def chart_svg(chart: Chart | None) -> dict:
    if chart is None or not chart.categories:
        return {"chart": None}
    return {"chart": chart, "g": charts.geometry(chart), "kind": chart.value_kind}
