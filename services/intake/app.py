"""Intake: where customers meet the operator (hotline, email, online)."""

from __future__ import annotations

from flask import Flask

from services.intake.api import cases
from shared.config import Settings
from shared.db import Database
from shared.web import create_api


def create_app(settings: Settings | None = None, db: Database | None = None) -> Flask:
    settings = settings or Settings.from_env()
    db = db or Database(settings, "intake")
    app, api = create_api("intake", settings, db)
    api.register_blueprint(cases.blp)
    return app
