"""TOTP codes: which ones a user's sign-in accepts, with an injected clock."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.auth.totp import CodeReused, InvalidCode, new_secret, provisioning_uri, time_step, verify

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC)
STEP = timedelta(seconds=30)


def code(at: datetime, secret: str = SECRET) -> str:
    """What the user's authenticator app shows at `at` (pyotp, independent of the code under test)."""
    return pyotp.TOTP(secret).at(at)


def test_new_secret_is_160_random_bits_in_base32() -> None:
    secret = new_secret()
    assert len(base64.b32decode(secret)) == 20
    assert secret != new_secret()


def test_provisioning_uri_is_what_an_authenticator_app_reads() -> None:
    uri = provisioning_uri(SECRET, "ada@example.com", "Stepwise")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc, unquote(parts.path)) == (
        "otpauth",
        "totp",
        "/Stepwise:ada@example.com",
    )
    query = parse_qs(parts.query)
    assert query["secret"] == [SECRET]
    assert query["issuer"] == ["Stepwise"]
    parsed = pyotp.parse_uri(uri)
    assert isinstance(parsed, pyotp.TOTP)
    assert parsed.at(NOW) == code(NOW)


@pytest.mark.parametrize(
    ("account", "issuer"), [("", "Stepwise"), ("ada", ""), ("ada", "Step:wise"), ("a:b", "S")]
)
def test_provisioning_uri_refuses_an_unusable_label(account: str, issuer: str) -> None:
    with pytest.raises(ValueError, match=r"account|issuer"):
        provisioning_uri(SECRET, account, issuer)


def test_the_current_code_is_accepted_and_its_step_returned() -> None:
    assert verify(SECRET, code(NOW), None, NOW) == time_step(NOW)


@pytest.mark.parametrize("drift", [-1, 1])
def test_a_code_one_step_early_or_late_is_accepted(drift: int) -> None:
    assert verify(SECRET, code(NOW + drift * STEP), None, NOW) == time_step(NOW) + drift


@pytest.mark.parametrize("drift", [-2, 2, -10])
def test_a_code_two_steps_away_is_refused(drift: int) -> None:
    with pytest.raises(InvalidCode, match="wrong or has expired"):
        verify(SECRET, code(NOW + drift * STEP), None, NOW)


def test_a_code_expires_exactly_two_steps_after_its_own() -> None:
    issued = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    assert verify(SECRET, code(issued), None, issued + 2 * STEP - timedelta(seconds=1)) == time_step(issued)
    with pytest.raises(InvalidCode):
        verify(SECRET, code(issued), None, issued + 2 * STEP)


def test_the_same_code_twice_is_refused() -> None:
    step = verify(SECRET, code(NOW), None, NOW)
    with pytest.raises(CodeReused, match="already used; wait for the next one"):
        verify(SECRET, code(NOW), step, NOW + timedelta(seconds=5))


def test_an_earlier_code_after_a_later_one_is_refused() -> None:
    later = verify(SECRET, code(NOW + STEP), None, NOW)
    with pytest.raises(CodeReused):
        verify(SECRET, code(NOW), later, NOW)
    with pytest.raises(CodeReused):
        verify(SECRET, code(NOW - STEP), later, NOW)


def test_the_next_code_after_a_used_one_is_accepted() -> None:
    step = verify(SECRET, code(NOW), None, NOW)
    assert verify(SECRET, code(NOW + STEP), step, NOW + STEP) == step + 1


def test_a_code_from_another_secret_is_refused() -> None:
    other = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert code(NOW, other) not in {code(NOW + d * STEP) for d in (-1, 0, 1)}
    with pytest.raises(InvalidCode):
        verify(SECRET, code(NOW, other), None, NOW)


def test_spaces_and_dashes_in_a_typed_code_are_ignored() -> None:
    typed = code(NOW)
    assert verify(SECRET, f" {typed[:3]} {typed[3:]} ", None, NOW) == time_step(NOW)
    assert verify(SECRET, f"{typed[:3]}-{typed[3:]}", None, NOW) == time_step(NOW)


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "12345a", "١٢٣٤٥٦", "12.456"])
def test_malformed_codes_are_refused_with_how_a_code_looks(typed: str) -> None:
    with pytest.raises(InvalidCode, match="enter the 6 digits") as info:
        verify(SECRET, typed, None, NOW)
    assert info.value.field == "code"


def test_a_naive_clock_is_refused_rather_than_read_as_local_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(SECRET, code(NOW), None, NOW.replace(tzinfo=None))


secrets_ = st.binary(min_size=20, max_size=20).map(lambda b: base64.b32encode(b).decode())
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


@settings(deadline=None)
@given(secret=secrets_, now=moments, drift=st.sampled_from([-1, 0, 1]))
def test_any_code_within_one_step_is_accepted_once(secret: str, now: datetime, drift: int) -> None:
    typed = code(now + drift * STEP, secret)
    step = verify(secret, typed, None, now)
    assert step == time_step(now) + drift
    with pytest.raises(CodeReused):
        verify(secret, typed, step, now)


@settings(deadline=None)
@given(secret=secrets_, now=moments, drift=st.sampled_from([-3, -2, 2, 3]))
def test_no_code_outside_the_window_is_accepted(secret: str, now: datetime, drift: int) -> None:
    typed = code(now + drift * STEP, secret)
    # Two steps can share a code by chance (one in a million): then it is rightly accepted.
    assume(all(typed != code(now + d * STEP, secret) for d in (-1, 0, 1)))
    with pytest.raises(InvalidCode):
        verify(secret, typed, None, now)
