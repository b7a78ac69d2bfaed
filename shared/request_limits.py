"""Bounded requests: how long a body may take to arrive, how much of it is read, how deep its
JSON may nest, and the headers that keep a browser from misusing our answers.

`BoundedBody` wraps each service's WSGI app (shared/web.py installs it):

- a request body must have arrived `timeout_s` after the request began: a `LateReads` thread
  (one per process) shuts the read side of a connection whose body is still coming then, so a
  client that sends slowly, or never, holds a worker thread for at most that long; the read
  that was waiting ends and the request is answered 408 (`RequestTimeout`). The headers have
  the same bound, kept by gunicorn's worker (`shared.gunicorn_worker`), which has none of its
  own once a request's first byte has come;
- what the application did not read (a body refused with 413, or one sent to a request
  refused before its body mattered) is read and dropped afterwards, up to `DRAIN_LIMIT` bytes
  and within the same deadline, so a client still sending gets the answer rather than a
  connection reset. The size limit itself is Flask's `MAX_CONTENT_LENGTH` (413 before a byte
  is read when Content-Length says more), or a view's own (`shared.web.takes_body_up_to`).

`json_problem` checks a JSON body once, before any schema reads it: valid UTF-8 JSON (orjson,
which also refuses lone surrogates and NaN) nested at most `MAX_JSON_DEPTH` deep.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import orjson
from werkzeug.exceptions import RequestTimeout

from shared.limits import MAX_JSON_DEPTH, json_depth

# read and dropped after the answer at most; beyond it the connection is closed
DRAIN_LIMIT = 64 * 1024 * 1024
_STEP = 64 * 1024

# every answer: no content sniffing, never inside a frame, nothing loaded or run by default
NOSNIFF = ("X-Content-Type-Options", "nosniff")
FRAME_OPTIONS = ("X-Frame-Options", "DENY")
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# pages drawn on the server (the report, the dashboard, the event catalogue): inline styles and
# SVG, no script, nothing from the network
PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none';"
    " base-uri 'none'; form-action 'none'"
)
# Swagger UI: its scripts and styles from this service only; it fetches /openapi.json and
# sends "try it out" requests to this service
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none';"
    " base-uri 'none'; form-action 'none'"
)


def json_problem(body: bytes) -> str | None:
    """Why `body` is not JSON we read, or None. Cheap for ordinary bodies: the depth is only
    walked when there are more brackets than the depth allowed."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        if "depth" in str(e).lower() or "recursion" in str(e).lower():
            return f"the JSON nests deeper than {MAX_JSON_DEPTH} levels"
        return f"the body is not valid JSON: {e.msg}"
    if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and json_depth(value) > (
        MAX_JSON_DEPTH
    ):
        return f"the JSON nests deeper than {MAX_JSON_DEPTH} levels"
    return None


class _Watch:
    __slots__ = ("deadline", "sock", "active", "expired")

    def __init__(self, deadline: float, sock: socket.socket) -> None:
        self.deadline = deadline
        self.sock: socket.socket | None = sock
        self.active = True
        self.expired = False


class LateReads:
    """Shuts the read side of connections whose request (headers or body) is late: one thread
    per process, started on first use, so after gunicorn forks its workers."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, _Watch]] = []  # a heap, by deadline
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._seq = itertools.count()

    def watch(self, sock: socket.socket, deadline: float) -> _Watch:
        entry = _Watch(deadline, sock)
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="late-reads", daemon=True)
                self._thread.start()
            heapq.heappush(self._due, (deadline, next(self._seq), entry))
            if self._due[0][2] is entry:
                self._cond.notify()
        return entry

    def forget(self, entry: _Watch) -> None:
        with self._cond:
            entry.active = False
            entry.sock = None  # the heap keeps the entry until its turn, not the socket

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._due and not self._due[0][2].active:
                    heapq.heappop(self._due)
                if not self._due:
                    self._cond.wait()
                    continue
                deadline, _, first = self._due[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._due)
                first.active, first.expired = False, True
                # OSError: already closed by the client or the server
                with contextlib.suppress(OSError, AttributeError):
                    first.sock.shutdown(socket.SHUT_RD)  # type: ignore[union-attr]


LATE = LateReads()


class _DeadlineInput:
    """`wsgi.input` that answers 408 when its connection's read side was shut for lateness."""

    def __init__(self, inner: Any, watch: _Watch | None) -> None:
        self._inner = inner
        self._watch = watch

    def _late(self) -> bool:
        return self._watch is not None and self._watch.expired

    def _guarded(self, read: Callable[..., Any], *args: Any) -> Any:
        if self._late():
            raise RequestTimeout("the request body did not arrive in time")
        try:
            data = read(*args)
        except Exception:
            if self._late():
                raise RequestTimeout("the request body did not arrive in time") from None
            raise
        if self._late():
            raise RequestTimeout("the request body did not arrive in time")
        return data

    def read(self, size: int | None = -1) -> bytes:
        return self._guarded(self._inner.read, size if size is not None else -1)

    def readline(self, size: int | None = -1) -> bytes:
        return self._guarded(self._inner.readline, size if size is not None else -1)

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        return self._guarded(self._inner.readlines, hint if hint is not None else -1)

    def __iter__(self) -> Iterator[bytes]:
        while True:
            line = self.readline()
            if not line:
                return
            yield line

    def drain(self, limit: int) -> None:
        """Reads and drops what is left of the body, at most `limit` bytes; never raises."""
        left = limit
        try:
            while left > 0 and not self._late():
                chunk = self._inner.read(min(_STEP, left))
                if not chunk:
                    return
                left -= len(chunk)
        except Exception:  # the client went away or was too slow: gunicorn closes
            return


def _has_body(environ: dict[str, Any]) -> bool:
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return True
    try:
        return int(environ.get("CONTENT_LENGTH") or 0) > 0
    except ValueError:
        return False


class BoundedBody:
    """WSGI middleware: a body arrives within `timeout_s`, and what the app leaves unread is
    drained (see the module's docstring)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not _has_body(environ):
            return self.app(environ, start_response)
        sock = environ.get("gunicorn.socket")
        watch = None
        if isinstance(sock, socket.socket):
            watch = LATE.watch(sock, time.monotonic() + self.timeout_s)
        body = _DeadlineInput(environ["wsgi.input"], watch)
        environ["wsgi.input"] = body
        try:
            result = self.app(environ, start_response)
            body.drain(DRAIN_LIMIT)
            return result
        finally:
            if watch is not None:
                LATE.forget(watch)
