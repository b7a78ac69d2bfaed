"""The HTTP side every service shares: the app factory, auth, errors, health and metrics.

`create_api` builds a Flask app with flask-smorest (marshmallow schemas declared on the views
give validation, 422 bodies naming the fields, and the OpenAPI document at /openapi.json).
Every endpoint but health, metrics and the API docs needs a bearer token; views narrow it to
roles with `@requires(...)`. What a request may send is bounded before any view runs (body size
and read deadline, JSON validity and depth, NUL, dates: shared/request_limits.py and
shared/limits.py), and every answer carries nosniff, frame options and a content security
policy.

The conventions integrators expect, the same in every service: every error is an RFC 9457
problem (`application/problem+json`, `error_body`); every 201 names what it made in `Location`
(`created`); editable records carry ETags and honour If-Match (`shared.etags`); POSTs that
make things take an `Idempotency-Key` (`shared.idempotency`). The OpenAPI document says so.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import re
import time
from collections.abc import Callable
from copy import deepcopy
from datetime import date
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import unquote_to_bytes

import orjson
import pika
import psycopg
from apispec import BasePlugin
from flask import Flask, Response, current_app, g, jsonify, request, url_for
from flask.json.provider import JSONProvider
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema
from psycopg_pool import PoolTimeout
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge

from shared import apidocs, clock, etags, idempotency, metrics
from shared.auth import AuthError, Caller, caller_from_header
from shared.broker import connect
from shared.config import Settings
from shared.db import Database
from shared.errors import PROBLEM_JSON, Conflict, Forbidden, Invalid, NotFound, problem, reason
from shared.fast_schemas import RequestSchema
from shared.limits import period_problem, storable_problem
from shared.logs import correlation_id, correlation_id_or_new
from shared.periods import KINDS, PeriodKind
from shared.personal_data import mask_text
from shared.request_limits import (
    API_POLICY,
    FRAME_OPTIONS,
    NOSNIFF,
    BoundedBody,
    json_problem,
)
from shared.steps import Step, step_of

log = logging.getLogger(__name__)
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json", *apidocs.DOC_PATHS})
PUBLIC_PREFIXES = ("/docs",)


def period_validator(kinds: tuple[PeriodKind, ...] = KINDS) -> Callable[[str], None]:
    """A month (2026-11) or quarter (2026-Q4), of `kinds`, of a year figures are kept for."""

    def validate_period(text: str) -> None:
        problem = period_problem(text, clock.now(), kinds)
        if problem:
            raise ValidationError(problem)

    return validate_period


class StrictSchema(RequestSchema):
    """Request bodies and queries: an unknown field is an error, not silently dropped, and every
    date and time lies between 2000 and 2100 (tighter bounds where a field means more: not in
    the future for what happened, shared.limits)."""

    class Meta:
        unknown = RAISE

    @validates_schema
    def _times_within_years(self, data: dict[str, Any], **_: Any) -> None:
        errors = {
            name: [problem]
            for name, value in data.items()
            if isinstance(value, date) and (problem := storable_problem(value))
        }
        if errors:
            raise ValidationError(errors)


class MaskedText(fields.Str):
    """Free text a service keeps only masked: phone and ID numbers and e-mail addresses in it
    are masked as it is read (shared.personal_data), so the service never holds them. Intake,
    which keeps customers' personal data, keeps text in clear and masks it when shown."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = dict(kwargs.pop("metadata", None) or {})
        note = "kept with phone and ID numbers and e-mail addresses masked"
        metadata["description"] = (
            f"{metadata['description']}; {note}" if metadata.get("description") else note
        )
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return mask_text(super()._deserialize(value, attr, data, **kwargs))


class ReportedStepSchema(StrictSchema):
    """A request that is a step of someone's work: a reporting system (role `system`) may say
    when it happened and who did it; people's own actions keep the server's time."""

    occurred_at = fields.AwareDateTime(
        load_default=None,
        metadata={
            "description": "role system only: when the step happened (not in the future, not"
            " before the step it follows); default now"
        },
    )
    actor_id = fields.Str(
        load_default=None,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "role system only: who did it (a staff id); default the caller"},
    )


def reported_step(body: dict[str, Any]) -> Step:
    """The step a `ReportedStepSchema` body describes, for the current caller (422 if not
    allowed or out of bounds)."""
    return step_of(caller(), clock.now(), body.pop("occurred_at", None), body.pop("actor_id", None))


