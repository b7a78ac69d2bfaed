"""Encryption at rest and blind indexes for customers' personal data (pure: no I/O).

Every personal value is stored as `key id (4 bytes) || nonce (12) || AES-256-GCM ciphertext+tag`.
The key id is the first 4 bytes of SHA-256 of the derived key, so a blob names the key it needs:
after a rotation (`CS_PII_KEY` new, the previous one in `CS_PII_OLD_KEYS`) old rows still decrypt
and `cs pii rotate` re-encrypts them under the current key.

Lookups (phone, account number, e-mail) never see plaintext in SQL: the row carries
HMAC-SHA256(index key, kind ":" normalised value), a *blind index*. It uses its own key so that
the encryption key can rotate without rebuilding every index.

Key material is any string (base64 or not); it is stretched with HKDF-SHA256 into 32-byte keys,
with a different `info` for encryption and for the index, so one secret may serve both.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

if TYPE_CHECKING:
    from shared.config import Settings

KEY_ID_LEN = 4
NONCE_LEN = 12
TAG_LEN = 16
_ENCRYPTION_INFO = b"cs-intake-pii-encryption-v1"
_INDEX_INFO = b"cs-intake-pii-blind-index-v1"
INDEX_KINDS = ("phone", "account", "email")


class VaultError(Exception):
    """A blob that cannot be decrypted: damaged, tampered with, or under a key we do not hold.

    Messages name the key id at most, never any content.
    """


class UnknownKeyError(VaultError):
    """The blob was encrypted under a key that is neither current nor listed as old."""


def derive_key(material: str, info: bytes) -> bytes:
    """A 32-byte key from any secret string (its UTF-8 bytes, surrounding blanks ignored)."""
    secret = material.strip().encode()
    if not secret:
        raise ValueError("a PII key must not be empty")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:KEY_ID_LEN]


def normalise(kind: str, value: str) -> str:
    """The form a value is indexed in: phones as digits, e-mails lower-case, accounts upper-case."""
    if kind == "phone":
        return "".join(ch for ch in value if ch.isdigit())
    if kind == "email":
        return value.strip().lower()
    if kind == "account":
        return value.strip().upper()
    raise ValueError(f"unknown blind-index kind {kind!r}; one of {', '.join(INDEX_KINDS)}")


class Vault:
    """Encrypts, decrypts and blind-indexes personal data with the keys from the environment."""

    def __init__(self, current_key: str, old_keys: Sequence[str] = (), *, index_key: str) -> None:
        current = derive_key(current_key, _ENCRYPTION_INFO)
        self._current_id = key_id(current)
        # AESGCM objects are built once: they are immutable and safe to share between threads
        self._ciphers: dict[bytes, AESGCM] = {self._current_id: AESGCM(current)}
        for material in old_keys:
            old = derive_key(material, _ENCRYPTION_INFO)
            self._ciphers.setdefault(key_id(old), AESGCM(old))
        self._index_key = derive_key(index_key, _INDEX_INFO)

    @classmethod
    def from_settings(cls, settings: Settings) -> Vault:
        return cls(settings.pii_key, settings.pii_old_keys, index_key=settings.pii_index_key)

    @property
    def current_key_id(self) -> bytes:
        return self._current_id

    def encrypt(self, text: str) -> bytes:
        nonce = os.urandom(NONCE_LEN)
        # the key id is authenticated too: a blob cannot be relabelled to another key
        sealed = self._ciphers[self._current_id].encrypt(nonce, text.encode(), self._current_id)
        return self._current_id + nonce + sealed

    def decrypt(self, blob: bytes) -> str:
        blob = bytes(blob)
        if len(blob) < KEY_ID_LEN + NONCE_LEN + TAG_LEN:
            raise VaultError("encrypted value is too short to be one of ours")
        kid, nonce, sealed = (
            blob[:KEY_ID_LEN],
            blob[KEY_ID_LEN : KEY_ID_LEN + NONCE_LEN],
            blob[KEY_ID_LEN + NONCE_LEN :],
        )
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise UnknownKeyError(
                f"encrypted under key id {kid.hex()}, which is neither CS_PII_KEY nor in "
                "CS_PII_OLD_KEYS; add the key it was written with to CS_PII_OLD_KEYS"
            )
        try:
            return cipher.decrypt(nonce, sealed, kid).decode()
        except InvalidTag:
            raise VaultError(
                f"encrypted value under key id {kid.hex()} failed authentication "
                "(damaged or tampered with)"
            ) from None

    def needs_rotation(self, blob: bytes) -> bool:
        """True when the blob is not under the current key: `cs pii rotate` rewrites it."""
        return bytes(blob[:KEY_ID_LEN]) != self._current_id

    def blind_index(self, kind: str, value: str) -> bytes:
        """HMAC-SHA256 of `kind:normalised value`: equal inputs give equal bytes, nothing else."""
        message = f"{kind}:{normalise(kind, value)}".encode()
        return hmac.new(self._index_key, message, hashlib.sha256).digest()
