"""The command line against a real `stepwise dev` through its API: login, run, inbox, respond,
signal, whoami, logout, and an expired access token refreshed.

The commands are given a Temporal port where nothing listens, so only a path through the API
can work. Access tokens live 1 second here, so most commands refresh on the way."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.devserver import free_port

ROOT = Path(__file__).parents[2]
SCRIPT = str(Path(sys.executable).parent / "stepwise")
PASSWORD = "remote cli password"
LEAD = '{"company": "X", "company_size": 900, "budget": 1}'


@dataclass
class DevStack:
    """A running `stepwise dev`, its API's address and the environment the CLI runs with."""

    url: str
    env: dict[str, str]
    credentials: Path
    key: str

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run `stepwise ARGS` as a user would."""
        return subprocess.run(
            [SCRIPT, *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def login(self) -> None:
        """Sign the CLI in as root."""
        # The address as `stepwise dev` prints it, with /api/v1: both forms are taken.
        done = self.cli(
            "login", "--url", f"{self.url}/api/v1", "--username", "root", "--password-stdin", stdin=PASSWORD
        )
        assert done.returncode == 0, done.stderr

    def stored(self) -> dict[str, Any]:
        """The credentials file as JSON."""
        value: dict[str, Any] = json.loads(self.credentials.read_text())
        return value

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A request of the test's own, with an API key (access tokens expire in a second here)."""
        headers = {"X-API-Key": self.key, **kwargs.pop("headers", {})}
        return httpx.request(method, f"{self.url}/api/v1{path}", headers=headers, timeout=30, **kwargs)


