"""Suite-wide guards.

Confidentiality: nothing the suite makes the system produce — events in any outbox, log lines,
error bodies — may contain a customer's name, phone number, ID number or e-mail address that
the tests used. The customers are read back from intake and decrypted at the end of the
session, so no test has to register what it used.

HTTP conventions: every 201 any test receives names what it made in `Location`, a URL the same
service answers GET on; every error answer is an RFC 9457 problem (`application/problem+json`
with `type`, `title`, `status` and `detail`, the status the answer's own).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask, signals
from werkzeug.exceptions import HTTPException

from shared.config import SERVICES, Settings
from shared.db import Database
from shared.logs import JsonFormatter
from shared.testing.plugin import BEFORE_DROP, System


class _Capture(logging.Handler):
    """Every log record, formatted as production formats it."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(JsonFormatter("test"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):  # a record that cannot be formatted is no leak
            self.lines.append(self.format(record))


_captured = _Capture()
_error_bodies: list[str] = []
_unconventional: list[str] = []


def _record_error_body(_sender, response, **_extra) -> None:  # type: ignore[no-untyped-def]
    if response.status_code >= 400:
        _error_bodies.append(response.get_data(as_text=True))


def _check_conventions(sender: Flask, response, **_extra) -> None:  # type: ignore[no-untyped-def]
    from flask import request

    where = f"{sender.name} {request.method} {request.path} -> {response.status_code}"
    if response.status_code == 201:
        location = response.headers.get("Location")
        if not location:
            _unconventional.append(f"{where} without Location")
            return
        adapter = sender.url_map.bind("localhost")
        try:
            adapter.match(urlsplit(location).path, method="GET")
        except HTTPException:
            _unconventional.append(f"{where}: Location {location} is no GET of {sender.name}")
    elif response.status_code >= 400:
        problem = None
        with contextlib.suppress(ValueError):
            problem = json.loads(response.get_data(as_text=True) or "null")
        if (
            response.mimetype != "application/problem+json"
            or not isinstance(problem, dict)
            or problem.get("status") != response.status_code
            or not all(problem.get(k) for k in ("type", "title", "detail"))
        ):
            _unconventional.append(f"{where}: not a problem: {response.get_data()[:120]!r}")


@pytest.fixture(scope="session", autouse=True)
def _capture_logs_and_error_bodies() -> Iterator[None]:
    logging.getLogger().addHandler(_captured)
    signals.request_finished.connect(_record_error_body)
    signals.request_finished.connect(_check_conventions)
    yield
    signals.request_finished.disconnect(_check_conventions)
    signals.request_finished.disconnect(_record_error_body)
    logging.getLogger().removeHandler(_captured)
    assert not _unconventional, "answers off the HTTP conventions:\n" + "\n".join(
        sorted(set(_unconventional))[:40]
    )


def _scan_for_personal_data(system: System) -> None:
    """Before a test system's database goes: no customer's personal data left intake."""
    settings = system.settings
    databases = {s: Database(settings, s, max_size=1) for s in SERVICES}
    try:
        values = _customer_values(settings, databases["intake"])
        places: dict[str, list[str]] = {
            "log lines": _captured.lines,
            "error bodies": _error_bodies,
        }
        for service, db in databases.items():
            with db.transaction() as tx:
                places[f"{service} events"] = [r[0] for r in tx.execute("SELECT body FROM outbox")]
    finally:
        for db in databases.values():
            db.close()
    leaks = sorted(
        {
            f"{where}: a value of {len(v)} characters ({v[:2]}…)"
            for where, texts in places.items()
            for v in values
            if any(v in t for t in texts)
        }
    )
    assert not leaks, "personal data left intake: " + "; ".join(leaks)


BEFORE_DROP.append(_scan_for_personal_data)


def _customer_values(settings: Settings, db: Database) -> set[str]:
    """Every name, phone, ID number, e-mail and address of every customer the suite created."""
    from services.intake import queries
    from services.intake.domain.vault import Vault

    vault = Vault.from_settings(settings)
    with db.transaction() as tx:
        ids = [r[0] for r in tx.execute("SELECT id FROM customers").fetchall()]
        loaded = [queries.load_customer(tx, vault, i) for i in ids]
    values: set[str] = set()
    for c in filter(None, loaded):
        values.update(v for v in (c.name, c.id_number, c.email, *c.phones) if v and len(v) >= 2)
        if c.address_line and len(c.address_line) >= 6:
            values.add(c.address_line)
    return values
