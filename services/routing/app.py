"""Routing: who works on a case, and the working-day clock that watches it."""

from __future__ import annotations

from flask import Flask

from services.routing.api import BLUEPRINTS
from shared.config import Settings, process_settings
from shared.db import Database
from shared.web import create_api


def create_app(settings: Settings | None = None, db: Database | None = None) -> Flask:
    settings = settings or process_settings("routing")
    db = db or Database(settings, "routing")
    app, api = create_api("routing", settings, db)
    for blp in BLUEPRINTS:
        api.register_blueprint(blp)
    return app
