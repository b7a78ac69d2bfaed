"""The API docs pages of every service work offline.

`/docs` is Swagger UI 5 over the service's `/openapi.json`, with its JavaScript and CSS (the
files bundled in `flask-swagger-ui`) served by the service itself; `/asyncapi.html` the event
catalogue rendered on the server. Neither names
an asset on another host, and every asset they name is served. In headless Chromium, with every
host name but 127.0.0.1 unresolvable, a real `cs serve intake` draws both pages, and nothing
the pages ask for leaves 127.0.0.1.
"""

from __future__ import annotations

import fnmatch
import json
import re
import socket
import subprocess
import sys
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import flask_swagger_ui
import pytest

from shared.config import SERVICES
from shared.events.asyncapi import COMMITTED
from shared.events.catalogue import CATALOGUE
from shared.testing.plugin import System
from shared.testing.waiting import wait_until
from tests.integration.test_followup_report import _chromium, _pixels

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
PAGES = ("/docs", "/docs/", "/asyncapi.html")

# the acceptance check's pattern: an asset loaded from another host
EXTERNAL = re.compile(
    r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//"""
    r"""(?!127\.0\.0\.1|localhost)[^"'\s>]+""",
    re.I,
)
# stricter here: no absolute URL at all in an asset of ours, not even to this host
ASSET = re.compile(
    r"""<(?:script|link|img|iframe|source|video|audio)\b[^>]*\b(?:src|href)\s*=\s*["']([^"']*)""",
    re.I,
)
CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)""")


def _page(client: Any, path: str) -> str:
    r = client.get(path)  # no token: the docs are public
    assert r.status_code == 200, (path, r.status_code)
    assert r.mimetype == "text/html", (path, r.mimetype)
    policy = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    # scripts, if any, from this service only: never inline, never eval
    assert "unsafe-eval" not in policy
    assert "script-src" not in policy or "script-src 'self';" in policy
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    page = r.get_data(as_text=True)
    external = EXTERNAL.search(page)
    assert external is None, f"{path} loads {external.group(0)}"
    return page


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("path", PAGES)
def test_the_pages_load_only_what_the_service_serves(client: Any, service: str, path: str) -> None:
    c = client(service)
    page = _page(c, path)
    assets = ASSET.findall(page)
    if path.startswith("/docs"):
        assert len(assets) >= 3  # the CSS and the two scripts
    for asset in assets:
        assert asset.startswith("/") and not asset.startswith("//"), f"{path}: {asset}"
        r = c.get(asset)
        assert r.status_code == 200 and r.data, f"{service}{path}: {asset} -> {r.status_code}"
        if asset.endswith(".css"):
            assert r.mimetype == "text/css"
            css = r.get_data(as_text=True)
            assert "@import" not in css
            outside = [u for u in CSS_URL.findall(css) if not u.startswith("data:")]
            assert not outside, f"{asset} loads {outside[:3]}"
        elif asset.endswith(".js"):
            assert "javascript" in r.mimetype


@pytest.mark.parametrize("service", SERVICES)
def test_the_docs_page_is_swagger_ui_over_the_services_openapi(client: Any, service: str) -> None:
    c = client(service)
    page = _page(c, "/docs")
    assert 'data-openapi="/openapi.json"' in page and '<script src="/docs/init.js">' in page
    init = c.get("/docs/init.js")
    assert init.status_code == 200 and "javascript" in init.mimetype
    assert "SwaggerUIBundle(" in init.get_data(as_text=True)
    assert "<script>" not in page  # no inline script: the policy allows this service's files only
    assert 'href="/asyncapi.html"' in page  # the event catalogue is one click away
    spec = c.get("/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert c.get("/docs/static/no-such-file.js").status_code == 404
    assert c.get("/docs/static/../../shared/config.py").status_code == 404


def test_the_docs_page_is_swagger_ui_5_from_flask_swagger_ui(client: Any) -> None:
    c = client("intake")
    dist = Path(flask_swagger_ui.__file__).parent / "dist"
    assert (dist / "VERSION").read_text().strip().startswith("v5.")
    for name in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        r = c.get(f"/docs/static/{name}")
        assert r.status_code == 200 and r.data == (dist / name).read_bytes(), name
    version = (dist / "VERSION").read_text().strip().removeprefix("v")
    assert f'"{version}"' in c.get("/docs/static/swagger-ui-bundle.js").get_data(as_text=True)


@pytest.mark.parametrize("service", SERVICES)
def test_the_event_catalogue_names_every_type(client: Any, service: str) -> None:
    c = client(service)
    page = _page(c, "/asyncapi.html")
    missing = [t for t in CATALOGUE if f'id="{t}"' not in page or f"<code>{t}</code>" not in page]
    assert not missing, f"not on {service}/asyncapi.html: {missing}"
    r = c.get("/asyncapi.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert set(r.get_json()["channels"]) == set(CATALOGUE)


def test_the_event_catalogue_shows_fields_and_examples_escaped(client: Any) -> None:
    page = _page(client("intake"), "/asyncapi.html")
    assert "<code>urn:cs:schema:&lt;type&gt;:v&lt;n&gt;</code>" in page  # escaped, then `code`
    assert "<script" not in page.lower()
    opened = page[page.index('id="case.opened"') : page.index('id="case.transferred"')]
    assert "<code>cs.events</code>" in opened
    assert "<td><code>case_no</code></td>" in opened
    assert "&#34;specversion&#34;: &#34;1.0&#34;" in opened  # the example envelope, escaped JSON
    assert "urn:cs:schema:case.opened:v1" in opened
    requested = page[page.index('id="case.requested"') : page.index('id="case.opened"')]
    assert "<code>cs.inbound</code>" in requested and "portal" in requested

    acknowledged = page[page.index('id="case.acknowledged"') : page.index('id="sla.started"')]
    assert "<dt>Outside consumers</dt><dd>SMS/e-mail gateway (external)</dd>" in acknowledged


# a bare Flask app with only the docs pages: what serving them imports, and what it reads
_SERVE_DOCS = """
import json, sys
from flask import Flask
from shared import apidocs
from shared.events import asyncapi
app = Flask("docs")
apidocs.install(app)
answers = [app.test_client().get(p).status_code for p in ("/asyncapi.json", "/asyncapi.html")]
served = app.test_client().get("/asyncapi.json").get_json() == asyncapi.committed_document()
loaded = sorted(m for m in sys.modules if m == "services" or m.startswith("services."))
print(json.dumps({"answers": answers, "served": served, "loaded": loaded}))
"""


def test_the_event_pages_serve_the_committed_document_and_load_no_service() -> None:
    run = subprocess.run(
        [sys.executable, "-c", _SERVE_DOCS], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["answers"] == [200, 200] and out["served"]
    assert out["loaded"] == [], f"serving the event pages imported {out['loaded'][:5]}"


def test_an_installed_package_carries_the_templates_and_the_document() -> None:
    """The pages read files beside the code: pyproject ships them as package data, so a
    non-editable install (the Docker image) has them."""
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]
    shipped = [
        ROOT / package.replace(".", "/") / pattern
        for package, patterns in package_data.items()
        if package != "*"
        for pattern in patterns
    ]
    needed = [*(ROOT / "shared" / "templates").glob("*.html"), COMMITTED]
    assert len(needed) > 2
    missing = [p for p in needed if not any(fnmatch.fnmatch(str(p), str(g)) for g in shipped)]
    assert not missing, f"not in pyproject's package-data: {missing}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served_intake(cs_system: System, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `cs serve intake` (gunicorn) on the session's database and broker names."""
    tmp = tmp_path_factory.mktemp("served-intake")
    port = _free_port()
    env = cs_system.env(CS_METRICS_DIR=str(tmp / "metrics"), CS_WEB_WORKERS="1")
    cs = Path(sys.executable).parent / "cs"
    log_path = tmp / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [str(cs), "serve", "intake", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            assert server.poll() is None, log_path.read_text(errors="replace")[-2000:]
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1) as r:
                    return r.status == 200
            except OSError:
                return False

        wait_until(up, timeout=60, what="cs serve intake")
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def _browse(url: str, tmp: Path, *action: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Chromium on `url`, no host but 127.0.0.1 resolvable; the URLs the page asked for."""
    netlog = tmp / "net.json"
    run = subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--hide-scrollbars",
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            f"--user-data-dir={tmp / 'profile'}",
            f"--log-net-log={netlog}",
            "--enable-logging=stderr",  # the console: a policy violation is reported there
            "--virtual-time-budget=15000",  # until the scripts have drawn the page
            "--window-size=1280,1600",
            *action,
            url,
        ],
        capture_output=True,
        timeout=180,
        check=False,
    )
    assert netlog.exists(), run.stderr.decode(errors="replace")[-2000:]
    return run, _page_requests(json.loads(netlog.read_text()), url)


def _page_requests(netlog: dict[str, Any], url: str) -> list[str]:
    """The URLs the page loaded: the page itself and what it initiated (not the browser's own
    background requests, which the host resolver rules keep from leaving anyway)."""
    start = netlog["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    begun = [e["params"] for e in netlog["events"] if e["type"] == start and "params" in e]
    return [
        p["url"]
        for p in begun
        if p.get("initiator") == origin or p.get("request_type") == "main frame"
    ]


def _only_local(requests: list[str]) -> None:
    assert requests
    outside = [u for u in requests if urlsplit(u).hostname != "127.0.0.1"]
    assert not outside, f"the page asked for {outside}"


def test_chromium_draws_swagger_ui_offline(served_intake: str, tmp_path: Path) -> None:
    run, requests = _browse(f"{served_intake}/docs", tmp_path / "dom", "--dump-dom")
    dom = run.stdout.decode(errors="replace")
    _only_local(requests)
    # drawn under the page's content security policy, which refused nothing it needs
    assert "Content Security Policy" not in run.stderr.decode(errors="replace")
    paths = {urlsplit(u).path for u in requests}
    assert {"/docs", "/docs/static/swagger-ui-bundle.js", "/openapi.json"} <= paths, paths
    # built by Swagger UI's scripts from /openapi.json: not in the page the service sent
    assert 'class="swagger-ui"' in dom, dom[-2000:]
    assert len(re.findall(r'class="opblock opblock-(?:get|post)', dom)) >= 10
    assert "intake service" in dom and "/cases/{case_id}/transfer" in dom
    assert 'class="btn authorize' in dom  # bearer tokens can be given on the page

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "intake-docs.png"
    shot.unlink(missing_ok=True)
    run, requests = _browse(f"{served_intake}/docs", tmp_path / "shot", f"--screenshot={shot}")
    assert shot.exists(), run.stderr.decode(errors="replace")[-2000:]
    _only_local(requests)
    assert shot.stat().st_size > 30_000
    width, height, colours = _pixels(shot.read_bytes())
    assert (width, height) == (1280, 1600)
    # the POST (green) and GET (blue) operation badges Swagger UI's stylesheet draws
    for colour in ("49cc90", "61affe"):
        assert colours[bytes.fromhex(colour)] > 2000, colour


def test_chromium_draws_the_event_catalogue_offline(served_intake: str, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "intake-asyncapi.png"
    shot.unlink(missing_ok=True)
    url = f"{served_intake}/asyncapi.html"
    run, requests = _browse(url, tmp_path, f"--screenshot={shot}")
    assert shot.exists(), run.stderr.decode(errors="replace")[-2000:]
    _only_local(requests)
    assert "Content Security Policy" not in run.stderr.decode(errors="replace")
    assert shot.stat().st_size > 30_000
    width, height, colours = _pixels(shot.read_bytes())
    assert (width, height) == (1280, 1600)
    assert colours[bytes.fromhex("f4f4f8")] > 1000  # the code and example background
    assert len(colours) > 100  # text, not a blank or error page
