"""API keys, passwords and signed tokens, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from core.auth.api_keys import generate_key, key_matches, key_prefix, looks_like_key
from core.auth.passwords import hash_password, verify_password
from core.auth.scopes import SCOPES, role_scopes
from core.auth.tokens import TokenError, decode_access, decode_challenge, encode_access, encode_challenge

SECRET = SecretStr("unit-test-secret-key-0123456789abcdef")
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def test_api_keys_carry_256_random_bits_behind_a_visible_prefix() -> None:
    keys = [generate_key() for _ in range(50)]
    assert len({k.key for k in keys}) == 50
    for new in keys:
        assert looks_like_key(new.key)
        assert key_prefix(new.key) == new.prefix
        secret = new.key.removeprefix(new.prefix + "_")
        assert len(secret) >= 43  # 32 bytes, base64url
        assert key_matches(new.key, new.key_hash)
        assert new.key not in new.key_hash
    assert not key_matches(keys[0].key, keys[1].key_hash)


@settings(deadline=None)
@given(st.text(max_size=80))
def test_arbitrary_text_is_never_taken_for_a_key_prefix_of_the_wrong_shape(text: str) -> None:
    prefix = key_prefix(text)
    assert prefix is None or (prefix.startswith("sw_") and len(prefix) == 11)


def test_passwords_verify_only_against_their_own_hash() -> None:
    hashed = hash_password("a good password")
    assert hashed.startswith("$argon2id$")
    assert verify_password("a good password", hashed)
    assert not verify_password("a good passwore", hashed)
    assert not verify_password("a good password", "not a hash")


def test_access_tokens_expire_and_refuse_tampering() -> None:
    token = encode_access("u1", "member", ["g"], SECRET, NOW, ttl_s=60)
    claims = decode_access(token, SECRET, NOW + timedelta(seconds=59))
    assert (claims.sub, claims.role, claims.groups, claims.exp - claims.iat) == ("u1", "member", ["g"], 60)
    with pytest.raises(TokenError, match="has expired"):
        decode_access(token, SECRET, NOW + timedelta(seconds=61))
    with pytest.raises(TokenError, match="not valid"):
        decode_access(token, SecretStr("another-secret-key-0123456789abcdefgh"), NOW)


def test_a_2fa_challenge_is_not_an_access_token_and_vice_versa() -> None:
    challenge = encode_challenge("u1", SECRET, NOW)
    assert decode_challenge(challenge, SECRET, NOW) == "u1"
    with pytest.raises(TokenError):
        decode_access(challenge, SECRET, NOW)
    with pytest.raises(TokenError):
        decode_challenge(encode_access("u1", "admin", [], SECRET, NOW, 60), SECRET, NOW)


def test_only_admins_hold_the_admin_scope() -> None:
    assert role_scopes("admin") == set(SCOPES)
    assert "admin" not in role_scopes("operator") | role_scopes("member")
    assert role_scopes("nobody") == frozenset()
