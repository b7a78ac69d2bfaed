"""training's manifest: what the shared machinery runs for it (see shared/service.py)."""

from pathlib import Path

from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="training",
    port=8084,
    migrations=Path(__file__).parent / "migrations",
    app="services.training.app:create_app",
    wsgi="services.training.wsgi:app",
    event_handlers="services.training.handlers:EVENT_HANDLERS",
    job="services.training.scheduler:tick",
)
