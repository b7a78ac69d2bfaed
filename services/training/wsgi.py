"""The one module-level app, for gunicorn."""

from services.training.app import create_app

app = create_app()
