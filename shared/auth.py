"""Bearer tokens (JWT, HS256) that name the caller and its roles, checked by every service.

A token's `sub` is a staff id or an internal system's name (never blank); `roles` come from
ROLES; `scope` holds extra permissions such as `pii:read`, which no role implies (not even
`admin`, who passes every role check); `aud` names the services that accept it (all four unless
the minter chose); it lives at most MAX_TTL.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import jwt

from shared.clock import system_now
from shared.config import SERVICES

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
# a token is good for a working day or so, never for good
DEFAULT_TTL = timedelta(hours=12)
MAX_TTL = timedelta(hours=24)
# staff ids are at most 64 characters everywhere they are stored
MAX_SUBJECT = 64
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
        """A permission the token carries; no role implies one."""
        return scope in self.scopes


def _subject_problem(subject: object) -> str | None:
    if not isinstance(subject, str) or not subject.strip():
        return "subject must not be empty"
    if len(subject) > MAX_SUBJECT:
        return f"subject must be at most {MAX_SUBJECT} characters"
    return None


def mint_token(
    secret: str,
    subject: str,
    roles: Iterable[str],
    scopes: Iterable[str] = (),
    ttl: timedelta = DEFAULT_TTL,
    audience: Iterable[str] = SERVICES,
) -> str:
    """A token for `subject` with `roles` and `scopes`, accepted by the `audience` services for
    `ttl` (at most MAX_TTL)."""
    roles, scopes = sorted(set(roles)), sorted(set(scopes))
    audience = sorted(set(audience))
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise ValueError(f"roles must be some of {', '.join(ROLES)}; got {roles}")
    problem = _subject_problem(subject)
    if problem:
        raise ValueError(problem)
    if not audience or any(a not in SERVICES for a in audience):
        raise ValueError(f"audience must be some of {', '.join(SERVICES)}; got {audience}")
    if ttl > MAX_TTL:
        raise ValueError(f"a token lives at most {MAX_TTL.total_seconds() / 3600:g} hours")
    now = system_now()
    claims = {
        "iss": ISSUER,
        "sub": subject,
        "aud": audience,
        "roles": roles,
        "scope": " ".join(scopes),
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


@functools.lru_cache(maxsize=4096)
def _decode(token: str, secret: str, audience: str) -> tuple[Caller, int]:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[_ALGORITHM],
            issuer=ISSUER,
            audience=audience,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except jwt.InvalidAudienceError:
        raise AuthError(f"invalid token: not meant for {audience}") from None
    except jwt.PyJWTError as e:
        raise AuthError(f"invalid token: {e}") from None
    problem = _subject_problem(claims["sub"])
    if problem:
        raise AuthError(f"invalid token: {problem}")
    if claims["exp"] - claims["iat"] > MAX_TTL.total_seconds():
        raise AuthError(
            f"invalid token: it lives longer than {MAX_TTL.total_seconds() / 3600:g} hours"
        )
    roles = claims.get("roles")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise AuthError("invalid token: roles must be a list")
    scopes = str(claims.get("scope", "")).split()
    return Caller(claims["sub"], frozenset(roles), frozenset(scopes)), int(claims["exp"])


def verify_token(token: str, secret: str, audience: str) -> Caller:
    """The caller a token names, if it is meant for the service `audience`; raises AuthError.
    Verified tokens are cached until they expire (a `Caller` cannot be changed: one per token)."""
    caller, exp = _decode(token, secret, audience)
    if exp <= system_now().timestamp():
        raise AuthError("invalid token: Signature has expired")
    return caller


def caller_from_header(header: str | None, secret: str, audience: str) -> Caller:
    if not header:
        raise AuthError("missing bearer token (Authorization: Bearer <token>)")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("the Authorization header must be 'Bearer <token>'")
    return verify_token(token.strip(), secret, audience)
