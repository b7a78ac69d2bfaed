"""`Idempotency-Key` on the POSTs that make things: a retry answers what the first try did.

A client that may retry (a timeout, a dropped connection) sends a key of its own, unique per
request, e.g. a UUID. The first request with it runs as usual; the key, a fingerprint of the
request (method, path, body) and the answer (status, body, `Location`) are written in the same
transaction as what it made, so either both are there or neither. A repeat with the same key
and the same request changes nothing and gets the first answer again, marked
`Idempotent-Replayed: true`; the same key with another request is refused (422). Two identical
requests at once: the second waits on the first's uncommitted key row, then replays its answer
(or, if the first failed, runs itself). Keys are per caller (the token's subject) and kept
`CS_IDEMPOTENCY_KEEP_H` hours (24 at least); older ones are deleted a few at a time by later
keyed requests. Without the header nothing here reads or writes anything.

The table (`idempotency_keys`) is in every service's schema (shared/migrations). In a view
(under `@blp.response`, marked `@keyed` for the OpenAPI document):

    with db().transaction() as tx:
        if (earlier := idempotency.replay(tx)) is not None:
            return earlier
        case = commands.open_case(tx, ...)
        return idempotency.remember(tx, created(case, ...), CaseOut)
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable
from copy import deepcopy
from datetime import timedelta
from typing import Any, TypeVar

import orjson
from flask import Response, current_app, g, request
from flask_smorest import abort
from marshmallow import Schema

from shared.db import Transaction
from shared.errors import IDEMPOTENCY_KEY_REUSED

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
MAX_KEY = 255
_KEY = re.compile(rf"^[\x21-\x7e]{{1,{MAX_KEY}}}$")  # visible ASCII, no spaces
_PURGE_BATCH = 100

DOC_MARK = "x-cs-idempotent"  # set by @keyed, turned into the header's doc by shared.web
HEADER_DOC: dict[str, Any] = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": "your unique key for this request (e.g. a UUID), to retry it safely: the"
    " same key and body answer the first result and make nothing new; the same key with"
    " another body is 422. Kept at least 24 h. Visible ASCII, at most 255 characters.",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY},
}
REPLAYED_DOC: dict[str, Any] = {
    "description": "`true` when this is the stored answer to an earlier request with the key",
    "schema": {"type": "string", "enum": ["true"]},
}

V = TypeVar("V", bound=Callable[..., Any])
A = TypeVar("A")


def keyed(view: V) -> V:
    """Marks a view that takes `Idempotency-Key` (documented in OpenAPI), and makes sure it
    handled a key that came: a view that ignored one would make a duplicate silently."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        answer = view(*args, **kwargs)
        if HEADER in request.headers and _status(answer) < 400:
            if not g.get("cs_idempotency_seen"):
                raise RuntimeError(f"{request.endpoint} took no notice of {HEADER}")
            if g.get("cs_idempotency") is not None:
                raise RuntimeError(f"{request.endpoint} claimed {HEADER} but stored no answer")
        return answer

    apidoc = deepcopy(getattr(view, "_apidoc", {}))
    apidoc.setdefault("manual_doc", {})[DOC_MARK] = True
    wrapper._apidoc = apidoc  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def replay(tx: Transaction, body: bytes | None = None) -> Response | None:
    """With no `Idempotency-Key`: None, at no cost. With one: claims it in `tx` (None: go on
    and `remember` the answer), or returns the answer stored for it; 422 when the key was used
    for another request. `body` is the request's body when the view read it itself (raw
    bytes); by default the JSON body, compared as JSON (key order and spacing do not count)."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    g.cs_idempotency_seen = True
    if not _KEY.match(key):
        abort(
            400,
            message=f"{HEADER} must be 1-{MAX_KEY} visible ASCII characters",
            errors={"headers": {HEADER: ["1-255 visible ASCII characters, e.g. a UUID"]}},
        )
    caller = g.caller.subject
    fingerprint = _fingerprint(body)
    keep = timedelta(hours=current_app.extensions["cs"]["settings"].idempotency_keep_h)
    for _ in range(3):  # a key that expired, or was purged, between the statements: again
        claimed = tx.one(
            "INSERT INTO idempotency_keys (caller, key, fingerprint, created_at)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (caller, key) DO NOTHING RETURNING key",
            (caller, key, fingerprint, tx.now),
        )
        if claimed is not None:
            g.cs_idempotency = (caller, key)
            _purge(tx, tx.now - keep)
            return None
        earlier = tx.one(
            "SELECT fingerprint, status, body, location, created_at FROM idempotency_keys"
            " WHERE caller = %s AND key = %s",
            (caller, key),
        )
        if earlier is None:
            continue
        if earlier["status"] is None or earlier["created_at"] < tx.now - keep:
            # expired, or (never by our views) claimed by a request that stored no answer
            tx.execute("DELETE FROM idempotency_keys WHERE caller = %s AND key = %s", (caller, key))
            continue
        if bytes(earlier["fingerprint"]) != fingerprint:
            abort(
                422,
                message=f"this {HEADER} was used for another request: use a new key for a new"
                " request, and the same body to retry one",
                type=IDEMPOTENCY_KEY_REUSED,
            )
        return _answer(earlier)
    raise RuntimeError(f"{HEADER} {key!r} could be neither claimed nor read")


def remember(tx: Transaction, answer: A, schema: type[Schema] | Schema) -> A:
    """Stores `answer` (a result, or `(result, status, headers)`) under the key `replay`
    claimed, dumped by the response schema as the client gets it; returns it unchanged."""
    claimed = g.pop("cs_idempotency", None)
    if claimed is None:
        return answer
    result, status, headers = _unpack(answer)
    dumper = schema() if isinstance(schema, type) else schema
    tx.execute(
        "UPDATE idempotency_keys SET status = %s, body = %s, location = %s"
        " WHERE caller = %s AND key = %s",
        (
            status,
            current_app.json.dumps(dumper.dump(result)),
            headers.get("Location"),
            *claimed,
        ),
    )
    return answer


def _status(answer: Any) -> int:
    if isinstance(answer, Response):
        return answer.status_code
    return _unpack(answer)[1]


def _unpack(answer: Any) -> tuple[Any, int, dict[str, str]]:
    if isinstance(answer, tuple):
        result, status, *rest = answer
        return result, status, dict(rest[0]) if rest else {}
    return answer, 200, {}


def _answer(stored: dict[str, Any]) -> Response:
    headers = {REPLAYED: "true"}
    if stored["location"]:
        headers["Location"] = stored["location"]
    return current_app.response_class(
        stored["body"], status=stored["status"], mimetype="application/json", headers=headers
    )


def _fingerprint(body: bytes | None) -> bytes:
    if body is None:
        raw = request.get_data(cache=True)
        try:
            body = orjson.dumps(orjson.loads(raw), option=orjson.OPT_SORT_KEYS) if raw else b""
        except orjson.JSONDecodeError:
            body = raw
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.digest()


def _purge(tx: Transaction, before: Any) -> None:
    """A few expired keys at a time (an index range scan: nothing to do costs one probe)."""
    tx.execute(
        "DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(SELECT ctid FROM idempotency_keys"
        " WHERE created_at < %s ORDER BY created_at LIMIT %s FOR UPDATE SKIP LOCKED))",
        (before, _PURGE_BATCH),
    )
