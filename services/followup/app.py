"""Followup: a running skeleton (health, metrics, OpenAPI); resources come with its issue."""

from __future__ import annotations

from flask import Flask

from shared.config import Settings
from shared.db import Database
from shared.web import create_api


def create_app(settings: Settings | None = None, db: Database | None = None) -> Flask:
    settings = settings or Settings.from_env()
    db = db or Database(settings, "followup")
    app, _api = create_api("followup", settings, db)
    return app
