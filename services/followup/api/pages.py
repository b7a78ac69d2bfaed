"""Followup's HTML pages, the quarterly report and the dashboard: Jinja templates from
services/followup/templates/ over what `domain/render.py` says each page shows (charts drawn
from the geometry in `domain/charts.py`). Escaped throughout (autoescape)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from services.followup.domain import charts, render

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=StrictUndefined,
)
_env.filters.update(num=charts.num, fmt=render.fmt, f1=lambda value: f"{value:.1f}")
_env.globals.update(
    FONT=Markup('font-family="sans-serif" font-size="12"'),
    INK=charts.INK,
    GREY=charts.GREY,
    FAINT=charts.FAINT,
)


def report_html(report: dict[str, Any]) -> str:
    """The quarterly evaluation as a self-contained page."""
    return _env.get_template("report.html").render(page=render.report_page(report))


def dashboard_html(figures: dict[str, Any]) -> str:
    """The dashboard page."""
    return _env.get_template("dashboard.html").render(page=render.dashboard_page(figures))


def chart_svg(chart: charts.Chart) -> str:
    """One chart as inline SVG."""
    return str(_env.get_template("charts.html").module.chart(chart))  # type: ignore[attr-defined]
