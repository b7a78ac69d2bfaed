"""Every command in the README and docs/*.md runs, against this session's servers.

The fenced blocks are extracted and read like a shell would read them, one document per shell
(`TOKEN=...` set at the top of a document is used further down). `cs ...` runs through
`shared.cli.main` with the session's database, broker prefix and secrets in the environment;
`curl http://127.0.0.1:808N/...` goes to that service's Flask test client, with the consumers
of all four services running and the events each command causes forwarded to them, so a
document may read what another service made of an earlier write. A curl must not answer 5xx,
401, 403 or 405, and must answer what the document says when a `# -> ...` line follows it.
Python blocks compile; the `case.requested` publishing example runs against the session broker.

What cannot run in a test is listed in SKIPPED with the reason; a fenced block in a language,
or a command, the test does not know fails it. Output and listings go in ```text blocks.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from shared import cli
from shared.config import SERVICES, Settings
from shared.db import Database
from shared.events import parse_event
from shared.testing.waiting import publish, wait_handled, wait_until

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
SHELL = {"", "sh", "bash", "shell", "console"}
NOT_RUN = {"text", "json", "yaml", "csv"}  # output, listings and data: shown, never run
PORTS = {"8081": "intake", "8082": "routing", "8083": "followup", "8084": "training"}
PLACEHOLDERS = {"<id>", "ID", "EVENT_ID"}  # stand for the id the previous command returned

# what cannot run in a test, by design: (pattern of the command, why)
SKIPPED: list[tuple[str, str]] = [
    (r"^\./dev up\b", "runs the whole system in the foreground until Ctrl-C"),
    (r"^\./dev test\b", "runs this test suite"),
    (r"^docker compose\b", "starts the containers; tests/system/test_compose.py checks the file"),
    (r"^export CS_\w+=\$\(openssl ", "makes production secrets for docker compose"),
    (r"^export CS_ENV=development\b", "the suite runs as development (shared/testing/plugin.py)"),
    (r"^for s in .*\bpg_dump\b", "a backup of a real database with pg_dump, not a test"),
    (
        r"^(\.venv/bin/)?cs (serve|relay|consume|schedule)\b",
        "a long-running process; test_api_pages.py runs `cs serve`",
    ),
    (
        r"^(\.venv/bin/)?cs demo\b",
        "loads thousands of cases into the running system over HTTP; tests/e2e/test_demo.py",
    ),
]
# fenced blocks without a language that are not commands: (document, start of the block) -> why
TEXT_BLOCKS: dict[tuple[str, str], str] = {
    ("README.md", "shared/        our library:"): "the repository layout",
}
# fields of a documented answer that differ on every run: only their presence is checked
VARIES = {"id", "case_no"}


@dataclass
class Block:
    document: str
    line: int
    lang: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.document}:{self.line}"


def blocks(document: str) -> list[Block]:
    found, lang, start, lines = [], None, 0, []
    for n, line in enumerate((ROOT / document).read_text(encoding="utf-8").splitlines(), 1):
        if lang is None and line.startswith("```"):
            lang, start, lines = line[3:].strip().split(" ")[0], n, []
        elif lang is not None and line.startswith("```"):
            found.append(Block(document, start, lang, "\n".join(lines) + "\n"))
            lang = None
        elif lang is not None:
            lines.append(line)
    assert lang is None, f"{document}:{start}: a fenced block is not closed"
    return found


ALL_BLOCKS = [b for d in DOCUMENTS for b in blocks(d)]


@dataclass
class Statement:
    text: str
    expect: list[str] = field(default_factory=list)  # the `# -> ...` lines after it


def statements(block: Block) -> list[Statement]:
    """The block's commands, as a shell would group its lines."""
    lines = block.text.splitlines()
    if block.lang == "console":  # `$ ` prompts are commands, the other lines their output
        lines = [ln[2:] if ln.startswith("$ ") else f"# -> {ln}" for ln in lines]
    found: list[Statement] = []
    buffer = ""
    for line in lines:
        if not buffer and line.lstrip().startswith("#"):
            if re.match(r"\s*#\s*->", line):
                assert found, f"{block.where}: an answer with no command before it"
                found[-1].expect.append(line.split("->", 1)[1].strip())
            continue
        if not buffer and not line.strip():
            continue
        buffer += line + "\n"
        if line.endswith("\\"):
            buffer = buffer[: -len("\\\n")] + " "
            continue
        if buffer.startswith("for ") and line.strip() != "done":
            continue
        try:
            shlex.split(buffer, comments=True)
        except ValueError:  # a quote still open: the command goes on
            continue
        found.append(Statement(buffer.strip()))
        buffer = ""
    assert not buffer, f"{block.where}: unfinished command {buffer!r}"
    return found


