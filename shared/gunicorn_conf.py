"""gunicorn settings for every service's web process (`cs serve NAME` points gunicorn here)."""

import logging
import os
from datetime import timedelta

from gunicorn.glogging import Logger

from shared import clock, metrics
from shared.config import UnsafeSettings, process_settings
from shared.logs import configure_logging, json_handler

SERVICE = os.environ["CS_SERVICE"]
bind = f"{os.environ.get('CS_BIND_HOST', '127.0.0.1')}:{os.environ['CS_PORT']}"
workers = int(os.environ.get("CS_WEB_WORKERS", "2"))
# gthread, with a deadline for a request's headers (CS_READ_TIMEOUT_S, as for its body)
worker_class = "shared.gunicorn_worker.BoundedThreadWorker"
threads = int(os.environ.get("CS_WEB_THREADS", "4"))
# the pool opens lazily in each worker, after the fork
preload_app = False
# How long a client may hold a worker thread (docs/operations.md, "Request limits"):
# - a new connection's first byte: 5 s (gthread's own wait; then the poller keeps it), an idle
#   kept-alive connection `keepalive` seconds;
# - the headers, then the body: CS_READ_TIMEOUT_S each (shared/gunicorn_worker.py,
#   shared/request_limits.py), the body at most CS_MAX_BODY_BYTES (a view may allow more);
# - the request line and headers: gunicorn's limits below;
# - `timeout`: a worker whose main loop stops answering the arbiter this long is restarted.
timeout = 30
keepalive = 5
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
# four masters on one machine would fight over gunicorn's one default control socket
control_socket_disable = True
graceful_timeout = 10
errorlog = "-"
accesslog = "-"
loglevel = os.environ.get("CS_LOG_LEVEL", "info").lower()


class JsonLogger(Logger):
    """gunicorn's own lines (start, stop, workers, errors) and one access line per request, as
    JSON through shared/logs.py like every other line of ours: masked, with the correlation id.
    The access line has the method, the path without its query string (where search terms and
    tokens go), the status, the duration in ms and the request's correlation id."""

    def setup(self, cfg) -> None:  # type: ignore[no-untyped-def]
        super().setup(cfg)
        handler = json_handler(f"{SERVICE}-web")
        handler._gunicorn = True  # type: ignore[attr-defined]  # a reload replaces it
        for log in (self.error_log, self.access_log):
            log.handlers[:] = [handler]
        self._lines = handler

    def access(self, resp, req, environ, request_time: timedelta) -> None:  # type: ignore[no-untyped-def]
        if not self.access_log.isEnabledFor(logging.INFO):
            return
        status = getattr(resp, "status_code", None) or int(str(resp.status).split()[0])
        method, path = environ.get("REQUEST_METHOD", "-"), environ.get("PATH_INFO", "")
        cid = next(
            (v for k, v in resp.headers if k.lower() == "x-correlation-id"), None
        ) or environ.get("HTTP_X_CORRELATION_ID")
        fields = {
            "method": method,
            "path": path,
            "status": status,
            "ms": round(request_time.total_seconds() * 1000, 1),
        }
        # the line a record of the access log would make, without making the record
        lines = self._lines
        lines.write(
            lines.json.line(
                # the machine's time, as a log record's
                clock.system_now().timestamp(),
                "info",
                self.access_log.name,
                f"{method} {path} {status}",
                cid,
                fields,
            )
        )


logger_class = JsonLogger


def on_starting(_server) -> None:  # type: ignore[no-untyped-def]
    """The master refuses development secrets outside development before any worker starts
    (gunicorn prints a RuntimeError as one line and exits 1); `cs serve` has checked already,
    this covers gunicorn started by hand with this configuration."""
    try:
        process_settings(SERVICE)
    except UnsafeSettings as e:
        raise RuntimeError(str(e)) from None


def post_worker_init(_worker) -> None:  # type: ignore[no-untyped-def]
    """JSON logs, scrubbed of personal data, for what the application logs in every worker."""
    configure_logging(f"{SERVICE}-web", os.environ.get("CS_LOG_LEVEL", "INFO"))


def child_exit(_server, worker) -> None:  # type: ignore[no-untyped-def]
    metrics.process_exited(worker.pid)