def eventually(check: Callable[[], None], timeout_s: float = 60.0) -> None:
    """Run `check` until it stops raising AssertionError; its last failure after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            check()
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def _key(api: str) -> str:
    for _ in range(5):  # a 1-second token can expire between the two calls on a busy machine
        pair = httpx.post(f"{api}/auth/login", json={"username": "root", "password": PASSWORD}, timeout=30)
        created = httpx.post(
            f"{api}/api-keys",
            json={"name": "test", "scopes": ["runs:read", "definitions:write"]},
            headers={"Authorization": f"Bearer {pair.json()['access_token']}"},
            timeout=30,
        )
        if created.status_code != 401:
            break
    assert created.status_code == 201, created.text
    key: str = created.json()["key"]
    return key


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """One `stepwise dev` for the module, on free ports, with 2-second access tokens (a token's
    expiry is a whole second, so a 1-second one can be dead on arrival)."""
    data = tmp_path_factory.mktemp("cli-remote")
    server_env = {
        **{k: v for k, v in os.environ.items() if k != "STEPWISE_API_URL"},
        "STEPWISE_DATA_DIR": str(data),
        "STEPWISE_TEMPORAL_PORT": str(free_port()),
        "STEPWISE_TEMPORAL_UI_PORT": str(free_port()),
        "STEPWISE_API_PORT": str(free_port()),
        "STEPWISE_ACCESS_TOKEN_TTL_S": "2",
        # With 2-second tokens the CLI refreshes on almost every call: the sign-in rate limits
        # (tested on their own) would refuse those refreshes on a slow machine.
        "STEPWISE_RATE_LIMIT_LOGIN_PER_MINUTE": "0",
        "STEPWISE_RATE_LIMIT_AUTH_PER_MINUTE": "0",
        "STEPWISE_CREDENTIALS_FILE": str(data / "nobody" / "credentials.json"),
    }
    with (data / "dev.log").open("w") as log:
        process = subprocess.Popen(
            [SCRIPT, "dev"], stdout=subprocess.PIPE, stderr=log, text=True, env=server_env
        )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("API:"), (data / "dev.log").read_text()
        url = first.split()[1]  # http://127.0.0.1:PORT/api/v1, as `stepwise dev` prints it
        while not process.stdout.readline().startswith("Database:"):
            pass
        created = subprocess.run(
            [SCRIPT, "user", "create", "root", "--admin", "--password-stdin"],
            env=server_env,
            input=PASSWORD + "\n",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert created.returncode == 0, created.stderr
        cli_env = {
            **server_env,
            "STEPWISE_TEMPORAL_PORT": str(free_port()),  # nothing there: only the API path works
            "STEPWISE_CREDENTIALS_FILE": str(data / "home" / "stepwise" / "credentials.json"),
        }
        yield DevStack(
            url.removesuffix("/api/v1"), cli_env, Path(cli_env["STEPWISE_CREDENTIALS_FILE"]), _key(url)
        )
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_login_with_a_wrong_password_fails_with_the_apis_message(stack: DevStack) -> None:
    stack.credentials.unlink(missing_ok=True)
    done = stack.cli("login", "--url", stack.url, "--username", "root", "--password-stdin", stdin="wrong\n")
    assert done.returncode == 1
    assert done.stderr == "Error: wrong username or password\n"
    assert not stack.credentials.exists()


def test_login_stores_the_session_whoami_names_the_user_and_logout_revokes_it(stack: DevStack) -> None:
    stack.login()
    assert stat.S_IMODE(stack.credentials.stat().st_mode) == 0o600
    assert stat.S_IMODE(stack.credentials.parent.stat().st_mode) == 0o700
    assert stack.stored()["url"] == stack.url
    me = stack.cli("whoami")
    assert me.returncode == 0, me.stderr
    assert (json.loads(me.stdout)["username"], json.loads(me.stdout)["role"]) == ("root", "admin")
    refresh_token = stack.stored()["refresh_token"]
    out = stack.cli("logout")
    assert out.returncode == 0, out.stderr
    assert f"signed out of {stack.url}" in out.stderr
    assert not stack.credentials.exists()
    # The refresh token stored last was revoked at the API.
    revoked = httpx.post(
        f"{stack.url}/api/v1/auth/refresh", json={"refresh_token": refresh_token}, timeout=30
    )
    assert revoked.status_code == 401
    after = stack.cli("whoami")
    assert after.returncode == 1
    assert "not signed in" in after.stderr
    assert "sign in with `stepwise login`" in after.stderr


def test_a_run_through_the_api_prints_the_documented_output(stack: DevStack) -> None:
    stack.login()
    example = ROOT / "docs" / "examples" / "lead-routing.json"
    done = stack.cli("run", str(example), "--wait", "--input", LEAD)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {
        "company": "X",
        "owner": "enterprise team",
        "priority": 1,
        "brief": "Call X this week: budget 1, 900 people.",
        "message": "X goes to enterprise team (priority 1)",
    }
    run_id = done.stderr.split("started run ")[1].split()[0]
    shown = stack.api("GET", f"/runs/{run_id}")
    assert shown.json()["owner"] == "root", shown.text
    refused = stack.cli("run", str(example), "--wait", "--input", '{"company": "X"}')
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        "Error: the input does not match the definition's input schema",
        "/input: 'company_size' is a required property",
        "/input: 'budget' is a required property",
    ]


def test_a_stored_definition_runs_by_name(stack: DevStack) -> None:
    stack.login()
    upload = stack.api(
        "POST",
        "/definitions",
        content=(ROOT / "docs" / "examples" / "lead-routing.json").read_bytes(),
        headers={"content-type": "application/json"},
    )
    assert upload.status_code in (200, 201), upload.text
    done = stack.cli(
        "run", "--definition", f"lead-routing@{upload.json()['version']}", "--wait", "--input", LEAD
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["owner"] == "enterprise team"


HUMAN_STEP = """\
stepwise: 1
name: remote-sign-off
output: "{{ [steps.go.confirmed, steps.paid.payload] }}"
steps:
  - {id: go, module: user.pause, inputs: {message: Continue, assignees: [root]}}
  - {id: paid, wait: {signal: payment_received}}
