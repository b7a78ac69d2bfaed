"""The API and event docs every service serves, with nothing loaded from another site.

`/docs` is Swagger UI 5 for the service's `/openapi.json`; its JavaScript and CSS are the files
bundled in the `flask-swagger-ui` package, served by the service itself under `/docs/static/`
(the few lines that start it at `/docs/init.js`), so its content security policy allows scripts
from the service alone.
`/asyncapi.json` is the committed AsyncAPI document of the event contract (shipped with the
package, so serving it builds nothing and loads no service's code), and `/asyncapi.html` a
readable page rendered from it on the server: the envelope and delivery rules, then per event
type its exchange, producers, consumers, payload fields and an example. Both pages are Jinja
templates in `shared/templates/`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import flask_swagger_ui
from flask import Flask, Response, jsonify, send_from_directory, url_for
from jinja2 import Environment, PackageLoader
from markupsafe import Markup, escape

from shared.events.asyncapi import committed_document, operation_ids, schema_name
from shared.events.catalogue import CATALOGUE
from shared.request_limits import DOCS_POLICY, PAGE_POLICY

SWAGGER_UI_DIST = Path(flask_swagger_ui.__file__).parent / "dist"  # Swagger UI's own files
DOC_PATHS = ("/asyncapi.json", "/asyncapi.html")  # public, besides everything under /docs

_env = Environment(
    loader=PackageLoader("shared", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


# served as a file, not inline, so the page's policy allows scripts from this service only
_SWAGGER_INIT = """window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    persistAuthorization: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout"
  });
});
"""


def asyncapi_document() -> dict[str, Any]:
    """The committed AsyncAPI document, read once per process (it only changes with the code)."""
    return committed_document()


def _inline(text: str) -> Markup:
    """The little Markdown the description uses: `code` and **bold**, everything escaped."""
    html = str(escape(text))
    html = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html)
    html = re.sub(r"`([^`]+)`", r"<code>\1</code>", html)
    return Markup(html)


def _type_text(prop: dict[str, Any]) -> str:
    kind = prop.get("type", "any")
    text = " | ".join(kind) if isinstance(kind, list) else str(kind)
    if prop.get("format"):
        text += f" ({prop['format']})"
    if prop.get("type") == "array" and isinstance(prop.get("items"), dict):
        text += f" of {_type_text(prop['items'])}"
    return text


def _notes(prop: dict[str, Any]) -> str:
    notes = []
    if "enum" in prop:
        notes.append("one of " + ", ".join(str(v) for v in prop["enum"] if v is not None))
    for key, label in (("minimum", "min"), ("maximum", "max"), ("maxLength", "max length")):
        if key in prop:
            notes.append(f"{label} {prop[key]}")
    if prop.get("description"):
        notes.append(str(prop["description"]))
    return "; ".join(notes)


def _events(doc: dict[str, Any]) -> list[dict[str, Any]]:
    events = []
    schemas = doc["components"]["schemas"]
    for type_, channel in doc["channels"].items():
        kind = CATALOGUE[type_]
        schema = schemas[schema_name(type_, kind.current)]
        required = set(schema.get("required", ()))
        message = doc["components"]["messages"][schema_name(type_, kind.current)]
        example = message.get("examples", [{}])[0].get("payload", {})
        publish, consume = (doc["operations"][i] for i in operation_ids(type_))
        events.append(
            {
                "type": type_,
                "description": _inline(channel["description"]),
                "exchange": channel["bindings"]["amqp"]["exchange"]["name"],
                "producers": publish.get("x-producers", []),
                "consumers": consume.get("x-consumers", []),
                "external": consume.get("x-external-consumers", []),
                "schemas": [kind.schema_id(v) for v in sorted(kind.versions)],
                "version": kind.current,
                "fields": [
                    {
                        "name": name,
                        "type": _type_text(prop),
                        "required": name in required,
                        "notes": _notes(prop),
                    }
                    for name, prop in schema.get("properties", {}).items()
                ],
                "example": json.dumps(example, indent=2, ensure_ascii=False),
            }
        )
    return events


def render_asyncapi_html(json_url: str = "asyncapi.json", docs_url: str = "docs") -> str:
    doc = asyncapi_document()
    paragraphs = [" ".join(p.split()) for p in doc["info"]["description"].split("\n\n")]
    return _env.get_template("asyncapi.html").render(
        doc=doc,
        description=[_inline(p) for p in paragraphs if p],
        events=_events(doc),
        json_url=json_url,
        docs_url=docs_url,
    )


def install(app: Flask) -> None:
    """Adds /docs (Swagger UI, assets under /docs/static/), /asyncapi.json and /asyncapi.html."""

    def swagger_ui() -> Response:
        page = _env.get_template("swagger.html").render(
            title=app.config.get("API_TITLE", app.name),
            static=url_for("cs_docs_static", filename=""),
            openapi=url_for("api-docs.openapi_json"),
            events=url_for("cs_asyncapi_html"),
            events_json=url_for("cs_asyncapi_json"),
            init=url_for("cs_docs_init"),
        )
        response = Response(page, content_type="text/html; charset=utf-8")
        response.headers["Content-Security-Policy"] = DOCS_POLICY
        return response

    def swagger_init() -> Response:
        return Response(
            _SWAGGER_INIT,
            content_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "max-age=3600"},
        )

    def static(filename: str) -> Response:
        return send_from_directory(SWAGGER_UI_DIST, filename, max_age=3600)

    def asyncapi_json() -> Response:
        return jsonify(asyncapi_document())

    def asyncapi_html() -> Response:
        page = render_asyncapi_html(url_for("cs_asyncapi_json"), url_for("cs_docs"))
        response = Response(page, content_type="text/html; charset=utf-8")
        response.headers["Content-Security-Policy"] = PAGE_POLICY
        return response

    app.add_url_rule("/docs", "cs_docs", swagger_ui, strict_slashes=False)
    app.add_url_rule("/docs/init.js", "cs_docs_init", swagger_init)
    app.add_url_rule("/docs/static/<path:filename>", "cs_docs_static", static)
    app.add_url_rule("/asyncapi.json", "cs_asyncapi_json", asyncapi_json)
    app.add_url_rule("/asyncapi.html", "cs_asyncapi_html", asyncapi_html)
