"""Training: courses, certificates and compliance; scorecards from events; incentives."""

from __future__ import annotations

from flask import Flask

from services.training.api import BLUEPRINTS
from shared.config import Settings, process_settings
from shared.db import Database
from shared.web import create_api


def create_app(settings: Settings | None = None, db: Database | None = None) -> Flask:
    settings = settings or process_settings("training")
    db = db or Database(settings, "training")
    app, api = create_api("training", settings, db)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    return app
