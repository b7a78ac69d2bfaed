"""The API and event docs every service serves, with nothing loaded from another site.

`/docs` is Swagger UI 5 for the service's `/openapi.json`; its JavaScript and CSS are the files
bundled in the `flask-swagger-ui` package, served by the service itself under `/docs/static/`
(the few lines that start it at `/docs/init.js`), so its content security policy allows scripts
from the service alone.
`/asyncapi.json` is the AsyncAPI document of the event contract (`build_document()`), and
`/asyncapi.html` a readable page rendered from it on the server: the envelope and delivery
rules, then per event type its exchange, producers, consumers, payload fields and an example.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import flask_swagger_ui
from flask import Flask, Response, jsonify, send_from_directory, url_for
from jinja2 import Environment
from markupsafe import Markup, escape

from shared.events.asyncapi import build_document, operation_ids, schema_name
from shared.events.catalogue import CATALOGUE
from shared.request_limits import DOCS_POLICY, PAGE_POLICY

SWAGGER_UI_DIST = Path(flask_swagger_ui.__file__).parent / "dist"  # Swagger UI's own files
DOC_PATHS = ("/asyncapi.json", "/asyncapi.html")  # public, besides everything under /docs

_env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)

_SWAGGER_PAGE = _env.from_string(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ title }} API</title>
<link rel="stylesheet" href="{{ static }}swagger-ui.css">
<link rel="icon" type="image/png" href="{{ static }}favicon-32x32.png">
<style>body { margin: 0; } .cs-links { font: 14px sans-serif; padding: 8px 20px; }</style>
</head>
<body>
<div class="cs-links">{{ title }}: <a href="{{ openapi }}">openapi.json</a> &middot;
<a href="{{ events }}">event catalogue</a> (<a href="{{ events_json }}">asyncapi.json</a>)</div>
<div id="swagger-ui" data-openapi="{{ openapi }}"></div>
<script src="{{ static }}swagger-ui-bundle.js"></script>
<script src="{{ static }}swagger-ui-standalone-preset.js"></script>
<script src="{{ init }}"></script>
</body>
</html>
"""
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

_EVENTS_PAGE = _env.from_string(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ doc.info.title }}</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 1100px; margin: 0 auto; padding: 0 20px;
       color: #222; }
h1 { border-bottom: 2px solid #446; padding-bottom: 4px; }
h2 { margin-top: 2.2em; border-bottom: 1px solid #ccc; }
code, pre { font: 13px/1.4 ui-monospace, monospace; background: #f4f4f8; }
code { padding: 1px 3px; }
pre { padding: 10px; overflow-x: auto; border: 1px solid #dde; }
table { border-collapse: collapse; margin: 8px 0 12px; }
th, td { border: 1px solid #ccd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #eef; }
dl.meta dt { font-weight: bold; float: left; clear: left; width: 160px; }
dl.meta dd { margin-left: 170px; }
h2 code { font-size: inherit; background: none; }
.muted { color: #666; }
</style>
</head>
<body>
<h1>{{ doc.info.title }} <span class="muted">{{ doc.info.version }}</span></h1>
<p class="muted">AsyncAPI {{ doc.asyncapi }}; the machine-readable document is
<a href="{{ json_url }}">asyncapi.json</a>; the HTTP API of this service is at
<a href="{{ docs_url }}">docs</a>.</p>
{% for paragraph in description %}
<p>{{ paragraph }}</p>
{% endfor %}
<h2 id="types">Event types</h2>
<table>
<tr><th>type</th><th>exchange</th><th>producers</th><th>consumers</th></tr>
{% for e in events %}
<tr><td><a href="#{{ e.type }}"><code>{{ e.type }}</code></a></td>
<td><code>{{ e.exchange }}</code></td>
<td>{{ e.producers | join(", ") }}</td>
<td>{{ (e.consumers + e.external) | join(", ") or "none yet" }}
{%- if e.planned %} <span class="muted">(planned: {{ e.planned | join(", ") }})</span>
{%- endif %}</td></tr>
{% endfor %}
</table>
{% for e in events %}
<h2 id="{{ e.type }}"><code>{{ e.type }}</code></h2>
<p>{{ e.description }}</p>
<dl class="meta">
<dt>Exchange</dt><dd><code>{{ e.exchange }}</code> (routing key <code>{{ e.type }}</code>)</dd>
<dt>Producers</dt><dd>{{ e.producers | join(", ") or "none" }}</dd>
<dt>Consumers</dt><dd>{{ e.consumers | join(", ") or "none yet" }}</dd>
{% if e.planned %}
<dt>Planned consumers</dt><dd>{{ e.planned | join(", ") }} (no handler yet)</dd>
{% endif %}
{% if e.external %}<dt>Outside consumers</dt><dd>{{ e.external | join(", ") }}</dd>{% endif %}
<dt>dataschema</dt><dd>{% for s in e.schemas %}<code>{{ s }}</code> {% endfor %}</dd>
</dl>
<table>
<caption class="muted">data fields (v{{ e.version }})</caption>
<tr><th>name</th><th>type</th><th>required</th><th>description</th></tr>
{% for f in e.fields %}
<tr><td><code>{{ f.name }}</code></td><td>{{ f.type }}</td>
<td>{{ "yes" if f.required else "no" }}</td><td>{{ f.notes }}</td></tr>
{% endfor %}
</table>
<p class="muted">Example envelope:</p>
<pre>{{ e.example }}</pre>
{% endfor %}
</body>
</html>
"""
)


@functools.cache
def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI document, built once per process (it only changes with the code)."""
    return build_document()


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
                "planned": consume.get("x-planned-consumers", []),
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
    return _EVENTS_PAGE.render(
        doc=doc,
        description=[_inline(p) for p in paragraphs if p],
        events=_events(doc),
        json_url=json_url,
        docs_url=docs_url,
    )


def install(app: Flask) -> None:
    """Adds /docs (Swagger UI, assets under /docs/static/), /asyncapi.json and /asyncapi.html."""

    def swagger_ui() -> Response:
        page = _SWAGGER_PAGE.render(
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
