"""Bounded input on a real `cs serve intake` (gunicorn), over real sockets (issue 15): a huge
body is answered 413 (and the client, still sending, gets the answer rather than a reset); a
body that never arrives, or arrives a byte at a time, holds a worker thread only until the body
deadline (408) and the service keeps answering; deep JSON is 400; a NUL in an e-mail is a 4xx;
slow headers are bounded the same way; the pages and the API send their security headers."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from shared.config import Settings
from shared.testing.served import served

READ_TIMEOUT_S = 2.0


@pytest.fixture(scope="module")
def intake(cs_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("limits")
    # two threads: two stalled clients would hold every thread of the one worker
    with served(
        "intake",
        cs_settings,
        workdir,
        CS_READ_TIMEOUT_S=str(READ_TIMEOUT_S),
        CS_WEB_THREADS="2",
    ) as (base, _log):
        yield base


def _call(
    base: str, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> tuple[int, dict[str, str], Any]:
    """urllib, as another system would call: Connection: close, the whole body sent first."""
    req = urllib.request.Request(base + path, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            raw, status, got = r.read(), r.status, dict(r.headers)
    except urllib.error.HTTPError as e:
        raw, status, got = e.read(), e.code, dict(e.headers)
    return (
        status,
        got,
        json.loads(raw) if "json" in got.get("Content-Type", "") else raw,
    )


def _raw(base: str, head: bytes) -> socket.socket:
    parts = urlsplit(base)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    sock.sendall(head)
    return sock


def _answer(sock: socket.socket) -> tuple[int, dict[str, Any]]:
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        if b"Content-Length:" in head:
            length = int(head.split(b"Content-Length:")[1].split(b"\r\n")[0])
            if len(rest) >= length:
                break
    head, _, rest = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(rest)


def _head(token: str, length: int) -> bytes:
    return (
        f"POST /cases HTTP/1.1\r\nHost: intake\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def test_a_20_mb_body_is_answered_413_while_the_client_still_sends(
    intake: str, make_token: Any
) -> None:
    headers = {"Authorization": f"Bearer {make_token('agent')}", "Content-Type": "application/json"}
    big = b'{"kind": "complaint", "content": "' + b"x" * (20 * 1024 * 1024) + b'"}'
    for _ in range(3):  # every time: not a race the client sometimes wins
        status, got, body = _call(intake, "POST", "/cases", big, headers)
        assert status == 413 and "larger than" in body["detail"], body
        assert got["X-Content-Type-Options"] == "nosniff"


def test_a_body_that_never_arrives_is_408_at_the_deadline(intake: str, make_token: Any) -> None:
    sock = _raw(intake, _head(make_token("agent"), 1000) + b'{"kind":')
    started = time.monotonic()
    status, body = _answer(sock)
    took = time.monotonic() - started
    sock.close()
    assert status == 408 and "did not arrive in time" in body["detail"], body
    assert READ_TIMEOUT_S - 0.5 < took < READ_TIMEOUT_S + 3, took


def test_a_body_sent_a_byte_at_a_time_is_408_at_the_deadline_too(
    intake: str, make_token: Any
) -> None:
    payload = json.dumps({"kind": "complaint", "content": "x" * 200}).encode()
    sock = _raw(intake, _head(make_token("agent"), len(payload)))
    started = time.monotonic()
    stop = threading.Event()

    def trickle() -> None:
        for byte in payload:
            if stop.wait(0.2):
                return
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                return

    sender = threading.Thread(target=trickle, daemon=True)
    sender.start()
    status, body = _answer(sock)
    took = time.monotonic() - started
    stop.set()
    sock.close()
    # the whole body would take 200 × 0.2 s = 40 s; every byte came well within any per-read
    # timeout, yet the deadline holds for the body as a whole
    assert status == 408, body
    assert took < READ_TIMEOUT_S + 3, took


def test_stalled_clients_do_not_keep_the_service_from_answering(
    intake: str, make_token: Any
) -> None:
    token = make_token("agent")
    stalled = [_raw(intake, _head(token, 1000) + b"{") for _ in range(4)]
    started = time.monotonic()
    with urllib.request.urlopen(f"{intake}/healthz", timeout=30) as r:
        assert r.status == 200
    assert time.monotonic() - started < 2 * READ_TIMEOUT_S + 3
    for sock in stalled:
        sock.close()


def test_headers_sent_a_byte_at_a_time_hold_a_thread_only_until_the_deadline(
    intake: str,
) -> None:
    """gthread itself reads a begun request's headers for as long as the client takes."""
    stalled = [_raw(intake, b"GET /healthz HTTP/1.1\r\nHo") for _ in range(3)]
    started = time.monotonic()
    with urllib.request.urlopen(f"{intake}/healthz", timeout=30) as r:
        assert r.status == 200
    assert time.monotonic() - started < READ_TIMEOUT_S + 3
    for sock in stalled:
        sock.settimeout(READ_TIMEOUT_S + 3)
        assert sock.recv(1024) == b""  # closed by the server at the deadline
        sock.close()


def test_deep_json_is_400_and_a_nul_in_an_email_is_a_4xx(intake: str, make_token: Any) -> None:
    agent = {"Authorization": f"Bearer {make_token('agent')}", "Content-Type": "application/json"}
    status, _, body = _call(intake, "POST", "/cases", b"[" * 3000 + b"]" * 3000, agent)
    assert status == 400 and "deeper" in body["detail"]
    gateway = {
        "Authorization": f"Bearer {make_token('system', subject='gw')}",
        "Content-Type": "message/rfc822",
    }
    mail = (
        b"From: cust@example.com\r\nTo: service@example.com\r\nSubject: no signal\r\n"
        b"Message-ID: <nul-1@example.com>\r\n\r\nNo signal \x00 since Monday\r\n"
    )
    status, _, body = _call(intake, "POST", "/channels/email", mail, gateway)
    assert status == 400 and "NUL" in body["detail"]


@pytest.mark.parametrize("path", ["/docs", "/asyncapi.html", "/healthz"])
def test_pages_and_answers_send_security_headers(intake: str, path: str) -> None:
    status, got, _ = _call(intake, "GET", path, None, {})
    assert status == 200
    assert got["X-Content-Type-Options"] == "nosniff" and got["X-Frame-Options"] == "DENY"
    policy = got["Content-Security-Policy"]
    assert policy.startswith("default-src 'none';") and "frame-ancestors 'none'" in policy
