"""Trusted devices: remembered for 30 days, revocable, sent as a locked-down cookie."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from starlette.responses import Response

from core.auth.devices import (
    TrustedDeviceRecord,
    device_cookie,
    expires_at,
    hash_device_token,
    is_valid,
    new_device_token,
    recognises,
    revoke,
    touch,
    trust_device,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def test_a_token_is_opaque_random_and_stored_only_as_its_sha256() -> None:
    token, token_hash = new_device_token()
    assert len(token) >= 43  # 32 bytes, url-safe base64
    assert token_hash == hashlib.sha256(token.encode()).hexdigest() == hash_device_token(token)
    assert token not in token_hash
    assert new_device_token()[0] != token


def test_a_device_is_trusted_for_30_days() -> None:
    token, device = trust_device(7, "Firefox on a laptop", NOW)
    assert device.expires_at == expires_at(NOW) == NOW + timedelta(days=30)
    assert is_valid(device, NOW + timedelta(days=30) - SECOND)
    assert recognises(device, token, NOW + timedelta(days=29))
    assert not is_valid(device, NOW + timedelta(days=30))
    assert not recognises(device, token, NOW + timedelta(days=31))


def test_a_revoked_device_is_no_longer_trusted() -> None:
    token, device = trust_device(7, "phone", NOW)
    revoked = revoke(device, NOW + timedelta(days=2))
    assert revoked.revoked_at == NOW + timedelta(days=2)
    assert not is_valid(revoked, NOW + timedelta(days=2))
    assert not recognises(revoked, token, NOW + timedelta(days=3))
    assert revoke(revoked, NOW + timedelta(days=5)).revoked_at == NOW + timedelta(days=2)
    assert is_valid(device, NOW + timedelta(days=2))  # records are values: the caller stores the new one


def test_another_token_is_not_recognised() -> None:
    _, device = trust_device(7, "phone", NOW)
    other, _ = new_device_token()
    assert not recognises(device, other, NOW)


def test_using_a_device_records_when_but_does_not_extend_it() -> None:
    _, device = trust_device(7, "phone", NOW)
    used = touch(device, NOW + timedelta(days=20))
    assert used.last_used_at == NOW + timedelta(days=20)
    assert used.expires_at == device.expires_at


def test_a_device_gets_a_name_even_when_none_is_given() -> None:
    assert trust_device(7, "   ", NOW)[1].name == "unnamed device"
    assert len(trust_device(7, "x" * 1000, NOW)[1].name) == 200


def test_times_read_back_without_a_zone_count_as_utc() -> None:
    device = TrustedDeviceRecord(
        id=1,
        user_id=7,
        token_hash="ab",
        name="phone",
        created_at=NOW.replace(tzinfo=None),
        expires_at=(NOW + timedelta(days=30)).replace(tzinfo=None),
    )
    assert is_valid(device, NOW + timedelta(days=1))
    assert not is_valid(device, NOW + timedelta(days=30))


def test_the_cookie_is_http_only_secure_same_site_lax_for_30_days() -> None:
    response = Response()
    response.set_cookie(value="TOKEN", **device_cookie())
    header = response.headers["set-cookie"]
    assert header.startswith("__Host-stepwise_trusted_device=TOKEN;")
    assert "HttpOnly" in header
    assert "Secure" in header
    assert "SameSite=lax" in header
    assert f"Max-Age={30 * 24 * 3600}" in header
    assert "Path=/" in header
    assert "Domain" not in header


def test_plain_http_development_gets_a_cookie_without_the_host_prefix() -> None:
    response = Response()
    response.set_cookie(value="TOKEN", **device_cookie(secure=False))
    header = response.headers["set-cookie"]
    assert header.startswith("stepwise_trusted_device=TOKEN;")
    assert "Secure" not in header
    assert "HttpOnly" in header
