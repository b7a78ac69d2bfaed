"""intake's manifest: what the shared machinery runs for it (see shared/service.py)."""

from pathlib import Path

from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="intake",
    port=8081,
    migrations=Path(__file__).parent / "migrations",
    app="services.intake.app:create_app",
    wsgi="services.intake.wsgi:app",
    event_handlers="services.intake.handlers:EVENT_HANDLERS",
    commands="services.intake.cli:register",
)
