"""The one module-level app, for gunicorn."""

from services.routing.app import create_app

app = create_app()
