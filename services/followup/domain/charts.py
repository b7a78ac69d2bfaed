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


def _empty(title: str, width: int, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}"'
        f' width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f"<title>{escape(title)}</title>"
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" fill="none"'
        f' stroke="{FAINT}"/>'
        f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" {FONT} fill="{GREY}">'
        f"no data for this quarter</text></svg>"
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
) -> str:
    """Vertical bars with their value on top and their label below."""
    if not bars or not any(v for _, v in bars):
        return _empty(title, width, height)
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


def line_chart(
    points: Sequence[tuple[str, float]],
    title: str,
    *,
    width: int = 520,
    height: int = 240,
    color: str = RED,
) -> str:
    """A line through the points, each marked and labelled with its value."""
    if not points or not any(v for _, v in points):
        return _empty(title, width, height)
    top = max(v for _, v in points) or 1
    left, right, bottom, head = 40, 40, 40, 24
    plot_w, plot_h = width - left - right, height - bottom - head
    step = plot_w / max(len(points) - 1, 1)
    xy = [(left + step * i, head + plot_h - plot_h * (v / top)) for i, (_, v) in enumerate(points)]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}"'
        f' width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{head + plot_h}" x2="{width - right}" y2="{head + plot_h}"'
        f' stroke="{INK}"/>',
        f'<polyline fill="none" stroke="{color}" stroke-width="2" points="'
        + " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        + '"/>',
    ]
    for (label, value), (x, y) in zip(points, xy, strict=True):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{color}">'
            f"<title>{escape(label)}: {_num(value)}</title></circle>"
            f'<text x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle" {FONT} fill="{INK}">'
            f"{_num(value)}</text>"
            f'<text x="{x:.1f}" y="{head + plot_h + 16}" text-anchor="middle" {FONT}'
            f' fill="{INK}">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
