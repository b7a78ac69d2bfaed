"""The demo's ways in, the ones other systems use: HTTP to the four services (keep-alive, one
connection per thread and service, bearer tokens minted per caller) and the online portal's
`case.requested` on the inbound exchange."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from shared.auth import mint_token
from shared.config import Settings

Who = tuple[str, str]  # (subject, role): the caller a token names
RETRY_STATUSES = (502, 503, 504)  # a busy pool or a restarting worker: try again
_NETWORK = (http.client.HTTPException, OSError)


class ApiError(Exception):
    def __init__(self, status: int, method: str, url: str, body: Any) -> None:
        text = body.get("detail", body) if isinstance(body, dict) else body
        super().__init__(f"{method} {url} -> {status or 'no answer'}: {str(text)[:300]}")
        self.status = status
        self.body = body


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any


class Api:
    """JSON over HTTP to the services named in `urls` (service -> base URL)."""

    def __init__(self, urls: Mapping[str, str], secret: str, timeout: float = 60.0) -> None:
        self.urls = dict(urls)
        self._secret = secret
        self._timeout = timeout
        self._tokens: dict[Who, str] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self.requests = 0

    def token(self, who: Who) -> str:
        with self._lock:
            if who not in self._tokens:
                self._tokens[who] = mint_token(self._secret, who[0], [who[1]])
            return self._tokens[who]

    def _connection(self, service: str) -> http.client.HTTPConnection:
        conns: dict[str, http.client.HTTPConnection] = self._local.__dict__.setdefault("c", {})
        if service not in conns:
            parts = urlsplit(self.urls[service])
            conns[service] = http.client.HTTPConnection(
                parts.hostname or "127.0.0.1", parts.port or 80, timeout=self._timeout
            )
        return conns[service]

    def _drop(self, service: str) -> None:
        conn = self._local.__dict__.setdefault("c", {}).pop(service, None)
        if conn is not None:
            conn.close()

    def call(
        self,
        method: str,
        service: str,
        path: str,
        who: Who | None,
        body: Any = None,
        *,
        query: Mapping[str, Any] | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
        ok: tuple[int, ...] = (200, 201, 204),
    ) -> Reply:
        """One request; ApiError when the answer is not in `ok` (after retrying 5xx once in a
        while and dropped keep-alive connections)."""
        prefix = urlsplit(self.urls[service]).path.rstrip("/")
        target = prefix + path + (f"?{urlencode(query)}" if query else "")
        payload = raw if raw is not None else None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = content_type
        if who is not None:
            headers["Authorization"] = f"Bearer {self.token(who)}"
        url = f"{self.urls[service].rstrip('/')}{path}"
        for attempt in range(6):
            conn = self._connection(service)
            try:
                conn.request(method, target, payload, headers)
                response = conn.getresponse()
                data = response.read()
            except _NETWORK as e:
                self._drop(service)
                if attempt >= 2:
                    raise ApiError(0, method, url, f"{type(e).__name__}: {e}") from None
                time.sleep(0.2 * (attempt + 1))
                continue
            with self._lock:
                self.requests += 1
            if response.status in RETRY_STATUSES and attempt < 5:
                time.sleep(0.2 * 2**attempt)
                continue
            answer: Any = data.decode("utf-8", "replace")
            if "json" in (response.getheader("Content-Type") or "") and data:
                answer = json.loads(data)
            if response.status not in ok:
                raise ApiError(response.status, method, url, answer)
            return Reply(response.status, answer)
        raise ApiError(0, method, url, "gave up after retries")  # not reached

    def get(self, service: str, path: str, who: Who | None, **query: Any) -> Any:
        return self.call("GET", service, path, who, query=query or None).body

    def post(self, service: str, path: str, who: Who, body: Any = None, **kw: Any) -> Any:
        return self.call("POST", service, path, who, body, **kw).body

    def problem(self, service: str) -> str | None:
        """Why the service cannot be used, or None when its /healthz answers."""
        try:
            self.call("GET", service, "/healthz", None)
        except ApiError as e:
            return str(e)
        return None


class Portal:
    """The online portal: publishes what customers submit as `case.requested` (cs.inbound)."""

    def __init__(self, settings: Settings, source: str) -> None:
        from shared.broker import connect

        self._settings = settings
        self._source = source
        self._conn = connect(settings, name="cs-demo-portal", user="portal")
        self._channel = self._conn.channel()
        self._channel.confirm_delivery()

    def request_case(self, external_ref: str, data: dict[str, Any], at: datetime) -> str:
        """Publishes one request the portal recorded at `at` (the envelope's time: intake
        records the case then)."""
        from shared.broker import exchange_for, publish_properties
        from shared.events import new_event

        event = new_event(
            "case.requested",
            external_ref,
            dict(data, external_ref=external_ref),
            source=self._source,
        )
        event = replace(event, time=at)
        self._channel.basic_publish(
            exchange_for(self._settings, event.type),
            event.type,
            event.to_json(),
            publish_properties(event.id, event.type, event.subject, "portal"),
        )
        return event.id

    def close(self) -> None:
        if self._conn.is_open:
            self._conn.close()
