"""Two-factor authentication end to end: enrol, confirm, sign in with a second step, turn off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from core.auth.totp import CodeReused, InvalidCode, time_step
from core.auth.two_factor import (
    Confirmation,
    TwoFactorState,
    WrongState,
    confirm_enrolment,
    disable,
    second_step,
    start_enrolment,
)

NOW = datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC)
STEP = timedelta(seconds=30)


def app_code(secret: str, at: datetime) -> str:
    """The code the user's authenticator app shows at `at`."""
    return pyotp.TOTP(secret).at(at)


@pytest.fixture(scope="module")
def confirmed() -> Confirmation:
    # Hashing ten backup codes is deliberately slow: enrol once for the tests that only read it.
    enrolment = start_enrolment(TwoFactorState(), "ada@example.com", "Stepwise")
    return confirm_enrolment(enrolment.state, app_code(enrolment.secret, NOW), NOW)


def test_enrolment_gives_a_pending_secret_its_uri_and_qr_code() -> None:
    enrolment = start_enrolment(TwoFactorState(), "ada@example.com", "Stepwise")
    assert enrolment.state.pending_secret == enrolment.secret
    assert not enrolment.state.enabled
    assert enrolment.state.secret is None
    assert f"secret={enrolment.secret}" in enrolment.uri
    assert enrolment.uri.startswith("otpauth://totp/Stepwise:ada%40example.com?")
    assert enrolment.png.startswith(b"\x89PNG")


def test_confirming_turns_two_factor_on_with_ten_backup_codes(confirmed: Confirmation) -> None:
    assert confirmed.state.enabled
    assert confirmed.state.secret is not None
    assert confirmed.state.pending_secret is None
    assert confirmed.state.last_step == time_step(NOW)
    assert len(confirmed.backup_codes) == len(confirmed.backup_hashes) == 10


def test_confirming_needs_a_started_enrolment() -> None:
    with pytest.raises(WrongState, match="start enrolment first"):
        confirm_enrolment(TwoFactorState(), "123456", NOW)


def test_confirming_with_a_wrong_code_keeps_two_factor_off() -> None:
    enrolment = start_enrolment(TwoFactorState(), "ada", "Stepwise")
    wrong = app_code(enrolment.secret, NOW + 5 * STEP)
    with pytest.raises(InvalidCode, match="scan the latest QR code"):
        confirm_enrolment(enrolment.state, wrong, NOW)


def test_starting_again_replaces_the_pending_secret() -> None:
    first = start_enrolment(TwoFactorState(), "ada", "Stepwise")
    second = start_enrolment(first.state, "ada", "Stepwise")
    assert second.secret != first.secret
    old = app_code(first.secret, NOW)
    if old != app_code(second.secret, NOW):  # two secrets share a code one time in a million
        with pytest.raises(InvalidCode):
            confirm_enrolment(second.state, old, NOW)
    assert confirm_enrolment(second.state, app_code(second.secret, NOW), NOW).state.enabled


def test_enrolling_or_confirming_again_while_on_is_refused(confirmed: Confirmation) -> None:
    with pytest.raises(WrongState, match="turn it off first"):
        start_enrolment(confirmed.state, "ada", "Stepwise")
    with pytest.raises(WrongState, match="already on"):
        confirm_enrolment(confirmed.state, "123456", NOW)


def test_the_confirmation_code_cannot_be_used_again_to_sign_in(confirmed: Confirmation) -> None:
    secret = confirmed.state.secret
    assert secret is not None
    with pytest.raises(CodeReused, match="wait for the next one"):
        second_step(
            confirmed.state, app_code(secret, NOW), confirmed.backup_hashes, NOW + 5 * timedelta(seconds=1)
        )


def test_sign_in_with_the_next_code_then_not_with_it_again(confirmed: Confirmation) -> None:
    secret = confirmed.state.secret
    assert secret is not None
    later = NOW + 10 * STEP
    passed = second_step(confirmed.state, app_code(secret, later), confirmed.backup_hashes, later)
    assert passed.factor == "totp"
    assert passed.backup_index is None
    assert passed.state.last_step == time_step(later)
    with pytest.raises(CodeReused):
        second_step(passed.state, app_code(secret, later), confirmed.backup_hashes, later)
    with pytest.raises(CodeReused):  # an earlier code still inside the window
        second_step(passed.state, app_code(secret, later - STEP), confirmed.backup_hashes, later)


def test_a_backup_code_signs_in_once(confirmed: Confirmation) -> None:
    typed = confirmed.backup_codes[3].upper()
    passed = second_step(confirmed.state, typed, confirmed.backup_hashes, NOW)
    assert passed.factor == "backup_code"
    assert passed.backup_index == 3
    assert passed.state == confirmed.state
    unused = confirmed.backup_hashes[:3] + confirmed.backup_hashes[4:]  # the caller marks it used
    with pytest.raises(InvalidCode, match="wrong or was already used"):
        second_step(confirmed.state, typed, unused, NOW)


def test_input_that_is_neither_kind_of_code_says_what_to_enter(confirmed: Confirmation) -> None:
    with pytest.raises(InvalidCode, match=r"6 digits .* or a backup code"):
        second_step(confirmed.state, "hello", confirmed.backup_hashes, NOW)


def test_there_is_no_second_step_while_two_factor_is_off() -> None:
    pending = start_enrolment(TwoFactorState(), "ada", "Stepwise").state
    for state in (TwoFactorState(), pending):
        with pytest.raises(WrongState, match="off for this account"):
            second_step(state, "123456", [], NOW)


def test_disabling_needs_a_fresh_code_and_turns_everything_off(confirmed: Confirmation) -> None:
    secret = confirmed.state.secret
    assert secret is not None
    with pytest.raises(CodeReused):
        disable(confirmed.state, app_code(secret, NOW), NOW)
    with pytest.raises(InvalidCode):
        disable(confirmed.state, "12345", NOW)
    off = disable(confirmed.state, app_code(secret, NOW + STEP), NOW + STEP)
    assert off == TwoFactorState()
    assert off.columns() == (None, False, None)
    with pytest.raises(WrongState):
        second_step(off, app_code(secret, NOW + 2 * STEP), [], NOW + 2 * STEP)


def test_disabling_with_a_backup_code_when_the_phone_is_lost(confirmed: Confirmation) -> None:
    off = disable(confirmed.state, confirmed.backup_codes[0], NOW, confirmed.backup_hashes)
    assert not off.enabled


def test_state_round_trips_through_the_user_columns(confirmed: Confirmation) -> None:
    pending = start_enrolment(TwoFactorState(), "ada", "Stepwise").state
    for state in (TwoFactorState(), pending, confirmed.state):
        assert TwoFactorState.from_columns(*state.columns()) == state
    assert pending.columns() == (pending.pending_secret, False, None)
    assert confirmed.state.columns() == (confirmed.state.secret, True, time_step(NOW))


def test_confirming_with_a_malformed_code_says_how_a_code_looks() -> None:
    enrolment = start_enrolment(TwoFactorState(), "ada", "Stepwise")
    with pytest.raises(InvalidCode, match="enter the 6 digits") as info:
        confirm_enrolment(enrolment.state, "12 34", NOW)
    assert "QR code" not in str(info.value)
