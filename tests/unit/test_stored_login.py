"""The command line's credentials file: where it lives and who may read it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from core.stored_login import (
    StoredLogin,
    StoredLoginError,
    load_login,
    login_path,
    remove_login,
    save_login,
)

TOKENS = StoredLogin(url="http://127.0.0.1:8000", access_token="a", refresh_token="r")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_file_named_by_the_environment_wins(tmp_path: Path) -> None:
    environ = {"STEPWISE_CREDENTIALS_FILE": str(tmp_path / "mine.json"), "XDG_CONFIG_HOME": "/elsewhere"}
    assert login_path(environ) == tmp_path / "mine.json"


def test_xdg_config_home_is_honoured(tmp_path: Path) -> None:
    assert login_path({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "stepwise" / "credentials.json"


def test_without_xdg_config_home_or_with_a_relative_one_it_is_under_dot_config() -> None:
    default = Path.home() / ".config" / "stepwise" / "credentials.json"
    assert login_path({}) == default
    assert login_path({"XDG_CONFIG_HOME": "relative/dir"}) == default


def test_a_saved_login_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "config" / "stepwise" / "credentials.json"
    save_login(path, TOKENS)
    assert load_login(path) == TOKENS
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert mode(path.parent.parent) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["credentials.json"]  # no temporary left


def test_a_file_readable_by_others_is_narrowed_when_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    path.write_text("{}")
    path.chmod(0o644)
    save_login(path, StoredLogin(url="http://127.0.0.1:8000", api_key="sw_x_y"))
    assert mode(path) == 0o600
    assert load_login(path) == StoredLogin(url="http://127.0.0.1:8000", api_key="sw_x_y")


def test_no_file_is_no_login_and_removing_it_twice_is_harmless(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    assert load_login(path) is None
    save_login(path, TOKENS)
    assert remove_login(path) is True
    assert remove_login(path) is False
    assert load_login(path) is None


@pytest.mark.parametrize("text", ["not json", '{"url": "http://x"}', '["a"]'])
def test_a_damaged_file_says_to_sign_in_again(tmp_path: Path, text: str) -> None:
    path = tmp_path / "credentials.json"
    path.write_text(text)
    with pytest.raises(StoredLoginError, match="sign in again with `stepwise login`") as info:
        load_login(path)
    assert str(path) in str(info.value)