"""


def test_inbox_respond_and_signal_answer_a_run_started_through_the_cli(
    stack: DevStack, tmp_path: Path
) -> None:
    stack.login()
    definition = tmp_path / "sign-off.yaml"
    definition.write_text(HUMAN_STEP)
    started = stack.cli("run", str(definition))
    assert started.returncode == 0, started.stderr
    run_id = started.stderr.split("started run ")[1].split()[0]
    # `stepwise watch` follows the run through the API's event stream until it ends.
    watching = subprocess.Popen(
        [SCRIPT, "watch", run_id], env=stack.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    listed: list[dict[str, Any]] = []

    def in_the_inbox() -> None:
        done = stack.cli("inbox")
        assert done.returncode == 0, done.stderr
        listed[:] = [item for item in map(json.loads, done.stdout.splitlines()) if item["run_id"] == run_id]
        assert len(listed) == 1

    eventually(in_the_inbox)
    assert (listed[0]["step_id"], listed[0]["prompt"]) == ("go", "Continue")
    refused = stack.cli("respond", run_id, listed[0]["id"], "--as", "someone-else")
    assert refused.returncode == 2
    assert "--as is not taken through the API" in refused.stderr
    answered = stack.cli("respond", run_id, listed[0]["id"], "--data", "{}", "--key", "answer-1")
    assert answered.returncode == 0, answered.stderr
    reply = json.loads(answered.stdout)
    assert (reply["outputs"], reply["answered_by"]) == ({"confirmed": True}, "root")
    wrong = stack.cli("signal", run_id, "payment_sent", "--data", "1")
    assert wrong.returncode == 1
    assert "waits for no event named 'payment_sent'; it waits for payment_received" in wrong.stderr
    sent = stack.cli("signal", run_id, "payment_received", "--data", '{"amount": 5}')
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout)["name"] == "payment_received"

    def finished() -> None:
        detail = stack.api("GET", f"/runs/{run_id}").json()
        assert (detail["state"], detail["output"]) == ("completed", [True, {"amount": 5}])

    eventually(finished)
    out, err = watching.communicate(timeout=120)
    assert watching.returncode == 0, err
    lines = out.splitlines()
    assert "workflow_start" in lines[0]
    assert "remote-sign-off by root" in lines[0]
    assert any("interaction_request" in line and "go-1: Continue (for root)" in line for line in lines)
    assert any("interaction_response" in line and "answered by root" in line for line in lines)
    assert any("timer" not in line and "step_complete" in line and "paid" in line for line in lines)
    assert "workflow_complete" in lines[-2]
    assert "completed" in lines[-2]
    assert lines[-1] == f"[{'#' * 24}] 100% 2/2 steps"


def test_an_expired_access_token_is_refreshed_and_a_refused_refresh_says_to_sign_in(stack: DevStack) -> None:
    stack.login()
    first = stack.stored()

    def expired(token: str) -> Callable[[], None]:
        def check() -> None:
            me = httpx.get(
                f"{stack.url}/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}, timeout=30
            )
            assert me.status_code == 401

        return check

    eventually(expired(first["access_token"]))
    me = stack.cli("whoami")
    assert me.returncode == 0, me.stderr
    assert json.loads(me.stdout)["username"] == "root"
    second = stack.stored()
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    # Replaying the old refresh token revokes its sign-in: the next refresh is refused.
    replay = httpx.post(
        f"{stack.url}/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}, timeout=30
    )
    assert replay.status_code == 401
    eventually(expired(second["access_token"]))
    ended = stack.cli("whoami")
    assert ended.returncode == 1
    assert ended.stderr.rstrip().endswith("sign in again with `stepwise login`")
    assert "Traceback" not in ended.stderr


TICK = """\
stepwise: 1
name: cli-tick
input: {type: object, properties: {at: {type: string}}, required: [at]}
output: "{{ input.at }}"
steps:
  - {id: a, module: transform.extract, inputs: {n: 1}}
