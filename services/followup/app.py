"""Followup: the call after a resolution (回访), campaigns, quality inspections, the quarterly
evaluation and improvement measures."""

from __future__ import annotations

from flask import Flask

from services.followup.api import BLUEPRINTS, dashboard
from shared.browser_pages import BrowserToken
from shared.config import Settings, process_settings
from shared.db import Database
from shared.web import create_api


def create_app(settings: Settings | None = None, db: Database | None = None) -> Flask:
    settings = settings or process_settings("followup")
    db = db or Database(settings, "followup")
    app, api = create_api("followup", settings, db)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    # a browser opening the dashboard or a report's page cannot send a bearer header
    app.wsgi_app = BrowserToken(app.wsgi_app, dashboard.BROWSER_PAGES)  # type: ignore[method-assign]
    return app
