"""gunicorn settings for every service's web process (`cs serve NAME` points gunicorn here)."""

import os

from shared import metrics

bind = f"{os.environ.get('CS_BIND_HOST', '127.0.0.1')}:{os.environ['CS_PORT']}"
workers = int(os.environ.get("CS_WEB_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("CS_WEB_THREADS", "4"))
# the pool opens lazily in each worker, after the fork
preload_app = False
timeout = 30
# four masters on one machine would fight over gunicorn's one default control socket
control_socket_disable = True
graceful_timeout = 10
accesslog = None
errorlog = "-"
loglevel = os.environ.get("CS_LOG_LEVEL", "info").lower()


def post_worker_init(_worker) -> None:  # type: ignore[no-untyped-def]
    """JSON logs, scrubbed of personal data, in every worker (gunicorn replaces the CLI's)."""
    from shared.logs import configure_logging

    configure_logging(f"{os.environ['CS_SERVICE']}-web", os.environ.get("CS_LOG_LEVEL", "INFO"))


def child_exit(_server, worker) -> None:  # type: ignore[no-untyped-def]
    metrics.process_exited(worker.pid)