def skipped(command: str) -> str | None:
    return next((why for pattern, why in SKIPPED if re.search(pattern, command, re.S)), None)


def is_text_block(block: Block) -> bool:
    return block.lang == "" and any(
        block.document == document and block.text.startswith(start)
        for document, start in TEXT_BLOCKS
    )


class Shell:
    """Runs one document's commands: variables, `cs` and `curl`, and the documented answers."""

    def __init__(
        self,
        settings: Settings,
        client: Callable[[str], Any],
        dbs: dict[str, Database],
        tmp_path: Path,
    ) -> None:
        self.settings, self.client, self.dbs, self.tmp_path = settings, client, dbs, tmp_path
        self.vars: dict[str, str] = {}
        self.last_id: str | None = None
        self.made_up = False  # a placeholder had no id to stand for: a 404 is expected
        self.marks = {s: self._last_seq(s) for s in SERVICES}
        self.log: list[str] = []

    def run(self, statement: Statement, where: str) -> None:
        command = statement.text
        why = skipped(command)
        if why:
            self.log.append(f"{where}: skipped by design: {command.splitlines()[0]}: {why}")
            return
        assigned = re.fullmatch(r"([A-Z_][A-Z0-9_]*)=\$\((.*)\)", command, re.S)
        if assigned:
            self.vars[assigned.group(1)] = self.output(assigned.group(2), where).strip()
            return
        self.output(command, where, statement.expect)

    def output(self, command: str, where: str, expect: list[str] | None = None) -> str:
        words = shlex.split(self.expand(command, where), comments=True)
        if words[0] in ("cs", ".venv/bin/cs"):
            assert not expect, f"{where}: answers are checked for curl only"
            return self.cs(words[1:], where)
        if words[0] == "curl":
            return self.curl(words[1:], where, expect or [])
        raise AssertionError(f"{where}: the test does not know how to run {command!r}")

    def expand(self, command: str, where: str) -> str:
        def value(m: re.Match[str]) -> str:
            name = m.group(1) or m.group(2)
            assert name in self.vars, f"{where}: ${name} is not set by the document"
            return self.vars[name]

        return re.sub(r"\$\{(\w+)\}|\$([A-Za-z_]\w*)", value, command)

    def cs(self, args: list[str], where: str) -> str:
        args = [self._placeholder(a) for a in args]
        if args[:1] == ["asyncapi"] and "--output" in args:  # not over the committed copy
            args[args.index("--output") + 1] = str(self.tmp_path / "asyncapi.yaml")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = cli.main(args)
        assert code == 0, f"{where}: cs {' '.join(args)} exited {code}"
        self.log.append(f"{where}: cs {' '.join(args[:3])} -> {code}")
        if args[:2] == ["dead-letters", "list"]:  # EVENT_ID next: the first one listed
            self.last_id = out.getvalue().split("\t", 1)[0] or None
        return out.getvalue()

    def curl(self, args: list[str], where: str, expect: list[str]) -> str:
        method, headers, body, url = None, {}, None, None
        words = iter(args)
        for word in words:
            if word == "-X":
                method = next(words)
            elif word == "-H":
                name, _, value = next(words).partition(":")
                headers[name.strip()] = value.strip()
            elif word in ("-d", "--data", "--data-raw"):
                body = next(words).encode()
            elif word in ("-s", "-S", "-sS", "-f", "-i", "--fail"):
                continue
            elif word.startswith("-"):
                raise AssertionError(f"{where}: the test does not know curl's {word}")
            else:
                assert url is None, f"{where}: two URLs"
                url = word
        assert url, f"{where}: curl without a URL"
        parts = urlsplit(url)
        assert parts.hostname == "127.0.0.1", f"{where}: {url} is not a local service"
        service = PORTS[str(parts.port)]
        self.made_up = False
        path = "/".join(self._placeholder(p) for p in parts.path.split("/"))
        path += f"?{parts.query}" if parts.query else ""
        method = method or ("POST" if body is not None else "GET")

        def call() -> Any:
            return self.client(service).open(path, method=method, data=body, headers=headers)

        r = call()
        if expect and r.status_code == 404:  # an answer that depends on an event in flight
            r = wait_until(lambda: (x := call()).status_code != 404 and x, 15, f"{method} {path}")
        said = f"{where}: {method} {service}{path} -> {r.status_code} {r.data[:300]!r}"
        assert r.status_code < 500 and r.status_code not in (401, 403, 405), said
        assert r.status_code != 404 or self.made_up, said
        for answer in expect:
            check_answer(answer, r, said)
        self.log.append(f"{where}: {method} {service}{path} -> {r.status_code}")
        self._remember_id(r)
        self._forward_events()
        return r.get_data(as_text=True)

    def _placeholder(self, word: str) -> str:
        if word not in PLACEHOLDERS:
            return word
        if self.last_id is None:
            self.made_up = True
            return str(uuid.uuid4())
        return self.last_id

    def _remember_id(self, response: Any) -> None:
        """The `id` of the answer, or of the first of its items: what `ID` stands for next."""
        data = response.get_json(silent=True)
        if response.status_code >= 400 or not isinstance(data, dict | list):
            return
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            data = data["items"]
        if isinstance(data, list):
            data = data[0] if data else {}
        found = data.get("id") if isinstance(data, dict) else None
        self.last_id = None if found is None else str(found)

    def _last_seq(self, service: str) -> int:
        with self.dbs[service].transaction() as tx:
            return tx.execute("SELECT coalesce(max(seq), 0) FROM outbox").fetchone()[0]

    def _forward_events(self) -> None:
        """What a command wrote to an outbox goes to the consumers, as the relays would send it."""
        for service in SERVICES:
            with self.dbs[service].transaction() as tx:
                rows = tx.execute(
                    "SELECT seq, body FROM outbox WHERE seq > %s ORDER BY seq",
                    (self.marks[service],),
                ).fetchall()
            for seq, body in rows:
                raw = body.encode() if isinstance(body, str) else bytes(body)
                publish(self.settings, parse_event(raw), body=raw)
                self.marks[service] = seq


