"""The geometry of the pages' charts (no I/O): where each bar, line, point, grid line and label
goes, as numbers. `templates/charts.html` draws them as inline SVG (no JavaScript, nothing
fetched), so a browser without internet access shows them as they are.

Every chart is a dict with `kind` (bar, hbar, stacked, line or empty), `title`, `width` and
`height`, and the shapes of its kind.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

BLUE = "#2b6cb0"
GREY = "#a0aec0"
GREEN = "#2f855a"
RED = "#c53030"
AMBER = "#d69e2e"
INK = "#1a202c"
FAINT = "#e2e8f0"

NO_DATA = "no data for this quarter"
NO_VALUE = "no data"  # one point of a chart

Chart = dict[str, Any]


def num(value: float) -> str:
    """A value as a chart shows it: whole numbers without a decimal point, others with one."""
    return f"{value:g}" if float(value).is_integer() else f"{value:.1f}"


def nice_top(largest: float, ticks: int = 4) -> float:
    """The smallest round scale top (1, 2, 2.5 or 5 × 10^k per tick) that holds `largest`."""
    if largest <= 0:
        return 1.0
    raw = largest / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return step * ticks


def blank(title: str, width: int, height: int, text: str = NO_DATA) -> Chart:
    """A framed box saying there is nothing to draw."""
    return {"kind": "empty", "title": title, "width": width, "height": height, "text": text}


def bar_chart(
    bars: Sequence[tuple[str, float]],
    title: str,
    *,
    colors: Sequence[str] | None = None,
    max_value: float | None = None,
    suffix: str = "",
    width: int = 520,
    height: int = 260,
    empty: str = NO_DATA,
) -> Chart:
    """Vertical bars with their value on top and their label below."""
    if not bars or not any(v for _, v in bars):
        return blank(title, width, height, empty)
    top = max_value or nice_top(max(v for _, v in bars))
    left, bottom, head = 40, 40, 20
    plot_w, plot_h = width - left - 10, height - bottom - head
    slot = plot_w / len(bars)
    bar_w = slot * 0.6
    shapes = []
    for i, (label, value) in enumerate(bars):
        h = plot_h * (value / top) if top else 0
        x = left + slot * i + (slot - bar_w) / 2
        shapes.append(
            {
                "label": label,
                "value": value,
                "x": x,
                "y": head + plot_h - h,
                "width": bar_w,
                "height": h,
                "middle": x + bar_w / 2,
                "color": colors[i % len(colors)] if colors else BLUE,
            }
        )
    return {
        "kind": "bar",
        "title": title,
        "width": width,
        "height": height,
        "left": left,
        "right": width - 10,
        "base": head + plot_h,
        "label_y": head + plot_h + 16,
        "suffix": suffix,
        "grid": [{"y": head + plot_h - plot_h * i / 4, "value": top * i / 4} for i in range(5)],
        "bars": shapes,
    }


def hbar_chart(
    bars: Sequence[tuple[str, float | None]],
    title: str,
    *,
    max_value: float,
    suffix: str = "",
    color: str = BLUE,
    width: int = 520,
    row: int = 26,
) -> Chart:
    """Horizontal bars against a fixed scale (0–5 for a mean score, 0–100 for a share)."""
    shown = [(label, v) for label, v in bars if v is not None]
    if not shown:
        return blank(title, width, 80)
    label_w, head = 150, 10
    plot_w = width - label_w - 60
    shapes = []
    for i, (label, value) in enumerate(shown):
        w = plot_w * min(max(value / max_value, 0), 1)
        shapes.append(
            {
                "label": label,
                "value": value,
                "y": head + row * i + 4,
                "width": w,
                "end": label_w + w,
            }
        )
    return {
        "kind": "hbar",
        "title": title,
        "width": width,
        "height": head + row * len(shown) + 10,
        "label_x": label_w,
        "head": head,
        "plot_width": plot_w,
        "plot_height": row * len(shown),
        "bar_height": row - 8,
        "color": color,
        "suffix": suffix,
        "bars": shapes,
    }


def stacked_hbar_chart(
    bars: Sequence[tuple[str, Sequence[float]]],
    series: Sequence[str],
    colors: Sequence[str],
    title: str,
    *,
    width: int = 520,
    row: int = 26,
    empty: str = NO_DATA,
) -> Chart:
    """Horizontal bars split into segments, one per series (colour), with a legend above and
    each bar's total at its end; the longest bar fills the plot."""
    totals = [sum(values) for _, values in bars]
    if not bars or not any(totals):
        return blank(title, width, 80, empty)
    label_w, legend_h = 150, 26
    plot_w = width - label_w - 50
    head = legend_h + 6
    top = max(totals)
    legend, x = [], float(label_w)
    for name, color in zip(series, colors, strict=True):
        legend.append({"name": name, "color": color, "x": x})
        x += 28 + 7 * len(name)
    shapes = []
    for i, ((label, values), total) in enumerate(zip(bars, totals, strict=True)):
        segments, x = [], float(label_w)
        for name, color, value in zip(series, colors, values, strict=True):
            if not value:
                continue
            w = plot_w * value / top
            segments.append({"name": name, "color": color, "value": value, "x": x, "width": w})
            x += w
        shapes.append(
            {
                "label": label,
                "y": head + row * i + 4,
                "total": total,
                "end": x,
                "segments": segments,
            }
        )
    return {
        "kind": "stacked",
        "title": title,
        "width": width,
        "height": head + row * len(bars) + 10,
        "label_x": label_w,
        "head": head,
        "plot_width": plot_w,
        "plot_height": row * len(bars),
        "bar_height": row - 8,
        "legend": legend,
        "bars": shapes,
    }


def line_chart(
    points: Sequence[tuple[str, float | None]],
    title: str,
    *,
    width: int = 520,
    height: int = 240,
    color: str = RED,
    max_value: float | None = None,
    ticks: int = 4,
    suffix: str = "",
    empty: str = NO_DATA,
) -> Chart:
    """A line through the points, each marked and labelled with its value; a point without a
    value (None) leaves a gap marked "no data" (never drawn as 0). The scale runs to
    `max_value` (then with `ticks` grid lines), else to the largest value."""
    values = [v for _, v in points if v is not None]
    if not values or (max_value is None and not any(values)):  # 0 on a fixed scale is data
        return blank(title, width, height, empty)
    top = max_value or max(values) or 1
    left, right, bottom, head = 40, 40, 40, 24
    plot_w, plot_h = width - left - right, height - bottom - head
    step = plot_w / max(len(points) - 1, 1)
    marks = [
        {
            "label": label,
            "value": v,
            "x": left + step * i,
            "y": None if v is None else head + plot_h - plot_h * (v / top),
        }
        for i, (label, v) in enumerate(points)
    ]
    runs: list[list[tuple[float, float]]] = []
    run: list[tuple[float, float]] = []
    for mark in [*marks, {"x": 0.0, "y": None}]:  # one polyline per run of points with values
        if mark["y"] is not None:
            run.append((mark["x"], mark["y"]))
            continue
        if len(run) > 1:
            runs.append(run)
        run = []
    grid = (
        [
            {"y": head + plot_h - plot_h * i / ticks, "value": top * i / ticks}
            for i in range(1, ticks + 1)
        ]
        if max_value
        else []
    )
    return {
        "kind": "line",
        "title": title,
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "base": head + plot_h,
        "middle": head + plot_h / 2,
        "label_y": head + plot_h + 16,
        "color": color,
        "suffix": suffix,
        "no_value": NO_VALUE,
        "grid": grid,
        "runs": runs,
        "points": marks,
    }
