"""The one module-level app, for gunicorn."""

from services.intake.app import create_app

app = create_app()