class OrjsonProvider(JSONProvider):
    """Flask's JSON through orjson: several times faster than the standard library on every
    response body. Values a schema has not turned into JSON yet (dates, UUIDs) come out as
    ISO 8601 and strings; NaN and lone surrogates are refused as the RFC requires."""

    def dumps(self, obj: Any, **_kwargs: Any) -> str:
        try:
            return orjson.dumps(obj, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:  # an integer wider than 64 bits, echoed back in an error body
            return json.dumps(obj, default=str)

    def loads(self, s: str | bytes, **_kwargs: Any) -> Any:
        return orjson.loads(s)


def error_body(
    status: int,
    detail: str,
    errors: Any = None,
    *,
    type_: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """An error answer: an RFC 9457 problem (`application/problem+json`) with `type`, `title`,
    `status`, `detail` and, for invalid input, `errors` naming each field (see
    `shared.errors.problem`)."""
    return current_app.response_class(
        current_app.json.dumps(problem(status, detail, errors, type_=type_)),
        status=status,
        mimetype=PROBLEM_JSON,
        headers=headers,
    )


T = TypeVar("T")


def created(result: T, endpoint: str, **values: Any) -> tuple[T, int, dict[str, str]]:
    """A 201 answer that names the new resource in `Location` (the URL of its GET), e.g.
    `created(case, "cases.get_case", case_id=case["id"])`."""
    return result, 201, {"Location": url_for(endpoint, **values)}


def caller() -> Caller:
    return g.caller


def service_db() -> Database:
    """The current service's database (set by `create_api`)."""
    return current_app.extensions["cs"]["db"]


def request_body() -> bytes:
    """The request's body, read once: 413 naming the limit when it is larger, 408 when it does
    not arrive in time (shared.request_limits)."""
    try:
        return request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise RequestEntityTooLarge(
            f"the body is larger than {request.max_content_length} bytes"
        ) from None


def takes_body_up_to(max_bytes: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A view that takes a larger body than the service's limit (`CS_MAX_BODY_BYTES`), as the
    e-mail channel does: beyond `max_bytes`, 413."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        view._cs_max_body = max_bytes  # type: ignore[attr-defined]
        return view

    return decorate


def requires(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Only callers with one of `roles` (or admin) get through; others get 403."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not g.caller.has_role(*roles):
                return error_body(403, f"this needs one of the roles: {', '.join(roles)}")
            return view(*args, **kwargs)

        # the OpenAPI document names the roles (x-roles), for readers and the auth sweep test
        apidoc = dict(getattr(view, "_apidoc", {}))
        manual = dict(apidoc.get("manual_doc", {}))
        manual["x-roles"] = sorted({*roles, "admin"})
        apidoc["manual_doc"] = manual
        wrapper._apidoc = apidoc  # type: ignore[attr-defined]
        return wrapper

    return decorate


class FieldErrorSchema(Schema):
    detail = fields.Str(required=True, metadata={"description": "what is wrong with it"})
    pointer = fields.Str(
        metadata={"description": "where in the JSON body: a JSON Pointer as a URI fragment, #/a/0"}
    )
    parameter = fields.Str(metadata={"description": "the query or path parameter"})
    header = fields.Str(metadata={"description": "the request header"})


class ProblemSchema(Schema):
    """RFC 9457 problem details, the body of every error answer."""

    type = fields.Str(
        required=True,
        metadata={
            "description": "what kind of problem: `about:blank` when the status says it all,"
            " else a URN listed in docs/integration.md",
            "format": "uri-reference",
        },
    )
    title = fields.Str(required=True, metadata={"description": "a short summary of the type"})
    status = fields.Int(required=True, metadata={"description": "the HTTP status code"})
    detail = fields.Str(
        required=True, metadata={"description": "what went wrong with this request"}
    )
    errors = fields.List(
        fields.Nested(FieldErrorSchema),
        metadata={"description": "invalid input: one entry per problem, naming where it is"},
    )


LOCATION_HEADER = {
    "description": "the URL of what the request made (its GET)",
    "schema": {"type": "string", "format": "uri-reference"},
}


class _ProblemApi(Api):
    """flask-smorest, with every error response documented as `application/problem+json` and
    If-Match documented as optional (required only with CS_REQUIRE_IF_MATCH=true)."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        for status in HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Error: an RFC 9457 problem", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_JSON)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, default, lazy=True)

    def _register_etag_headers(self) -> None:
        self.spec.components.parameter(
            "IF_NONE_MATCH",
            "header",
            {
                "name": "If-None-Match",
                "description": "the ETag you hold: 304 Not Modified while it is still current",
                "schema": {"type": "string"},
            },
            lazy=True,
        )
        self.spec.components.parameter(
            "IF_MATCH",
            "header",
            {
                "name": "If-Match",
                "description": "the ETag of the record as you read it: 412 if it changed since."
                " Optional; 428 without it when the service runs with CS_REQUIRE_IF_MATCH=true",
                "required": False,
                "schema": {"type": "string"},
            },
            lazy=True,
        )
        self.spec.components.header(
            "ETAG",
            {
                "description": "the record's version: send it back in If-Match to change it",
                "schema": {"type": "string"},
            },
            lazy=True,
        )


class _Conventions(BasePlugin):
    """Documents what every operation of ours does the same way: `Location` on every 201, and
    `Idempotency-Key` on the operations marked `@idempotency.keyed`."""

    def operation_helper(
        self, path: str | None = None, operations: dict | None = None, **kwargs: Any
    ) -> None:
        for operation in (operations or {}).values():
            responses = operation.get("responses", {})
            for code, response in responses.items():
                if str(code) == "201" and isinstance(response, dict):
                    response.setdefault("headers", {})["Location"] = LOCATION_HEADER
            if operation.pop(idempotency.DOC_MARK, False):
                operation.setdefault("parameters", []).append(idempotency.HEADER_DOC)
                for code, response in responses.items():
                    if str(code).startswith("2") and isinstance(response, dict):
                        response.setdefault("headers", {})[idempotency.REPLAYED] = deepcopy(
                            idempotency.REPLAYED_DOC
                        )


@functools.lru_cache(maxsize=1024)
def _is_async(func: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(func)


class _App(Flask):
    """Flask, asking once per view or hook, not on every call, whether it is `async def`."""

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            is_async = _is_async(func)
        except TypeError:  # an unhashable callable: asked every time
            is_async = inspect.iscoroutinefunction(func)
        return self.async_to_sync(func) if is_async else func


def create_api(
    name: str, settings: Settings, db: Database, version: str = "1.0"
) -> tuple[Flask, Api]:
    app = _App(name)
    app.config.update(
        API_TITLE=f"{name} service",
        API_VERSION=version,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        # 413 beyond it (before a byte is read when Content-Length says so)
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
    )
    app.json = OrjsonProvider(app)
    # a body arrives in time or the request is answered 408; what is left unread is drained
    app.wsgi_app = BoundedBody(app.wsgi_app, settings.read_timeout_s)  # type: ignore[method-assign]
    app.extensions["cs"] = {"settings": settings, "db": db, "service": name}
    api = _ProblemApi(
        app,
        spec_kwargs={
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
            "security": [{"bearerAuth": []}],
            "extra_plugins": [_Conventions()],
        },
    )
    _install_hooks(app, name, settings)
    _install_health(app, name, settings, db)
    etags.install(app)  # ETag on answers, 304 to If-None-Match
    apidocs.install(app)  # /docs (Swagger UI served locally), /asyncapi.json, /asyncapi.html
    return app, api


def _install_hooks(app: Flask, service: str, settings: Settings) -> None:
    secret = settings.jwt_secret

    @app.before_request
    def admit() -> Response | None:
        # Every request, in one hook (the proxies resolved once): its clock and correlation id,
        # its body limit, its caller (401), then the input no field of ours takes (400).
        req = request._get_current_object()  # type: ignore[attr-defined]
        ctx = g._get_current_object()  # type: ignore[attr-defined]
        environ = req.environ
        ctx.started = time.perf_counter()
        # a client's id only when it is one (shape, length, no personal data); else a new one
        ctx.correlation_token = correlation_id.set(
            correlation_id_or_new(environ.get("HTTP_X_CORRELATION_ID"))
        )
        view = app.view_functions.get(req.endpoint or "")
        larger = getattr(view, "_cs_max_body", None)
        if larger is not None:
            req.max_content_length = larger
        path = req.path
        if path not in PUBLIC_PATHS and not path.startswith(PUBLIC_PREFIXES):
            try:
                ctx.caller = caller_from_header(
                    environ.get("HTTP_AUTHORIZATION"), secret, audience=service
                )
            except AuthError as e:
                response = error_body(401, str(e))
                response.headers["WWW-Authenticate"] = 'Bearer realm="cs"'
                return response
        # PostgreSQL text cannot hold U+0000 (psycopg raises DataError: a 500), and no field of
        # ours means to: refused here, for the path, the query and JSON bodies alike. A JSON
        # body is read once here (413 when too large, 408 when too slow) and must be valid
        # JSON nested at most MAX_JSON_DEPTH deep: no schema ever sees one that is not.
        if "\x00" in path or b"\x00" in unquote_to_bytes(req.query_string):
            raise BadRequest("the request contains a NUL character (U+0000)")
        if not req.is_json:
            return None
        body = request_body()
        if not body:
            return None
        problem = json_problem(body)
        if problem:
            raise BadRequest(problem)
        if b"\\u0000" in body and _JSON_NUL.search(body) is not None:
            raise BadRequest("the request contains a NUL character (U+0000)")
        return None

    @app.after_request
    def finish(response: Response) -> Response:
        # every answer: its correlation id; the request counted and timed; never sniffed, never
        # framed (a page sets a content security policy of its own)
        req = request._get_current_object()  # type: ignore[attr-defined]
        headers = response.headers
        present = {name.lower() for name, _ in headers}
        cid = correlation_id.get()
        if cid:
            if "x-correlation-id" in present:
                headers["X-Correlation-ID"] = cid
            else:
                headers.add("X-Correlation-ID", cid)
        rule = req.url_rule
        started = g.get("started")
        metrics.http_request(
            service,
            rule.rule if rule else "unmatched",
            req.method,
            response.status_code,
            None if started is None else time.perf_counter() - started,
        )
        for lower, name, value in _SECURITY_HEADERS:
            if lower not in present:
                headers.add(name, value)
        return response

    @app.teardown_request
    def forget_correlation(_exc: BaseException | None) -> None:
        token = g.pop("correlation_token", None)
        if token is not None:
            correlation_id.reset(token)

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException) -> Response:
        data = getattr(e, "data", None) or {}
        errors = data.get("messages") or data.get("errors")
        message = data.get("message") or e.description or reason(e.code or 500)
        if errors and not data.get("message"):
            message = "the request is not valid: see errors"
        # what the exception says about itself (Allow on a 405, WWW-Authenticate, ...)
        headers = {k: v for k, v in e.get_headers() if k.lower() != "content-type"}
        headers.update(data.get("headers") or {})
        return error_body(
            e.code or 500, str(message), errors, type_=data.get("type"), headers=headers
        )

    @app.errorhandler(NotFound)
    def not_found(e: NotFound) -> Response:
        return error_body(404, str(e))

    @app.errorhandler(Conflict)
    def conflict(e: Conflict) -> Response:
        return error_body(409, str(e))

    @app.errorhandler(Forbidden)
    def forbidden(e: Forbidden) -> Response:
        return error_body(403, str(e))

    @app.errorhandler(Invalid)
    def invalid(e: Invalid) -> Response:
        return error_body(422, "the request is not valid: see errors", {"json": e.errors})

    @app.errorhandler(psycopg.OperationalError)
    @app.errorhandler(PoolTimeout)
    def database_unavailable(e: Exception) -> Response:
        log.warning(
            "database unavailable on %s %s: %s", request.method, request.path, type(e).__name__
        )
        response = error_body(503, "the database is not available just now; try again")
        response.headers["Retry-After"] = "1"
        return response

    @app.errorhandler(psycopg.errors.TransactionRollback)
    def collided(e: Exception) -> Response:
        # a deadlock or serialization failure: PostgreSQL rolled this one back, nothing written
        log.warning(
            "transaction rolled back on %s %s: %s", request.method, request.path, type(e).__name__
        )
        return error_body(
            503,
            "the change collided with another one at the same moment; nothing was written: try"
            " again",
            headers={"Retry-After": "1"},
        )

    @app.errorhandler(Exception)
    def unexpected(e: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_body(500, "internal error; the correlation id in X-Correlation-ID traces it")


_SECURITY_HEADERS = tuple(
    (name.lower(), name, value)
    for name, value in (NOSNIFF, FRAME_OPTIONS, ("Content-Security-Policy", API_POLICY))
)
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")  # \u0000 not itself escaped


def _install_health(app: Flask, service: str, settings: Settings, db: Database) -> None:
    broker_ok = _BrokerCheck(settings, service)

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok", service=current_app.extensions["cs"]["service"])

    @app.get("/readyz")
    def readyz() -> Response:
        checks: dict[str, str] = {}
        try:
            db.ping()
            checks["database"] = "ok"
        except Exception as e:  # report, do not crash: readiness is a question
            checks["database"] = f"unavailable: {type(e).__name__}"
        checks["broker"] = broker_ok()
        ready = all(v == "ok" for v in checks.values())
        response = jsonify(status="ready" if ready else "not ready", checks=checks)
        response.status_code = 200 if ready else 503
        return response

    facts = app.extensions["cs"]["facts"] = metrics.ServiceFacts(
        app.extensions["cs"]["service"], db
    )

    @app.get("/metrics")
    def metrics_view() -> Response:
        body, content_type = metrics.exposition(facts)
        return Response(body, content_type=content_type)


class _BrokerCheck:
    """Connects to the broker at most every few seconds per process and remembers the answer."""

    def __init__(self, settings: Settings, service: str, ttl: float = 5.0) -> None:
        self.settings = settings
        self.service = service
        self.ttl = ttl
        self._checked = 0.0
        self._answer = "unknown"

    def __call__(self) -> str:
        now = time.monotonic()
        if now - self._checked > self.ttl or self._answer != "ok":
            try:
                conn = connect(self.settings, name=f"{self.service}-readyz", user=self.service)
                conn.close()
                self._answer = "ok"
            except (pika.exceptions.AMQPError, OSError) as e:
                self._answer = f"unavailable: {type(e).__name__}"
            self._checked = now
        return self._answer