"""


def test_schedules_are_made_triggered_paused_changed_and_deleted_through_the_cli(stack: DevStack) -> None:
    stack.login()
    uploaded = stack.api("POST", "/definitions", content=TICK, headers={"content-type": "application/yaml"})
    assert uploaded.status_code in (200, 201), uploaded.text
    made = stack.cli(
        "schedule", "create", "--definition", "cli-tick", "--id", "cli-tick-yearly", "--cron", "0 0 1 1 *",
        "--time-zone", "Europe/Berlin", "--paused", "--note", "made paused",
        "--input", '{"at": "{{ schedule.scheduled_time }}"}',
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    shown = json.loads(made.stdout)
    assert (shown["id"], shown["paused"], shown["note"]) == ("cli-tick-yearly", True, "made paused")
    assert shown["next_times"][0].startswith(("2026-12-31T23:00:00", "2027-12-31T23:00:00"))
    bad = stack.cli("schedule", "create", "--definition", "cli-tick", "--cron", "0 25 * * *", "--input", "{}")
    assert bad.returncode == 1
    assert "/cron: '0 25 * * *': hour: 25 is out of range (0 to 23)" in bad.stderr
    triggered = stack.cli("schedule", "trigger", "cli-tick-yearly")
    assert triggered.returncode == 0, triggered.stderr

    def ran() -> None:
        runs = stack.api("GET", "/runs", params={"definition": "cli-tick"}).json()["items"]
        assert [r["state"] for r in runs] == ["completed"]
        assert runs[0]["owner"] == "root"

    eventually(ran)
    changed = stack.cli("schedule", "update", "cli-tick-yearly", "--cron", "0 3 * * *")
    assert changed.returncode == 0, changed.stderr
    after = json.loads(changed.stdout)
    assert (after["spec"]["cron"], after["spec"]["time_zone"], after["paused"]) == (
        "0 3 * * *",
        "Europe/Berlin",
        True,
    )
    unpaused = stack.cli("schedule", "unpause", "cli-tick-yearly", "--note", "go")
    assert json.loads(unpaused.stdout)["paused"] is False
    listed = stack.cli("schedule", "list")
    assert "cli-tick-yearly" in [json.loads(line)["id"] for line in listed.stdout.splitlines()]
    deleted = stack.cli("schedule", "delete", "cli-tick-yearly")
    assert deleted.returncode == 0, deleted.stderr
    gone = stack.cli("schedule", "show", "cli-tick-yearly")
    assert gone.returncode == 1
    assert "no schedule with id cli-tick-yearly" in gone.stderr


def test_rerun_through_the_cli_prints_the_new_run_and_waits_for_its_output(stack: DevStack) -> None:
    stack.login()
    example = ROOT / "docs" / "examples" / "lead-routing.json"
    first = stack.cli("run", str(example), "--wait", "--input", LEAD)
    assert first.returncode == 0, first.stderr
    run_id = first.stderr.split("started run ")[1].split()[0]
    started = stack.cli("rerun", run_id, "--from", "call_brief")
    assert started.returncode == 0, started.stderr
    new_id = started.stdout.strip()
    assert new_id != run_id
    assert f"started run {new_id} (rerun of {run_id}; may reuse: none)" in started.stderr

    def rerun_shown() -> None:
        shown = stack.api("GET", f"/runs/{new_id}").json()
        assert shown["rerun_of"] == {"run_id": run_id, "from_step": "call_brief"}, shown
        assert shown["state"] == "completed", shown

    eventually(rerun_shown)
    waited = stack.cli("rerun", run_id, "--from", "score", "--wait")
    assert waited.returncode == 0, waited.stderr
    assert json.loads(waited.stdout.splitlines()[-1]) == json.loads(first.stdout.splitlines()[-1])
    unknown = stack.cli("rerun", run_id, "--from", "nowhere")
    assert unknown.returncode == 1
    assert unknown.stderr == (
        "Error: from_step: plan 'lead-routing' has no step 'nowhere'; its steps are score, "
        "is_enterprise, is_qualified, enterprise_desk, inside_sales, self_serve, call_brief, assign\n"
    )
