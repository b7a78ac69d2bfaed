"""The contracts, checked by their own ecosystems' tools.

The AsyncAPI document (the committed copy and the one each service serves) goes through the
official parser, `@asyncapi/parser` from npm, installed once into a cache directory (offline
after that); the OpenAPI document of every service through `openapi-spec-validator`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from shared.config import SERVICES
from shared.events.asyncapi import COMMITTED

PARSER_VERSION = "3.6.6"
ERROR = 0  # the parser's DiagnosticSeverity.Error

# prints the parser's diagnostics as JSON: [{severity, code, message, path}], then whether it
# gave a document at all (it gives none when there is any error)
PARSE_SCRIPT = """\
import { Parser } from '@asyncapi/parser';
import fs from 'fs';
const text = fs.readFileSync(process.argv[2], 'utf8');
const { document, diagnostics } = await new Parser().parse(text);
const found = diagnostics.map(
  d => ({severity: d.severity, code: d.code, message: d.message, path: d.path}));
console.log(JSON.stringify({document: !!document, diagnostics: found}));
"""


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cs-platform" / f"asyncapi-parser-{PARSER_VERSION}"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One installer at a time across parallel test sessions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="session")
def asyncapi_parser() -> Path:
    """The directory holding `@asyncapi/parser` and the script that runs it; npm installs it
    the first time (network), later sessions use the cache."""
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("Node.js and npm are not installed: the official AsyncAPI parser needs them")
    target = _cache_dir()
    if not (target / "node_modules" / "@asyncapi" / "parser" / "package.json").exists():
        with _locked(target.parent / f"{target.name}.lock"):
            if not (target / "node_modules" / "@asyncapi" / "parser" / "package.json").exists():
                staging = Path(tempfile.mkdtemp(prefix=f"{target.name}.", dir=target.parent))
                (staging / "package.json").write_text('{"private": true}\n')
                run = subprocess.run(
                    ["npm", "install", "--no-audit", "--no-fund", "--silent"]
                    + [f"@asyncapi/parser@{PARSER_VERSION}"],
                    cwd=staging,
                    capture_output=True,
                    text=True,
                    timeout=600,
                    check=False,
                )
                assert run.returncode == 0, f"npm could not install the parser: {run.stderr[-800:]}"
                shutil.rmtree(target, ignore_errors=True)
                staging.rename(target)
    script = target / "parse.mjs"  # next to node_modules, so the import resolves
    if not script.exists() or script.read_text() != PARSE_SCRIPT:
        script.write_text(PARSE_SCRIPT)
    return target


def _parse(parser: Path, document: Path) -> dict[str, Any]:
    run = subprocess.run(
        ["node", str(parser / "parse.mjs"), str(document)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def _errors(result: dict[str, Any]) -> list[str]:
    return [
        f"{d['code']} at {'/'.join(map(str, d['path']))}: {d['message']}"
        for d in result["diagnostics"]
        if d["severity"] == ERROR
    ]


def test_the_committed_asyncapi_document_parses_without_errors(asyncapi_parser: Path) -> None:
    result = _parse(asyncapi_parser, COMMITTED)
    assert not _errors(result), _errors(result)[:5]
    assert result["document"]


def test_the_parser_finds_errors_where_there_are_some(
    asyncapi_parser: Path, tmp_path: Path
) -> None:
    """The check can fail: two operations naming one message id the channel does not have."""
    broken = COMMITTED.read_text().replace(
        "#/channels/case.opened/messages/CaseOpenedV1", "#/channels/case.opened/messages/Nope"
    )
    (tmp_path / "broken.yaml").write_text(broken)
    result = _parse(asyncapi_parser, tmp_path / "broken.yaml")
    assert _errors(result) and not result["document"]


@pytest.mark.parametrize("service", SERVICES)
def test_the_served_asyncapi_document_parses_without_errors(
    asyncapi_parser: Path, client: Any, service: str, tmp_path: Path
) -> None:
    r = client(service).get("/asyncapi.json")  # public, like the acceptance check reads it
    assert r.status_code == 200
    (tmp_path / "served.json").write_bytes(r.data)
    result = _parse(asyncapi_parser, tmp_path / "served.json")
    assert not _errors(result), _errors(result)[:5]
    assert result["document"]


@pytest.mark.parametrize("service", SERVICES)
def test_the_openapi_document_is_valid(client: Any, service: str) -> None:
    r = client(service).get("/openapi.json")
    assert r.status_code == 200
    try:
        validate(r.get_json())
    except OpenAPIValidationError as e:
        pytest.fail(f"{service}/openapi.json: {e.message} at {list(e.absolute_path)}")


def test_the_openapi_validator_finds_errors_where_there_are_some(client: Any) -> None:
    spec = client("intake").get("/openapi.json").get_json()
    spec["paths"]["/cases"]["post"]["responses"]["201"].pop("description")
    with pytest.raises(OpenAPIValidationError):
        validate(spec)
