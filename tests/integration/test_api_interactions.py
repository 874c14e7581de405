"""Human steps and events over HTTP on a real dev server: the inbox of a group member, a
run's interactions, answers (accepted, refused by the validator, from someone not assigned),
events for `wait: {signal}` steps, and who may see what."""

from __future__ import annotations

from typing import Any

from tests.integration.api_client import Api
from tests.integration.run_team import Team

SIGN_OFF = """stepwise: 1
name: sign-off-{tag}
output: '{{ steps.ok.approved }}'
steps:
  - {id: ok, module: user.approve, inputs: {prompt: 'Ship it?', assignees: [reviewers-{tag}]}}
"""
PAID = """stepwise: 1
name: paid-{tag}
output: '{{ steps.w.payload }}'
steps:
  - {id: w, wait: {signal: paid}}
"""


def _ended(run: dict[str, Any]) -> bool:
    return run["state"] not in ("running", "waiting")


async def _waiting(team: Team, who: str, definition: str) -> str:
    run_id = await team.started(who, {"definition": team.name(definition)})
    await team.run_when(run_id, lambda run: run["state"] == "waiting")
    return run_id


async def test_a_group_member_answers_through_the_api_and_others_cannot(runs_api: Api) -> None:
    team = Team(runs_api)
    await team.sign_in_everyone()
    await team.upload(SIGN_OFF)
    run_id = await _waiting(team, "ada", "sign-off")

    async def in_carls_inbox() -> None:
        items = (await team.get("carl", "/inbox")).json()["items"]
        assert [(i["run_id"], i["type"], i["assignees"]) for i in items] == [
            (run_id, "user.approve", [team.reviewers])
        ]

    await team.eventually(in_carls_inbox)
    assert (await team.get("ben", "/inbox")).json()["items"] == []
    (open_one,) = (await team.get("carl", f"/runs/{run_id}/interactions")).json()
    assert open_one["prompt"] == "Ship it?"
    assert "approved" in open_one["answer_schema"]["properties"]
    path = f"/runs/{run_id}/interactions/{open_one['id']}"

    # Ben sees neither the run nor the interaction: 404, as for a run that does not exist.
    assert (await team.get("ben", f"/runs/{run_id}/interactions")).status_code == 404
    assert (await team.post("ben", path, {"approved": True})).status_code == 404
    # Carl may answer but does not see the run as a whole.
    assert (await team.get("carl", f"/runs/{run_id}")).status_code == 404
    # Ada owns the run but is not a reviewer: the run's validator refuses her.
    owner = await team.post("ada", path, {"approved": True})
    assert owner.status_code == 422
    assert f"{team.name('ada')} may not answer" in owner.json()["detail"]

    bad = await team.post("carl", path, {"approved": "yes"})
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith(
        f"the run refused the answer: answer to '{open_one['id']}' refused:"
    )
    good = await team.post("carl", path, {"approved": True, "comment": "fine"}, key="carl-1")
    assert good.status_code == 200, good.text
    assert (good.json()["answered_by"], good.json()["decided"]) == (team.name("carl"), True)
    # The same key again: the same reply, though the interaction has closed.
    again = await team.post("carl", path, {"approved": True, "comment": "fine"}, key="carl-1")
    assert again.status_code == 200, again.text
    assert again.json() == good.json()

    done = await team.run_when(run_id, _ended)
    assert (done["state"], done["output"]) == ("completed", True)
    assert "interaction.answer" in await runs_api.audit_actions(team.headers["root"])
    # Once the run has ended: its owner hears so, anyone else still gets 404, key or not.
    ended = await team.post("ada", path, {"approved": True})
    assert ended.status_code == 409
    assert "has ended" in ended.json()["detail"]
    assert (await team.post("ben", path, {"approved": True}, key="ben-1")).status_code == 404


async def test_the_inbox_comes_in_pages(runs_api: Api) -> None:
    team = Team(runs_api)
    await team.sign_in_everyone()
    await team.upload(SIGN_OFF)
    runs = [await _waiting(team, "ada", "sign-off") for _ in range(2)]

    async def both_listed() -> None:
        assert len((await team.get("carl", "/inbox")).json()["items"]) == 2

    await team.eventually(both_listed)
    first = (await team.get("carl", "/inbox", limit=1)).json()
    assert first["next_cursor"] is not None
    second = (await team.get("carl", "/inbox", limit=1, cursor=first["next_cursor"])).json()
    assert {i["run_id"] for i in [*first["items"], *second["items"]]} == set(runs)
    assert (await team.get("carl", "/inbox", cursor="%%%not-base64")).status_code == 422
    for run_id in runs:
        await team.post("otto", f"/runs/{run_id}/terminate")


async def test_an_event_reaches_a_signal_wait_once_per_key(runs_api: Api) -> None:
    team = Team(runs_api)
    await team.sign_in_everyone()
    await team.upload(PAID)
    run_id = await _waiting(team, "ada", "paid")
    assert (await team.post("ben", f"/runs/{run_id}/signals/paid", {"amount": 1})).status_code == 404
    unknown = await team.post("ada", f"/runs/{run_id}/signals/refund", {})
    assert unknown.status_code == 422
    assert "waits for no event named 'refund'" in unknown.json()["detail"]
    sent = await team.post("ada", f"/runs/{run_id}/signals/paid", {"amount": 120}, key="bank-tx-77")
    assert sent.status_code == 200, sent.text
    assert (sent.json()["name"], sent.json()["waited_for"]) == ("paid", True)
    again = await team.post("ada", f"/runs/{run_id}/signals/paid", {"amount": 120}, key="bank-tx-77")
    assert again.json() == sent.json()
    done = await team.run_when(run_id, _ended)
    assert (done["state"], done["output"]) == ("completed", {"amount": 120})
    actions = await runs_api.audit_actions(team.headers["root"])
    assert "run.signal" in actions
    assert "run.start" in actions
