"""Followup: the call after a resolution (回访), campaigns, quality inspections, the quarterly
evaluation and improvement measures."""

from __future__ import annotations

from flask import Flask

from services.followup.api import (
    campaigns,
    dashboard,
    followups,
    improvements,
    inspections,
    reports,
)
from shared.config import Settings, process_settings
from shared.db import Database
from shared.web import create_api


def create_app(settings: Settings | None = None, db: Database | None = None) -> Flask:
    settings = settings or process_settings("followup")
    db = db or Database(settings, "followup")
    app, api = create_api("followup", settings, db)
    api.register_blueprint(followups.blp)
    api.register_blueprint(followups.dnc)
    api.register_blueprint(campaigns.blp)
    api.register_blueprint(inspections.blp)
    api.register_blueprint(reports.blp)
    api.register_blueprint(improvements.blp)
    api.register_blueprint(dashboard.blp)
    # a browser opening /dashboard cannot send a bearer header (see dashboard.BrowserToken)
    app.wsgi_app = dashboard.BrowserToken(app.wsgi_app)  # type: ignore[method-assign]
    return app