def check_answer(answer: str, response: Any, said: str) -> None:
    """`201`, `201 {"field": value, …}` or `{...}`: the status, and the fields shown."""
    m = re.fullmatch(r"(\d{3})?\s*(.*)", answer, re.S)
    assert m, said
    if m.group(1):
        assert response.status_code == int(m.group(1)), said
    shown = m.group(2).strip()
    if not shown:
        return
    expected = json.loads(re.sub(r",\s*…\s*}", "}", shown))
    actual = response.get_json()
    for key, value in expected.items():
        assert key in actual, f"{said}: no {key}"
        if key in VARIES or value == "…":
            continue
        assert same(actual[key], value), f"{said}: {key} is {actual[key]!r}, the doc says {value!r}"


def same(actual: Any, documented: Any) -> bool:
    if isinstance(actual, str) and isinstance(documented, str):
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(actual) == datetime.fromisoformat(documented)
    return actual == documented


def test_every_fenced_block_is_known() -> None:
    unknown = [
        f"{b.where} ```{b.lang}" for b in ALL_BLOCKS if b.lang not in SHELL | NOT_RUN | {"python"}
    ]
    assert not unknown, f"fenced blocks in a language the test does not know: {unknown}"
    stale = [
        (doc, start)
        for doc, start in TEXT_BLOCKS
        if not any(b.document == doc and b.text.startswith(start) for b in ALL_BLOCKS)
    ]
    assert not stale, f"TEXT_BLOCKS names blocks that are gone: {stale}"


