"""Server-side SVG charts: the geometry is worked out here from a `pack.Chart` (whose
numbers are the table's), and `templates/reports/partials/chart.html` draws it. No
JavaScript and no CDN, so the same chart prints, and WeasyPrint puts it in the PDF."""

from __future__ import annotations

from dataclasses import dataclass

from reports.pack import Chart

WIDTH = 640
BAR_HEIGHT = 20
BAR_GAP = 8
LABEL_WIDTH = 200
VALUE_WIDTH = 110
LINE_HEIGHT = 200
PAD = 36


@dataclass
class Bar:
    label: str
    value: float
    x: float
    y: float
    width: float
    text_y: float
    value_x: float


@dataclass
class Point:
    label: str
    value: float
    x: float
    y: float
    show_label: bool


def geometry(chart: Chart) -> dict:
    if chart.kind == "line":
        return _line(chart)
    return _bars(chart)


def _bars(chart: Chart) -> dict:
    values = chart.series[0].values if chart.series else []
    top = max([abs(v) for v in values] + [0]) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars = []
    for i, (label, value) in enumerate(zip(chart.categories, values, strict=True)):
        y = i * (BAR_HEIGHT + BAR_GAP)
        bars.append(
            Bar(
                label=label,
                value=value,
                x=LABEL_WIDTH,
                y=y,
                width=round(max(abs(value), 0) / top * span, 1),
                text_y=y + BAR_HEIGHT * 0.7,
                value_x=LABEL_WIDTH + round(max(abs(value), 0) / top * span, 1) + 6,
            )
        )
    height = max(len(bars) * (BAR_HEIGHT + BAR_GAP), BAR_HEIGHT)
    return {
        "kind": "bar",
        "bars": bars,
        "width": WIDTH,
        "height": height,
        "label_x": LABEL_WIDTH - 8,
        "bar_height": BAR_HEIGHT,
    }


def _line(chart: Chart) -> dict:
    values = [v for v in (chart.series[0].values if chart.series else [])]
    labels = chart.categories
    low, high = (min(values), max(values)) if values else (0, 1)
    if high == low:
        low, high = low - 1, high + 1
    margin = (high - low) * 0.1
    low, high = low - margin, high + margin
    inner_w, inner_h = WIDTH - 2 * PAD - 40, LINE_HEIGHT - 2 * PAD
    step = inner_w / max(len(values) - 1, 1)
    points = [
        Point(
            label=label,
            value=value,
            x=round(PAD + 40 + i * step, 1),
            y=round(PAD + inner_h - (value - low) / (high - low) * inner_h, 1),
            show_label=len(values) <= 7 or i % 2 == (len(values) - 1) % 2,
        )
        for i, (label, value) in enumerate(zip(labels, values, strict=True))
    ]
    return {
        "kind": "line",
        "points": points,
        "polyline": " ".join(f"{p.x},{p.y}" for p in points),
        "width": WIDTH,
        "height": LINE_HEIGHT,
        "axis_y": PAD + inner_h,
        "axis_x": PAD + 40,
        "tick_x": PAD + 36,
        "axis_right": PAD + 40 + inner_w,
        "low": low + margin,
        "high": high - margin,
        "low_y": round(PAD + inner_h - margin / (high - low) * inner_h, 1),
        "high_y": round(PAD + margin / (high - low) * inner_h, 1),
        "label_y": PAD + inner_h + 16,
    }
