"""Every documented endpoint of every service refuses a missing token, an expired one, one
signed with another key, one not meant for the service (or meant for none), one with a blank
subject, and one whose roles are not enough — with a JSON body each time."""

from __future__ import annotations

import re
import time
import uuid
from datetime import timedelta

import jwt
import pytest

from shared.auth import ROLES, mint_token
from shared.config import SERVICES

METHODS = ("get", "post", "put", "patch", "delete")


def operations(client, service: str) -> list[tuple[str, str, list[str]]]:
    doc = client(service).get("/openapi.json").json
    found = []
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                params = item.get("parameters", []) + item[method].get("parameters", [])
                # path parameters are inline; shared ones (If-Match, ...) are $refs
                types = {p["name"]: p.get("schema", {}).get("type") for p in params if "name" in p}

                def value(m: re.Match, types: dict = types) -> str:
                    return "1" if types.get(m.group(1)) == "integer" else str(uuid.uuid4())

                url = re.sub(r"\{([^}]+)\}", value, path)
                found.append((method, url, item[method].get("x-roles", [])))
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_every_endpoint_names_its_roles(client, service):
    ops = operations(client, service)
    assert ops or service in ("followup",), f"{service} documents no endpoint"
    undocumented = [f"{m.upper()} {u}" for m, u, roles in ops if not roles]
    assert not undocumented, f"no x-roles on {undocumented}"


@pytest.mark.parametrize("service", SERVICES)
def test_every_endpoint_refuses_bad_tokens(client, cs_settings, service):
    c = client(service)
    expired = mint_token(cs_settings.jwt_secret, "s", ["admin"], ttl=timedelta(seconds=-10))
    other_key = jwt.encode(
        {"iss": "cs-platform", "sub": "mallory", "roles": ["admin"], "exp": 4102444800},
        "another-key-that-is-long-enough-for-hs256!!",
        algorithm="HS256",
    )
    elsewhere = mint_token(
        cs_settings.jwt_secret, "s", ["admin"], audience=[s for s in SERVICES if s != service]
    )
    # a token of the right key and audience, but with no audience or a blank subject
    now = int(time.time())
    claims = {"iss": "cs-platform", "roles": ["admin"], "iat": now, "exp": now + 600}
    no_audience = jwt.encode(dict(claims, sub="s"), cs_settings.jwt_secret, algorithm="HS256")
    blank = jwt.encode(dict(claims, sub=" ", aud=service), cs_settings.jwt_secret, "HS256")
    failures = []
    for method, url, roles in operations(client, service):
        for name, headers in (
            ("no token", {}),
            ("expired token", {"Authorization": f"Bearer {expired}"}),
            ("another key", {"Authorization": f"Bearer {other_key}"}),
            ("a token for the other services", {"Authorization": f"Bearer {elsewhere}"}),
            ("a token without audience", {"Authorization": f"Bearer {no_audience}"}),
            ("a blank subject", {"Authorization": f"Bearer {blank}"}),
        ):
            r = c.open(url, method=method.upper(), headers=headers, json={})
            if r.status_code != 401 or not r.is_json:
                failures.append(f"{method.upper()} {url} with {name}: {r.status_code}")
        outsiders = [role for role in ROLES if role not in roles]
        if outsiders:
            token = mint_token(cs_settings.jwt_secret, "outsider", [outsiders[0]])
            r = c.open(
                url, method=method.upper(), json={}, headers={"Authorization": f"Bearer {token}"}
            )
            if r.status_code != 403 or not r.is_json:
                failures.append(f"{method.upper()} {url} as {outsiders[0]}: {r.status_code}")
    assert not failures, "\n".join(failures)
