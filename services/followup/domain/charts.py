"""Charts as inline SVG, drawn here (no I/O, no JavaScript, nothing fetched): a browser without
internet access shows them as they are."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

BLUE = "#2b6cb0"
GREY = "#a0aec0"
GREEN = "#2f855a"
RED = "#c53030"
AMBER = "#d69e2e"
INK = "#1a202c"
FAINT = "#e2e8f0"
FONT = 'font-family="sans-serif" font-size="12"'


def _num(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() else f"{value:.1f}"


def nice_top(largest: float, ticks: int = 4) -> float:
    """The smallest round scale top (1, 2, 2.5 or 5 × 10^k per tick) that holds `largest`."""
    if largest <= 0:
        return 1.0
    raw = largest / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return step * ticks


NO_DATA = "no data for this quarter"
NO_VALUE = "no data"  # one point of a chart


def _empty(title: str, width: int, height: int, text: str = NO_DATA) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}"'
        f' width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f"<title>{escape(title)}</title>"
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" fill="none"'
        f' stroke="{FAINT}"/>'
        f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" {FONT} fill="{GREY}">'
        f"{escape(text)}</text></svg>"
    )


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
) -> str:
    """Vertical bars with their value on top and their label below."""
    if not bars or not any(v for _, v in bars):
        return _empty(title, width, height, empty)
    top = max_value or nice_top(max(v for _, v in bars))
    left, bottom, head = 40, 40, 20
    plot_w, plot_h = width - left - 10, height - bottom - head
    slot = plot_w / len(bars)
    bar_w = slot * 0.6
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}"'
        f' width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(5):  # grid lines and the scale
        value = top * i / 4
        y = head + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="{FAINT}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" {FONT} fill="{GREY}">'
            f"{_num(value)}</text>"
        )
    for i, (label, value) in enumerate(bars):
        h = plot_h * (value / top) if top else 0
        x = left + slot * i + (slot - bar_w) / 2
        y = head + plot_h - h
        color = colors[i % len(colors)] if colors else BLUE
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{color}">'
            f"<title>{escape(label)}: {_num(value)}{escape(suffix)}</title></rect>"
            f'<text x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" {FONT}'
            f' fill="{INK}">{_num(value)}{escape(suffix)}</text>'
            f'<text x="{x + bar_w / 2:.1f}" y="{head + plot_h + 16:.1f}" text-anchor="middle"'
            f' {FONT} fill="{INK}">{escape(label)}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{head + plot_h}" x2="{width - 10}" y2="{head + plot_h}"'
        f' stroke="{INK}"/></svg>'
    )
    return "".join(parts)


def hbar_chart(
    bars: Sequence[tuple[str, float | None]],
    title: str,
    *,
    max_value: float,
    suffix: str = "",
    color: str = BLUE,
    width: int = 520,
    row: int = 26,
) -> str:
    """Horizontal bars against a fixed scale (0–5 for a mean score, 0–100 for a share)."""
    shown = [(label, v) for label, v in bars if v is not None]
    if not shown:
        return _empty(title, width, 80)
    label_w, head = 150, 10
    plot_w = width - label_w - 60
    height = head + row * len(shown) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}"'
        f' width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{label_w}" y="{head}" width="{plot_w}" height="{row * len(shown)}"'
        f' fill="none" stroke="{FAINT}"/>',
    ]
    for i, (label, value) in enumerate(shown):
        y = head + row * i + 4
        w = plot_w * min(max(value / max_value, 0), 1)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end" {FONT} fill="{INK}">'
            f"{escape(label[:24])}</text>"
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{row - 8}" fill="{color}">'
            f"<title>{escape(label)}: {_num(value)}{escape(suffix)}</title></rect>"
            f'<text x="{label_w + w + 6:.1f}" y="{y + 13}" {FONT} fill="{INK}">'
            f"{_num(value)}{escape(suffix)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def stacked_hbar_chart(
    bars: Sequence[tuple[str, Sequence[float]]],
    series: Sequence[str],
    colors: Sequence[str],
    title: str,
    *,
    width: int = 520,
    row: int = 26,
    empty: str = NO_DATA,
) -> str:
    """Horizontal bars split into segments, one per series (colour), with a legend above and
    each bar's total at its end; the longest bar fills the plot."""
    totals = [sum(values) for _, values in bars]
    if not bars or not any(totals):
        return _empty(title, width, 80, empty)
    label_w, legend_h = 150, 26
    plot_w = width - label_w - 50
    head = legend_h + 6
    height = head + row * len(bars) + 10
    top = max(totals)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}"'
        f' width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
    ]
    x = float(label_w)
    for name, color in zip(series, colors, strict=True):  # the legend
        parts.append(
            f'<rect x="{x:.1f}" y="6" width="12" height="12" fill="{color}"/>'
            f'<text x="{x + 16:.1f}" y="16" {FONT} fill="{INK}">{escape(name)}</text>'
        )
        x += 28 + 7 * len(name)
    parts.append(
        f'<rect x="{label_w}" y="{head}" width="{plot_w}" height="{row * len(bars)}"'
        f' fill="none" stroke="{FAINT}"/>'
    )
    for i, ((label, values), total) in enumerate(zip(bars, totals, strict=True)):
        y = head + row * i + 4
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end" {FONT} fill="{INK}">'
            f"{escape(label[:24])}</text>"
        )
        x = float(label_w)
        for name, color, value in zip(series, colors, values, strict=True):
            if not value:
                continue
            w = plot_w * value / top
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 8}" fill="{color}">'
                f"<title>{escape(label)}, {escape(name)}: {_num(value)}</title></rect>"
            )
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 13}" {FONT} fill="{INK}">{_num(total)}</text>')
    parts.append("</svg>")
    return "".join(parts)


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
) -> str:
    """A line through the points, each marked and labelled with its value; a point without a
    value (None) leaves a gap marked "no data" (never drawn as 0). The scale runs to
    `max_value` (then with `ticks` grid lines), else to the largest value."""
    values = [v for _, v in points if v is not None]
    if not values or (max_value is None and not any(values)):  # 0 on a fixed scale is data
        return _empty(title, width, height, empty)
    top = max_value or max(values) or 1
    left, right, bottom, head = 40, 40, 40, 24
    plot_w, plot_h = width - left - right, height - bottom - head
    step = plot_w / max(len(points) - 1, 1)
    xy = [
        (left + step * i, None if v is None else head + plot_h - plot_h * (v / top))
        for i, (_, v) in enumerate(points)
    ]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}"'
        f' width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(1, ticks + 1) if max_value else ():  # a fixed scale gets its grid lines
        y = head + plot_h - plot_h * i / ticks
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{FAINT}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" {FONT} fill="{GREY}">'
            f"{_num(top * i / ticks)}</text>"
        )
    parts.append(
        f'<line x1="{left}" y1="{head + plot_h}" x2="{width - right}" y2="{head + plot_h}"'
        f' stroke="{INK}"/>'
    )
    run: list[tuple[float, float]] = []
    for x, y in [*xy, (0.0, None)]:  # one polyline per run of points with values
        if y is not None:
            run.append((x, y))
            continue
        if len(run) > 1:
            parts.append(
                f'<polyline fill="none" stroke="{color}" stroke-width="2" points="'
                + " ".join(f"{px:.1f},{py:.1f}" for px, py in run)
                + '"/>'
            )
        run = []
    for (label, value), (x, y) in zip(points, xy, strict=True):
        if value is not None and y is not None:
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{color}">'
                f"<title>{escape(label)}: {_num(value)}{escape(suffix)}</title></circle>"
                f'<text x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle" {FONT} fill="{INK}">'
                f"{_num(value)}{escape(suffix)}</text>"
            )
        else:
            middle = head + plot_h / 2
            parts.append(
                f'<text x="{x + 4:.1f}" y="{middle:.1f}" text-anchor="middle" {FONT}'
                f' fill="{GREY}" transform="rotate(-90 {x + 4:.1f} {middle:.1f})">'
                f"<title>{escape(label)}: {NO_VALUE}</title>{NO_VALUE}</text>"
            )
        parts.append(
            f'<text x="{x:.1f}" y="{head + plot_h + 16}" text-anchor="middle" {FONT}'
            f' fill="{INK}">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
