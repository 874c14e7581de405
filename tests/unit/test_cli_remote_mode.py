"""Which way the commands go with and without a stored login, and what they refuse, without a
server (the conftest points STEPWISE_CREDENTIALS_FILE at a test's own path)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from core.devserver import free_port
from core.stored_login import StoredLogin, login_path, save_login

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "lead-routing.json"


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def stored() -> StoredLogin:
    """A login to an address where nothing listens."""
    login = StoredLogin(url=f"http://127.0.0.1:{free_port()}", access_token="a", refresh_token="r")
    save_login(login_path(), login)
    return login


def test_without_a_login_inbox_still_needs_the_user_who_answers() -> None:
    code, _, err = run("inbox")
    assert code == 2
    assert "name the user who answers with --as USER" in err


def test_without_a_login_a_stored_definition_cannot_be_run() -> None:
    code, _, err = run("run", "--definition", "double", "--input", "{}")
    assert code == 2
    assert "--definition runs a definition stored in a Stepwise API: sign in with `stepwise login`" in err


def test_an_api_named_without_a_login_says_to_sign_in_there() -> None:
    code, _, err = run("inbox", "--api", "http://127.0.0.1:8000/api/v1")
    assert code == 1
    assert "sign in with `stepwise login --url http://127.0.0.1:8000` first" in err


def test_an_api_other_than_the_logins_is_refused(stored: StoredLogin) -> None:
    code, _, err = run("signal", "r-1", "paid", "--api", "http://127.0.0.1:1")
    assert code == 1
    assert f"the stored login is for {stored.url}, not http://127.0.0.1:1" in err


@pytest.mark.parametrize(
    "args",
    [
        ("inbox", "--as", "ada"),
        ("inbox", "--group", "editors"),
        ("respond", "r-1", "i-1", "--as", "ada"),
        ("run", str(EXAMPLE), "--owner", "ada"),
    ],
)
def test_with_a_login_the_identity_options_are_refused(stored: StoredLogin, args: tuple[str, ...]) -> None:
    code, _, err = run(*args)
    assert code == 2
    assert f"is not taken through the API at {stored.url}: you act as the signed-in user" in err


def test_with_a_login_a_definitions_folder_is_refused(stored: StoredLogin, tmp_path: Path) -> None:
    code, _, err = run("run", str(EXAMPLE), "--definitions", str(tmp_path))
    assert code == 2
    assert "`call` steps name definitions stored there" in err


def test_with_a_login_the_commands_go_to_the_api(stored: StoredLogin) -> None:
    code, _, err = run("whoami")
    assert code == 1
    assert f"cannot reach the Stepwise API at {stored.url}" in err
    code, _, err = run("run", str(EXAMPLE), "--input", "{}")
    assert code == 1
    assert f"cannot reach the Stepwise API at {stored.url}" in err


def test_a_damaged_credentials_file_is_named(tmp_path: Path) -> None:
    login_path().parent.mkdir(parents=True)
    login_path().write_text("{")
    code, _, err = run("inbox")
    assert code == 1
    assert f"{login_path()} is not a Stepwise login; sign in again with `stepwise login`" in err


def test_login_takes_a_password_or_a_key_not_both() -> None:
    code, _, err = run("login", "--password-stdin", "--api-key-stdin", stdin="x\n")
    assert code == 2
    assert "not both" in err


def test_whoami_and_logout_without_a_login() -> None:
    code, _, err = run("whoami")
    assert code == 1
    assert "not signed in" in err
    code, _, err = run("logout")
    assert code == 0
    assert "nothing to do" in err


def test_logout_removes_the_file_even_when_the_api_is_away(stored: StoredLogin) -> None:
    code, _, err = run("logout")
    assert code == 1
    assert "but the API did not revoke the session: cannot reach the Stepwise API" in err
    assert not login_path().exists()
