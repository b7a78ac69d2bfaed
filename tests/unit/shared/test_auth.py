"""Bearer tokens: minting, verifying, roles and scopes, and every way a token is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

import shared.auth
from shared.auth import (
    ISSUER,
    ROLES,
    AuthError,
    Caller,
    caller_from_header,
    mint_token,
    verify_token,
)

SECRET = "unit-test-secret-of-at-least-thirty-two-bytes"
OTHER_SECRET = "another-unit-test-secret-thirty-two-bytes-long"


def encode(claims: dict[str, Any], secret: str = SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def valid_claims(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "agent-7",
        "roles": ["agent"],
        "scope": "",
        "iat": now,
        "exp": now + timedelta(hours=1),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


# --- round trip ---------------------------------------------------------------------------


def test_round_trip() -> None:
    token = mint_token(SECRET, "agent-7", ["agent", "trainer"], ["pii:read"])
    assert verify_token(token, SECRET) == Caller(
        subject="agent-7",
        roles=frozenset({"agent", "trainer"}),
        scopes=frozenset({"pii:read"}),
    )


def test_minted_claims() -> None:
    token = mint_token(SECRET, "intake", ["system", "agent", "system"], ttl=timedelta(minutes=5))
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], issuer=ISSUER)
    assert claims["iss"] == "cs-platform"
    assert claims["sub"] == "intake"
    assert claims["roles"] == ["agent", "system"]  # deduplicated and sorted
    assert claims["scope"] == ""
    assert claims["exp"] - claims["iat"] == 300
    assert abs(claims["iat"] - datetime.now(UTC).timestamp()) < 5
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_no_scopes_means_empty_scopes() -> None:
    caller = verify_token(mint_token(SECRET, "agent-7", ["agent"]), SECRET)
    assert caller.scopes == frozenset()


# --- roles and scopes ---------------------------------------------------------------------


def test_roles_and_scopes_of_an_ordinary_caller() -> None:
    caller = verify_token(mint_token(SECRET, "s-1", ["department_staff"]), SECRET)
    assert caller.has_role("department_staff")
    assert caller.has_role("supervisor", "department_staff")
    assert not caller.has_role("supervisor")
    assert not caller.has_role("department_head", "trainer")
    assert not caller.has_role()
    assert not caller.has_scope("pii:read")


def test_scope_grants_only_that_scope() -> None:
    caller = verify_token(mint_token(SECRET, "s-1", ["agent"], ["pii:read"]), SECRET)
    assert caller.has_scope("pii:read")
    assert not caller.has_scope("pii:write")
    assert not caller.has_role("supervisor")


def test_admin_has_every_role_and_scope() -> None:
    caller = verify_token(mint_token(SECRET, "root", ["admin"]), SECRET)
    assert caller.scopes == frozenset()
    for role in ROLES:
        assert caller.has_role(role)
    assert caller.has_role("not-even-a-role")
    assert caller.has_scope("pii:read")
    assert caller.has_scope("anything:else")


# --- mint_token refuses -------------------------------------------------------------------


@pytest.mark.parametrize("roles", [["wizard"], ["agent", "wizard"], []])
def test_mint_refuses_unknown_or_no_role(roles: list[str]) -> None:
    with pytest.raises(ValueError, match="^roles must be some of agent, department_staff"):
        mint_token(SECRET, "s-1", roles)


@pytest.mark.parametrize("subject", ["", "   ", "\t\n"])
def test_mint_refuses_empty_subject(subject: str) -> None:
    with pytest.raises(ValueError, match="^subject must not be empty$"):
        mint_token(SECRET, subject, ["agent"])


# --- verify_token refuses -----------------------------------------------------------------


def test_refuses_token_signed_with_another_secret() -> None:
    token = mint_token(OTHER_SECRET, "s-1", ["agent"])
    with pytest.raises(AuthError, match="^invalid token: Signature verification failed"):
        verify_token(token, SECRET)


def test_refuses_tampered_payload() -> None:
    header, _, signature = mint_token(SECRET, "s-1", ["agent"]).split(".")
    forged_payload = encode(valid_claims(roles=["admin"]), OTHER_SECRET).split(".")[1]
    with pytest.raises(AuthError, match="^invalid token: Signature verification failed"):
        verify_token(f"{header}.{forged_payload}.{signature}", SECRET)


def test_refuses_unsigned_token() -> None:
    token = jwt.encode(valid_claims(roles=["admin"]), None, algorithm="none")
    with pytest.raises(AuthError, match="^invalid token: "):
        verify_token(token, SECRET)


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_refuses_malformed_token(token: str) -> None:
    with pytest.raises(AuthError, match="^invalid token: "):
        verify_token(token, SECRET)


def test_refuses_expired_token() -> None:
    token = mint_token(SECRET, "s-1", ["agent"], ttl=timedelta(seconds=-1))
    with pytest.raises(AuthError, match="^invalid token: Signature has expired$"):
        verify_token(token, SECRET)


def test_refuses_a_cached_token_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    token = mint_token(SECRET, "s-1", ["agent"], ttl=timedelta(hours=1))
    assert verify_token(token, SECRET).subject == "s-1"  # now cached

    later = datetime.now(UTC) + timedelta(hours=2)

    class Later(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            return later

    monkeypatch.setattr(shared.auth, "datetime", Later)
    with pytest.raises(AuthError, match="^invalid token: Signature has expired$"):
        verify_token(token, SECRET)


def test_refuses_wrong_issuer() -> None:
    with pytest.raises(AuthError, match="^invalid token: Invalid issuer$"):
        verify_token(encode(valid_claims(iss="someone-else")), SECRET)


@pytest.mark.parametrize("claim", ["exp", "sub", "iss"])
def test_refuses_missing_required_claim(claim: str) -> None:
    with pytest.raises(AuthError) as e:
        verify_token(encode(valid_claims(**{claim: None})), SECRET)
    assert str(e.value) == f'invalid token: Token is missing the "{claim}" claim'


@pytest.mark.parametrize("roles", ["agent", None, {"agent": True}, ["agent", 1]])
def test_refuses_roles_that_are_not_a_list_of_strings(roles: Any) -> None:
    claims = valid_claims()
    claims["roles"] = roles
    with pytest.raises(AuthError, match="^invalid token: roles must be a list$"):
        verify_token(encode(claims), SECRET)


def test_refuses_missing_roles() -> None:
    claims = valid_claims()
    del claims["roles"]
    with pytest.raises(AuthError, match="^invalid token: roles must be a list$"):
        verify_token(encode(claims), SECRET)


# --- caller_from_header -------------------------------------------------------------------


def test_caller_from_header() -> None:
    token = mint_token(SECRET, "s-1", ["supervisor"])
    for header in (f"Bearer {token}", f"bearer {token}", f"BEARER  {token} "):
        assert caller_from_header(header, SECRET) == Caller(
            "s-1", frozenset({"supervisor"}), frozenset()
        )


@pytest.mark.parametrize("header", [None, ""])
def test_header_missing(header: str | None) -> None:
    with pytest.raises(AuthError) as e:
        caller_from_header(header, SECRET)
    assert str(e.value) == "missing bearer token (Authorization: Bearer <token>)"


@pytest.mark.parametrize(
    "header", ["Basic dXNlcjpwYXNz", "Token abc", "abc.def.ghi", "Bearer", "Bearer ", "Bearer   "]
)
def test_header_not_bearer_or_empty_token(header: str) -> None:
    with pytest.raises(AuthError) as e:
        caller_from_header(header, SECRET)
    assert str(e.value) == "the Authorization header must be 'Bearer <token>'"


def test_header_with_forged_token() -> None:
    token = mint_token(OTHER_SECRET, "s-1", ["agent"])
    with pytest.raises(AuthError, match="^invalid token: "):
        caller_from_header(f"Bearer {token}", SECRET)
