"""gunicorn's threaded worker, with a deadline for a request's headers.

gthread waits at most a few seconds for a new connection's first byte, but once a request has
begun it reads the headers for as long as the client takes: a client sending a byte now and then
holds one of the worker's threads, and a handful of them hold them all. This worker gives the
headers `CS_READ_TIMEOUT_S` (shared.config), kept like the body's deadline: the `LATE` thread
shuts the read side of a connection still sending headers then, the parser sees the end of the
stream, and gunicorn closes the connection. Once the headers are in, the body has a deadline of
its own (shared.request_limits.BoundedBody, which answers 408).
"""

from __future__ import annotations

import socket
import time
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

from shared.config import Settings
from shared.request_limits import LATE

READ_TIMEOUT_S = Settings.from_env().read_timeout_s


class BoundedThreadWorker(ThreadWorker):
    def handle(self, conn: Any) -> Any:
        sock = getattr(conn, "sock", None)
        if not isinstance(sock, socket.socket):
            return super().handle(conn)
        conn.cs_headers_watch = LATE.watch(sock, time.monotonic() + READ_TIMEOUT_S)
        try:
            return super().handle(conn)
        finally:
            LATE.forget(conn.cs_headers_watch)

    def handle_request(self, req: Any, conn: Any) -> Any:
        # the headers are in: from here the body's own deadline applies
        watch = getattr(conn, "cs_headers_watch", None)
        if watch is not None:
            LATE.forget(watch)
        return super().handle_request(req, conn)
