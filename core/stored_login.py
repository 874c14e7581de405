"""The command line's stored sign-in to a remote Stepwise API: one JSON file, readable by its
owner only."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from pydantic import BaseModel, ValidationError, model_validator

FILE_ENV = "STEPWISE_CREDENTIALS_FILE"
FILE_MODE = 0o600
FOLDER_MODE = 0o700


class StoredLoginError(Exception):
    """A credentials file that cannot be read or written; the message names it and the fix."""


class StoredLogin(BaseModel):
    """Where the API is and how to authenticate there: a token pair, or an API key."""

    url: str
    access_token: str | None = None
    refresh_token: str | None = None
    api_key: str | None = None

    @model_validator(mode="after")
    def _one_way_in(self) -> StoredLogin:
        has_tokens = self.access_token is not None and self.refresh_token is not None
        if has_tokens == (self.api_key is not None):
            raise ValueError("a login holds either access_token and refresh_token, or api_key")
        return self


def login_path(environ: Mapping[str, str] | None = None) -> Path:
    """`$STEPWISE_CREDENTIALS_FILE`, else `$XDG_CONFIG_HOME/stepwise/credentials.json`
    (`~/.config` when XDG_CONFIG_HOME is unset or, as the XDG spec says, not absolute)."""
    env = os.environ if environ is None else environ
    if env.get(FILE_ENV):
        return Path(env[FILE_ENV]).expanduser()
    config = env.get("XDG_CONFIG_HOME", "")
    base = Path(config) if config and Path(config).is_absolute() else Path.home() / ".config"
    return base / "stepwise" / "credentials.json"


def load_login(path: Path) -> StoredLogin | None:
    """The login stored at `path`; None when there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoredLoginError(f"cannot read the credentials file {path}: {exc.strerror}") from None
    try:
        return StoredLogin.model_validate(json.loads(text))
    except (json.JSONDecodeError, ValidationError, UnicodeDecodeError):
        raise StoredLoginError(
            f"{path} is not a Stepwise login; sign in again with `stepwise login` (it replaces the file)"
        ) from None


def save_login(path: Path, login: StoredLogin) -> None:
    """Write the login to `path` (mode 0600) in one step; missing folders are made 0700."""
    try:
        _make_folders(path.parent)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        # Created 0600 from the start, so the secret is never readable by others, even briefly.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        try:
            os.fchmod(descriptor, FILE_MODE)  # the umask may have narrowed it; never widened
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(login.model_dump_json(exclude_none=True, indent=2) + "\n")
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            raise
    except OSError as exc:
        raise StoredLoginError(f"cannot write the credentials file {path}: {exc.strerror}") from None


@contextlib.contextmanager
def login_lock(path: Path) -> Iterator[None]:
    """Hold the stored login's lock: two commands that refresh at once (`stepwise watch` in
    one terminal, `stepwise respond` in another) must not both spend the same refresh token,
    which the API takes for a stolen one and ends the session."""
    try:
        _make_folders(path.parent)
        descriptor = os.open(path.with_name(f".{path.name}.lock"), os.O_RDWR | os.O_CREAT, FILE_MODE)
    except OSError as exc:
        raise StoredLoginError(f"cannot lock the credentials file {path}: {exc.strerror}") from None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def remove_login(path: Path) -> bool:
    """Delete the stored login; False when there was none."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise StoredLoginError(f"cannot remove the credentials file {path}: {exc.strerror}") from None
    return True


def _make_folders(folder: Path) -> None:
    missing: list[Path] = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for created in reversed(missing):
        created.mkdir(mode=FOLDER_MODE)
        created.chmod(FOLDER_MODE)
