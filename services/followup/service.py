"""followup's manifest: what the shared machinery runs for it (see shared/service.py)."""

from pathlib import Path

from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="followup",
    port=8083,
    migrations=Path(__file__).parent / "migrations",
    app="services.followup.app:create_app",
    wsgi="services.followup.wsgi:app",
    event_handlers="services.followup.handlers:EVENT_HANDLERS",
)
