"""The one module-level app, for gunicorn."""

from services.followup.app import create_app

app = create_app()
