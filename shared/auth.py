"""Bearer tokens (JWT, HS256) that name the caller and its roles, checked by every service.

A token's `sub` is a staff id or an internal system's name; `roles` come from ROLES; `scope`
holds extra permissions such as `pii:read`. `admin` may do everything.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ISSUER = "cs-platform"
ROLES = (
    "agent",
    "department_staff",
    "department_head",
    "supervisor",
    "trainer",
    "system",
    "admin",
)
SCOPES = ("pii:read",)
_ALGORITHM = "HS256"


class AuthError(Exception):
    """401: no token, or one that is forged, expired or malformed."""


@dataclass(frozen=True)
class Caller:
    subject: str
    roles: frozenset[str]
    scopes: frozenset[str]

    def has_role(self, *roles: str) -> bool:
        return "admin" in self.roles or bool(self.roles.intersection(roles))

    def has_scope(self, scope: str) -> bool:
        return "admin" in self.roles or scope in self.scopes


def mint_token(
    secret: str,
    subject: str,
    roles: Iterable[str],
    scopes: Iterable[str] = (),
    ttl: timedelta = timedelta(hours=12),
) -> str:
    roles, scopes = sorted(set(roles)), sorted(set(scopes))
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise ValueError(f"roles must be some of {', '.join(ROLES)}; got {roles}")
    if not subject.strip():
        raise ValueError("subject must not be empty")
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "sub": subject,
        "roles": roles,
        "scope": " ".join(scopes),
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


@functools.lru_cache(maxsize=4096)
def _decode(token: str, secret: str) -> tuple[str, tuple[str, ...], tuple[str, ...], int]:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[_ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "sub", "iss"]},
        )
    except jwt.PyJWTError as e:
        raise AuthError(f"invalid token: {e}") from None
    roles = claims.get("roles")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise AuthError("invalid token: roles must be a list")
    scopes = str(claims.get("scope", "")).split()
    return claims["sub"], tuple(roles), tuple(scopes), int(claims["exp"])


def verify_token(token: str, secret: str) -> Caller:
    """The caller a token names; raises AuthError. Verified tokens are cached until they expire."""
    subject, roles, scopes, exp = _decode(token, secret)
    if exp <= datetime.now(UTC).timestamp():
        raise AuthError("invalid token: Signature has expired")
    return Caller(subject, frozenset(roles), frozenset(scopes))


def caller_from_header(header: str | None, secret: str) -> Caller:
    if not header:
        raise AuthError("missing bearer token (Authorization: Bearer <token>)")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("the Authorization header must be 'Bearer <token>'")
    return verify_token(token.strip(), secret)
