"""Signing and checking webhook deliveries, sealing secrets, and rendering the run input."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from core.webhooks import (
    SealError,
    SignatureRefused,
    new_hook_id,
    new_secret,
    open_sealed,
    parsed_body,
    render_input,
    seal,
    sign,
    template_problems,
    verify,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
T = int(NOW.timestamp())
KEY = SecretStr("test-only-secret-key-0123456789abcdef")


def _headers(
    secret: str, body: bytes, timestamp: int = T, more: dict[str, str] | None = None
) -> dict[str, str]:
    return {
        "x-stepwise-timestamp": str(timestamp),
        "x-stepwise-signature": sign(secret, timestamp, body),
        **(more or {}),
    }


def test_sign_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(b"whsec_abc", b"1767268800.{}", hashlib.sha256).hexdigest()
    assert sign("whsec_abc", 1767268800, b"{}") == f"sha256={expected}"


@settings(deadline=None)
@given(body=st.binary(max_size=500), skew=st.integers(-300, 300))
def test_a_signed_body_within_tolerance_verifies(body: bytes, skew: int) -> None:
    secret = new_secret()
    delivery = verify(_headers(secret, body, T + skew), body, [secret], 300, NOW)
    assert delivery.timestamp == T + skew
    assert delivery.id == hashlib.sha256(f"{T + skew}.".encode() + body).hexdigest()


@settings(deadline=None)
@given(body=st.binary(max_size=200), flip=st.integers(0, 199))
def test_a_changed_body_is_a_bad_signature(body: bytes, flip: int) -> None:
    secret = new_secret()
    headers = _headers(secret, body)
    changed = (
        body + b"x"
        if not body
        else body[: flip % len(body)] + bytes([body[flip % len(body)] ^ 1]) + body[flip % len(body) + 1 :]
    )
    with pytest.raises(SignatureRefused, match="bad signature"):
        verify(headers, changed, [secret], 300, NOW)


def test_another_secret_is_a_bad_signature_and_either_of_two_verifies() -> None:
    old, new = new_secret(), new_secret()
    with pytest.raises(SignatureRefused, match="bad signature"):
        verify(_headers(old, b"{}"), b"{}", [new], 300, NOW)
    assert verify(_headers(old, b"{}"), b"{}", [new, old], 300, NOW).timestamp == T
    both = f"{sign(old, T, b'{}')}, {sign(new, T, b'{}')}"
    assert verify({"x-stepwise-timestamp": str(T), "x-stepwise-signature": both}, b"{}", [new], 300, NOW)


@pytest.mark.parametrize("skew", [301, -301, 3600])
def test_a_timestamp_beyond_tolerance_either_way_is_stale(skew: int) -> None:
    secret = new_secret()
    with pytest.raises(SignatureRefused, match=r"stale timestamp.*300 s"):
        verify(_headers(secret, b"{}", T + skew), b"{}", [secret], 300, NOW)


def test_missing_or_malformed_headers_say_which() -> None:
    secret = new_secret()
    good = _headers(secret, b"{}")
    with pytest.raises(SignatureRefused, match="missing X-Stepwise-Timestamp"):
        verify({"x-stepwise-signature": good["x-stepwise-signature"]}, b"{}", [secret], 300, NOW)
    with pytest.raises(SignatureRefused, match="missing X-Stepwise-Signature"):
        verify({"x-stepwise-timestamp": str(T)}, b"{}", [secret], 300, NOW)
    with pytest.raises(SignatureRefused, match="not Unix seconds"):
        verify(good | {"x-stepwise-timestamp": "yesterday"}, b"{}", [secret], 300, NOW)
    with pytest.raises(SignatureRefused, match="sha256="):
        verify(good | {"x-stepwise-signature": "md5=00"}, b"{}", [secret], 300, NOW)


def test_a_sent_delivery_id_is_kept() -> None:
    secret = new_secret()
    headers = _headers(secret, b"{}", more={"x-stepwise-delivery": "evt-1"})
    assert verify(headers, b"{}", [secret], 300, NOW).id == "evt-1"


def test_sealed_secrets_open_with_the_same_key_only_and_differ_each_time() -> None:
    secret = new_secret()
    first, second = seal(secret, KEY), seal(secret, KEY)
    assert first != second
    assert secret not in first
    assert open_sealed(first, KEY) == open_sealed(second, KEY) == secret
    with pytest.raises(SealError, match="STEPWISE_SECRET_KEY"):
        open_sealed(first, SecretStr("another-key-entirely-0123456789abcdef"))


def test_ids_and_secrets_have_their_prefixes_and_are_new_each_time() -> None:
    assert new_hook_id().startswith("hk_")
    assert len(new_hook_id()) == 19
    assert new_secret().startswith("whsec_")
    assert new_secret() != new_secret()


def test_render_input_sees_body_headers_delivery_and_hook_but_not_the_signature() -> None:
    secret = new_secret()
    body = b'{"n": 4}'
    headers = _headers(secret, body, more={"x-source": "ci"})
    delivery = verify(headers, body, [secret], 300, NOW)
    template = {
        "n": "{{ body.n }}",
        "source": "{{ headers['x-source'] }}",
        "signed": "{{ 'x-stepwise-signature' in headers }}",
        "delivery": "{{ delivery.id }}",
        "hook": "{{ hook.id }}:{{ hook.definition }}",
    }
    parsed = parsed_body(body, "application/json; charset=utf-8")
    assert render_input(template, parsed, headers, delivery, "hk_1", "double") == {
        "n": 4,
        "source": "ci",
        "signed": False,
        "delivery": delivery.id,
        "hook": "hk_1:double",
    }
    assert render_input(None, parsed, headers, delivery, "hk_1", "double") == {"n": 4}
    assert parsed_body(b"plain words", "text/plain") == "plain words"
    with pytest.raises(ValueError, match="not JSON"):
        parsed_body(b"{nope", "application/json")


def test_template_problems_name_unknown_names() -> None:
    assert template_problems({"a": {"b": "{{ input.x }}"}, "c": "{{ body }}"}) == [
        (("a", "b"), "'input' is not known here; a webhook's input may use body, delivery, headers, hook")
    ]


def test_tolerance_counts_from_the_given_clock() -> None:
    secret = new_secret()
    later = NOW + timedelta(minutes=10)
    with pytest.raises(SignatureRefused, match="stale"):
        verify(_headers(secret, b"{}"), b"{}", [secret], 300, later)
