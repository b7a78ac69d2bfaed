"""Bearer tokens: minting, verifying, roles and scopes, and every way a token is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

import shared.auth
from shared.auth import (
    ISSUER,
    MAX_TTL,
    ROLES,
    AuthError,
    Caller,
    caller_from_header,
    mint_token,
    verify_token,
)
from shared.config import SERVICES

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
        "aud": ["intake", "routing"],
        "iat": now,
        "exp": now + timedelta(hours=1),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


# --- round trip ---------------------------------------------------------------------------


def test_round_trip() -> None:
    token = mint_token(SECRET, "agent-7", ["agent", "trainer"], ["pii:read"])
    assert verify_token(token, SECRET, "intake") == Caller(
        subject="agent-7",
        roles=frozenset({"agent", "trainer"}),
        scopes=frozenset({"pii:read"}),
    )


def test_minted_claims() -> None:
    token = mint_token(SECRET, "intake", ["system", "agent", "system"], ttl=timedelta(minutes=5))
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], issuer=ISSUER, audience="intake")
    assert claims["iss"] == "cs-platform"
    assert claims["aud"] == ["followup", "intake", "routing", "training"]
    assert claims["sub"] == "intake"
    assert claims["roles"] == ["agent", "system"]  # deduplicated and sorted
    assert claims["scope"] == ""
    assert claims["exp"] - claims["iat"] == 300
    assert abs(claims["iat"] - datetime.now(UTC).timestamp()) < 5
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_no_scopes_means_empty_scopes() -> None:
    caller = verify_token(mint_token(SECRET, "agent-7", ["agent"]), SECRET, "intake")
    assert caller.scopes == frozenset()


# --- roles and scopes ---------------------------------------------------------------------


def test_roles_and_scopes_of_an_ordinary_caller() -> None:
    caller = verify_token(mint_token(SECRET, "s-1", ["department_staff"]), SECRET, "intake")
    assert caller.has_role("department_staff")
    assert caller.has_role("supervisor", "department_staff")
    assert not caller.has_role("supervisor")
    assert not caller.has_role("department_head", "trainer")
    assert not caller.has_role()
    assert not caller.has_scope("pii:read")


def test_scope_grants_only_that_scope() -> None:
    caller = verify_token(mint_token(SECRET, "s-1", ["agent"], ["pii:read"]), SECRET, "intake")
    assert caller.has_scope("pii:read")
    assert not caller.has_scope("pii:write")
    assert not caller.has_role("supervisor")


def test_admin_has_every_role_but_no_scope_it_was_not_given() -> None:
    caller = verify_token(mint_token(SECRET, "root", ["admin"]), SECRET, "intake")
    assert caller.scopes == frozenset()
    for role in ROLES:
        assert caller.has_role(role)
    assert caller.has_role("not-even-a-role")
    assert not caller.has_scope("pii:read")
    assert not caller.has_scope("anything:else")
    reader = verify_token(mint_token(SECRET, "root", ["admin"], ["pii:read"]), SECRET, "intake")
    assert reader.has_scope("pii:read")


# --- mint_token refuses -------------------------------------------------------------------


@pytest.mark.parametrize("roles", [["wizard"], ["agent", "wizard"], []])
def test_mint_refuses_unknown_or_no_role(roles: list[str]) -> None:
    with pytest.raises(ValueError, match="^roles must be some of agent, department_staff"):
        mint_token(SECRET, "s-1", roles)


@pytest.mark.parametrize("subject", ["", "   ", "\t\n"])
def test_mint_refuses_empty_subject(subject: str) -> None:
    with pytest.raises(ValueError, match="^subject must not be empty$"):
        mint_token(SECRET, subject, ["agent"])


def test_mint_refuses_a_subject_longer_than_a_staff_id() -> None:
    with pytest.raises(ValueError, match="^subject must be at most 64 characters$"):
        mint_token(SECRET, "s" * 65, ["agent"])


@pytest.mark.parametrize("audience", [[], ["billing"], ["intake", "crm"]])
def test_mint_refuses_an_unknown_or_no_audience(audience: list[str]) -> None:
    with pytest.raises(ValueError, match="^audience must be some of intake, routing"):
        mint_token(SECRET, "s-1", ["agent"], audience=audience)


def test_mint_refuses_a_lifetime_beyond_the_bound() -> None:
    with pytest.raises(ValueError, match="^a token lives at most 24 hours$"):
        mint_token(SECRET, "s-1", ["agent"], ttl=MAX_TTL + timedelta(seconds=1))
    assert verify_token(mint_token(SECRET, "s-1", ["agent"], ttl=MAX_TTL), SECRET, "routing")


# --- audience -----------------------------------------------------------------------------


def test_a_token_is_for_all_four_services_by_default() -> None:
    token = mint_token(SECRET, "s-1", ["agent"])
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"] == sorted(SERVICES)
    for service in SERVICES:
        assert verify_token(token, SECRET, service).subject == "s-1"


def test_a_token_for_some_services_is_refused_by_the_others() -> None:
    token = mint_token(SECRET, "s-1", ["agent"], audience=["intake", "followup"])
    assert verify_token(token, SECRET, "intake").subject == "s-1"
    assert verify_token(token, SECRET, "followup").subject == "s-1"
    for service in ("routing", "training"):
        with pytest.raises(AuthError, match=f"^invalid token: not meant for {service}$"):
            verify_token(token, SECRET, service)


def test_refuses_a_token_without_audience() -> None:
    claims = valid_claims()
    del claims["aud"]
    with pytest.raises(AuthError, match='^invalid token: Token is missing the "aud" claim$'):
        verify_token(encode(claims), SECRET, "intake")


def test_refuses_a_token_for_a_single_other_audience() -> None:
    with pytest.raises(AuthError, match="^invalid token: not meant for intake$"):
        verify_token(encode(valid_claims(aud="training")), SECRET, "intake")


# --- verify_token refuses -----------------------------------------------------------------


def test_refuses_token_signed_with_another_secret() -> None:
    token = mint_token(OTHER_SECRET, "s-1", ["agent"])
    with pytest.raises(AuthError, match="^invalid token: Signature verification failed"):
        verify_token(token, SECRET, "intake")


def test_refuses_tampered_payload() -> None:
    header, _, signature = mint_token(SECRET, "s-1", ["agent"]).split(".")
    forged_payload = encode(valid_claims(roles=["admin"]), OTHER_SECRET).split(".")[1]
    with pytest.raises(AuthError, match="^invalid token: Signature verification failed"):
        verify_token(f"{header}.{forged_payload}.{signature}", SECRET, "intake")


def test_refuses_unsigned_token() -> None:
    token = jwt.encode(valid_claims(roles=["admin"]), None, algorithm="none")
    with pytest.raises(AuthError, match="^invalid token: "):
        verify_token(token, SECRET, "intake")


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_refuses_malformed_token(token: str) -> None:
    with pytest.raises(AuthError, match="^invalid token: "):
        verify_token(token, SECRET, "intake")


def test_refuses_expired_token() -> None:
    token = mint_token(SECRET, "s-1", ["agent"], ttl=timedelta(seconds=-1))
    with pytest.raises(AuthError, match="^invalid token: Signature has expired$"):
        verify_token(token, SECRET, "intake")


def test_refuses_a_cached_token_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    token = mint_token(SECRET, "s-1", ["agent"], ttl=timedelta(hours=1))
    assert verify_token(token, SECRET, "intake").subject == "s-1"  # now cached

    later = datetime.now(UTC) + timedelta(hours=2)
    monkeypatch.setattr(shared.auth, "system_now", lambda: later)
    with pytest.raises(AuthError, match="^invalid token: Signature has expired$"):
        verify_token(token, SECRET, "intake")


def test_refuses_wrong_issuer() -> None:
    with pytest.raises(AuthError, match="^invalid token: Invalid issuer$"):
        verify_token(encode(valid_claims(iss="someone-else")), SECRET, "intake")


def test_refuses_a_token_that_lives_longer_than_the_bound() -> None:
    now = datetime.now(UTC)
    claims = valid_claims(iat=now, exp=now + MAX_TTL + timedelta(minutes=1))
    with pytest.raises(AuthError, match="^invalid token: it lives longer than 24 hours$"):
        verify_token(encode(claims), SECRET, "intake")


@pytest.mark.parametrize("subject", ["", "  ", "x" * 65])
def test_refuses_a_blank_or_overlong_subject(subject: str) -> None:
    with pytest.raises(AuthError, match="^invalid token: subject must"):
        verify_token(encode(valid_claims(sub=subject)), SECRET, "intake")


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "iss", "aud"])
def test_refuses_missing_required_claim(claim: str) -> None:
    with pytest.raises(AuthError) as e:
        verify_token(encode(valid_claims(**{claim: None})), SECRET, "intake")
    assert str(e.value) == f'invalid token: Token is missing the "{claim}" claim'


@pytest.mark.parametrize("roles", ["agent", None, {"agent": True}, ["agent", 1]])
def test_refuses_roles_that_are_not_a_list_of_strings(roles: Any) -> None:
    claims = valid_claims()
    claims["roles"] = roles
    with pytest.raises(AuthError, match="^invalid token: roles must be a list$"):
        verify_token(encode(claims), SECRET, "intake")


def test_refuses_missing_roles() -> None:
    claims = valid_claims()
    del claims["roles"]
    with pytest.raises(AuthError, match="^invalid token: roles must be a list$"):
        verify_token(encode(claims), SECRET, "intake")


# --- caller_from_header -------------------------------------------------------------------


def test_caller_from_header() -> None:
    token = mint_token(SECRET, "s-1", ["supervisor"])
    for header in (f"Bearer {token}", f"bearer {token}", f"BEARER  {token} "):
        assert caller_from_header(header, SECRET, "intake") == Caller(
            "s-1", frozenset({"supervisor"}), frozenset()
        )


@pytest.mark.parametrize("header", [None, ""])
def test_header_missing(header: str | None) -> None:
    with pytest.raises(AuthError) as e:
        caller_from_header(header, SECRET, "intake")
    assert str(e.value) == "missing bearer token (Authorization: Bearer <token>)"


@pytest.mark.parametrize(
    "header", ["Basic dXNlcjpwYXNz", "Token abc", "abc.def.ghi", "Bearer", "Bearer ", "Bearer   "]
)
def test_header_not_bearer_or_empty_token(header: str) -> None:
    with pytest.raises(AuthError) as e:
        caller_from_header(header, SECRET, "intake")
    assert str(e.value) == "the Authorization header must be 'Bearer <token>'"


def test_header_with_forged_token() -> None:
    token = mint_token(OTHER_SECRET, "s-1", ["agent"])
    with pytest.raises(AuthError, match="^invalid token: "):
        caller_from_header(f"Bearer {token}", SECRET, "intake")