@pytest.fixture
def consumers(run_service: Callable[..., Any]) -> None:
    for service in SERVICES:
        run_service(service, relay=False)


@pytest.fixture
def cs_env(monkeypatch: pytest.MonkeyPatch, cs_settings: Settings) -> Iterator[None]:
    """`cs` reads its settings from the environment: this session's."""
    for name, value in {
        "DATABASE_URL": cs_settings.database_url,
        "AMQP_URL": cs_settings.amqp_url,
        "CS_BROKER_PREFIX": cs_settings.broker_prefix,
        "CS_JWT_SECRET": cs_settings.jwt_secret,
        "CS_PII_KEY": cs_settings.pii_key,
        "CS_PII_INDEX_KEY": cs_settings.pii_index_key,
    }.items():
        monkeypatch.setenv(name, value)
    yield


@pytest.mark.parametrize("document", DOCUMENTS)
def test_the_commands_of_the_document_run(
    document: str,
    cs_settings: Settings,
    client: Callable[[str], Any],
    service_db: Callable[[str], Database],
    consumers: None,
    cs_env: None,
    tmp_path: Path,
) -> None:
    shell = Shell(cs_settings, client, {s: service_db(s) for s in SERVICES}, tmp_path)
    for block in blocks(document):
        if block.lang in NOT_RUN or block.lang == "python":
            continue
        if is_text_block(block):
            continue
        for statement in statements(block):
            shell.run(statement, block.where)
    print("\n".join(shell.log))


PYTHON = [b for b in ALL_BLOCKS if b.lang == "python"]


@pytest.mark.parametrize("block", PYTHON, ids=[b.where for b in PYTHON])
def test_python_examples_compile(block: Block) -> None:
    compile(block.text, block.where, "exec")


def test_the_case_requested_example_opens_a_case(
    cs_settings: Settings,
    client: Callable[[str], Any],
    service_db: Callable[[str], Database],
    run_service: Callable[..., Any],
    auth: Callable[..., dict[str, str]],
) -> None:
    (example,) = [b for b in PYTHON if '"case.requested"' in b.text and "basic_publish" in b.text]
    local = "amqp://portal:portal-local@127.0.0.1:5672/%2F"
    assert f'"{local}"' in example.text and 'exchange="cs.inbound"' in example.text
    code = example.text.replace(f'"{local}"', repr(cs_settings.broker_url("portal"))).replace(
        'exchange="cs.inbound"', f"exchange={cs_settings.exchange('cs.inbound')!r}"
    )
    run_service("intake", relay=False)
    scope: dict[str, Any] = {}
    exec(compile(code, example.where, "exec"), scope)
    envelope = scope["envelope"]
    wait_handled(service_db("intake"), envelope["id"])
    data = envelope["data"]
    r = client("intake").get(
        f"/cases?channel={data['channel']}&region={data['region']}&per_page=100",
        headers=auth("agent"),
    )
    assert any(c["content"] == data["content"] for c in r.get_json()["items"]), r.get_json()


@pytest.mark.parametrize(
    "document", ["docs/operations.md", "docs/integration.md", "docs/supervisors.md"]
)
def test_each_audience_has_its_guide(document: str) -> None:
    text = (ROOT / document).read_text(encoding="utf-8")
    assert len(text.strip()) >= 2000, f"{document} is too short to guide anyone"
    assert any(b.document == document and b.lang in SHELL for b in ALL_BLOCKS)
