"""Intake: where customers meet the operator (hotline, email, online)."""

from __future__ import annotations

from flask import Flask

from services.intake.api import BLUEPRINTS
from services.intake.domain.vault import Vault
from shared.config import Settings, process_settings
from shared.db import Database
from shared.web import create_api


def create_app(settings: Settings | None = None, db: Database | None = None) -> Flask:
    settings = settings or process_settings("intake")
    db = db or Database(settings, "intake")
    app, api = create_api("intake", settings, db)
    app.extensions["cs"]["vault"] = Vault.from_settings(settings)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    return app
