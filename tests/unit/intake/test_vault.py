"""The vault: AES-256-GCM with key ids, rotation, blind indexes (no I/O)."""

from __future__ import annotations

import pytest

from services.intake.domain.vault import KEY_ID_LEN, NONCE_LEN, UnknownKeyError, Vault, VaultError
from shared.config import Settings

KEY_A = "first-key-material"
KEY_B = "c2Vjb25kIGtleSBpbiBiYXNlNjQ="
INDEX = "index-key-material"


def vault(current: str = KEY_A, old: tuple[str, ...] = (), index: str = INDEX) -> Vault:
    return Vault(current, old, index_key=index)


def test_round_trip_of_any_text() -> None:
    v = vault()
    for text in ("张伟", "13800138000", "", "海淀区中关村大街1号 3-502", "zw@example.com"):
        assert v.decrypt(v.encrypt(text)) == text


def test_blobs_carry_the_key_id_and_a_fresh_nonce() -> None:
    v = vault()
    a, b = v.encrypt("张伟"), v.encrypt("张伟")
    assert a != b  # random nonce: equal values do not look equal at rest
    assert a[:KEY_ID_LEN] == b[:KEY_ID_LEN] == v.current_key_id
    assert a[KEY_ID_LEN : KEY_ID_LEN + NONCE_LEN] != b[KEY_ID_LEN : KEY_ID_LEN + NONCE_LEN]
    assert "张伟".encode() not in a


@pytest.mark.parametrize("position", [0, KEY_ID_LEN, KEY_ID_LEN + NONCE_LEN, -1])
def test_a_tampered_blob_is_refused(position: int) -> None:
    v = vault()
    blob = bytearray(v.encrypt("13800138000"))
    blob[position] ^= 0x01
    with pytest.raises(VaultError):
        v.decrypt(bytes(blob))


def test_a_truncated_blob_is_refused() -> None:
    v = vault()
    with pytest.raises(VaultError):
        v.decrypt(v.encrypt("x")[:20])


def test_an_unknown_key_id_is_a_clear_error_without_content() -> None:
    blob = vault(KEY_A).encrypt("13800138000")
    with pytest.raises(UnknownKeyError) as e:
        vault(KEY_B).decrypt(blob)
    assert blob[:KEY_ID_LEN].hex() in str(e.value) and "CS_PII_OLD_KEYS" in str(e.value)
    assert "13800138000" not in str(e.value)


def test_old_keys_still_decrypt_and_are_flagged_for_rotation() -> None:
    old = vault(KEY_A)
    blob = old.encrypt("张伟")
    rotated = vault(KEY_B, (KEY_A,))
    assert rotated.decrypt(blob) == "张伟"
    assert rotated.needs_rotation(blob)
    fresh = rotated.encrypt(rotated.decrypt(blob))
    assert not rotated.needs_rotation(fresh)
    assert vault(KEY_B).decrypt(fresh) == "张伟"
    assert not old.needs_rotation(blob)


def test_any_string_is_key_material_but_not_a_blank_one() -> None:
    assert vault("a").current_key_id != vault("b").current_key_id
    assert vault("a").decrypt(vault("a").encrypt("x")) == "x"
    with pytest.raises(ValueError):
        vault("  ")


def test_blind_index_is_deterministic_normalised_and_keyed() -> None:
    v = vault()
    assert v.blind_index("phone", "13800138000") == v.blind_index("phone", "138 0013-8000")
    assert v.blind_index("email", "ZW@Example.com ") == v.blind_index("email", "zw@example.com")
    assert v.blind_index("account", " acc-1001") == v.blind_index("account", "ACC-1001")
    assert len(v.blind_index("phone", "13800138000")) == 32
    # the kind is part of the message: equal text of another kind does not collide
    assert v.blind_index("phone", "1001") != v.blind_index("account", "1001")
    # another index key gives other hashes; the encryption key plays no part
    assert vault(index="other").blind_index("phone", "13800138000") != v.blind_index(
        "phone", "13800138000"
    )
    assert vault(KEY_B).blind_index("phone", "13800138000") == v.blind_index("phone", "13800138000")
    with pytest.raises(ValueError):
        v.blind_index("shoe_size", "42")


def test_encryption_and_index_keys_differ_even_from_one_secret() -> None:
    v = Vault(KEY_A, index_key=KEY_A)
    assert v.current_key_id != vault(INDEX).current_key_id
    assert v.decrypt(v.encrypt("x")) == "x"


def test_from_settings() -> None:
    settings = Settings().with_(pii_key=KEY_B, pii_old_keys=(KEY_A,), pii_index_key=INDEX)
    v = Vault.from_settings(settings)
    assert v.decrypt(vault(KEY_A).encrypt("张伟")) == "张伟"
    assert v.current_key_id == vault(KEY_B).current_key_id
    assert v.blind_index("phone", "13800138000") == vault().blind_index("phone", "13800138000")
