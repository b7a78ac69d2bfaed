"""Conditional requests on editable records: an ETag on every read, If-Match on every write.

Two supervisors editing one record must not overwrite each other silently. The GET of an
editable record answers an `ETag` (a hash of the record as that GET returns it); a PUT, PATCH
or DELETE that sends it back as `If-Match` goes through only while the record still is what
the client saw, else 412. A write without `If-Match` goes through, unless
`CS_REQUIRE_IF_MATCH=true`, which makes it 428. `If-None-Match` on a GET answers 304.

In a view (under `@blp.response`):

    @etag
    def get_department(code): ...          # the ETag of what it returns

    @etag
    def update_department(body, code):
        with db().transaction() as tx:
            check_if_match(lambda: directory.lock_department(tx, code))
            return directory.update_department(tx, code, body)

`check_if_match` reads the record only when an `If-Match` came, in the write's transaction and
locked (the loader's job), so two writers holding the same ETag cannot both pass. A write view
whose answer is not the record as its GET shows it names that record with `tag(...)`.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from copy import deepcopy
from typing import Any, TypeVar

import orjson
from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import PreconditionFailed, PreconditionRequired

WRITES = frozenset({"PUT", "PATCH", "DELETE"})
_TAGGED = frozenset({"GET", "HEAD", "PUT", "PATCH"})  # answers that carry the record

V = TypeVar("V", bound=Callable[..., Any])


def etag_of(state: Any) -> str:
    """A strong validator of `state` (the record as its GET returns it): a hash of its JSON
    with sorted keys, so equal records give equal tags in every process."""
    data = orjson.dumps(
        state, default=_plain, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
    )
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)  # Decimal and the like


def tag(state: Any) -> None:
    """This answer carries the ETag of `state` (for a write whose answer is not the record)."""
    g.cs_etag = etag_of(state)


def check_if_match(current: Callable[[], Any]) -> None:
    """Before a write: with an `If-Match`, 412 unless it names the ETag of `current()`, the
    record as it is now (read in the write's transaction, locked). Without one, nothing is read
    (the 428 of `CS_REQUIRE_IF_MATCH` came before the view ran)."""
    g.cs_if_match_checked = True
    if not request.if_match:
        return
    if not request.if_match.contains(etag_of(current())):
        raise PreconditionFailed(
            "the record changed since you read it (If-Match does not name its current ETag):"
            " GET it again, then repeat the change"
        )


def etag(view: V) -> V:
    """A view of an editable record: its GET answers an ETag (and 304 to `If-None-Match`); its
    PUT, PATCH and DELETE honour `If-Match` (through `check_if_match` in the view). Documented
    in OpenAPI as flask-smorest documents its own `etag` (If-Match optional here)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        write = request.method in WRITES
        if write and not request.if_match and _required():
            raise PreconditionRequired(
                "send If-Match with the ETag of the record you read (CS_REQUIRE_IF_MATCH is on)"
            )
        result = view(*args, **kwargs)
        refused = isinstance(result, Response) and result.status_code >= 400
        if write and request.if_match and not refused and not g.get("cs_if_match_checked"):
            # a write view that forgot check_if_match: never ignore a precondition silently
            raise RuntimeError(f"{request.endpoint} did not check If-Match")
        if request.method in _TAGGED and "cs_etag" not in g and _is_record(result):
            g.cs_etag = etag_of(result)
        return result

    apidoc = deepcopy(getattr(view, "_apidoc", {}))
    apidoc["etag"] = True  # flask-smorest documents ETag, If-Match, If-None-Match, 304/412/428
    wrapper._apidoc = apidoc  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def _required() -> bool:
    return bool(current_app.extensions["cs"]["settings"].require_if_match)


def _is_record(result: Any) -> bool:
    return result is not None and not isinstance(result, Response | tuple)


def install(app: Flask) -> None:
    """Sets the ETag a view left on its successful answer, and answers 304 to a GET whose
    `If-None-Match` names it."""

    @app.after_request
    def add_etag(response: Response) -> Response:
        tag_ = g.get("cs_etag")
        if tag_ is not None and 200 <= response.status_code < 300:
            response.set_etag(tag_)
            response.make_conditional(request)
        return response
