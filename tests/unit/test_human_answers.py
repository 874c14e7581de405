"""Which answers a human step accepts, and what it outputs for them."""

from __future__ import annotations

from typing import Any

import pytest

from workflows.engine.human import (
    InvalidAnswer,
    Responder,
    answer_outputs,
    awaiting,
    may_answer,
    request_for,
)


def outputs(module: str, inputs: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    return answer_outputs(module, inputs, data, "ada")


def refused(module: str, inputs: dict[str, Any], data: dict[str, Any]) -> str:
    with pytest.raises(InvalidAnswer) as info:
        answer_outputs(module, inputs, data, "ada")
    return str(info.value)


def test_select_one_by_default() -> None:
    inputs = {"data": ["a", "b"]}
    assert outputs("user.select", inputs, {"selected_indices": [1]})["selected_data"] == ["b"]
    assert refused("user.select", inputs, {"selected_indices": [0, 1]}) == "choose exactly one item, not 2"
    assert "is not an item" in refused("user.select", inputs, {"selected_indices": [5]})


def test_select_many_within_bounds() -> None:
    inputs = {"data": [1, 2, 3, 4], "multi_select": True, "min_selections": 2, "max_selections": 3}
    assert outputs("user.select", inputs, {"selected_indices": [3, 0]})["selected_indices"] == [3, 0]
    assert refused("user.select", inputs, {"selected_indices": [0]}) == "choose between 2 and 3 items, not 1"
    assert refused("user.select", inputs, {"selected_indices": [0, 0]}) == "selected_indices repeats an item"


def test_select_review_asks_for_a_retry_with_feedback() -> None:
    result = outputs("user.select", {"data": [1]}, {"retry": True, "feedback": "more drama"})
    assert result == {
        "selected_indices": [],
        "selected_data": [],
        "retry_requested": True,
        "feedback": "more drama",
    }


def test_text_input_pattern_default_and_jump_back() -> None:
    inputs = {"validation_pattern": "[A-Z]{3}", "default": "ABC"}
    assert outputs("user.text_input", inputs, {"value": "XYZ"}) == {
        "value": "XYZ",
        "jump_back_requested": False,
    }
    assert outputs("user.text_input", inputs, {})["value"] == "ABC"
    assert "does not match the pattern" in refused("user.text_input", inputs, {"value": "xyz"})
    assert outputs("user.text_input", {}, {"jump_back": True})["jump_back_requested"] is True
    assert "an answer is required" in refused("user.text_input", {}, {})


def test_form_rows_are_checked_against_the_schema() -> None:
    inputs = {
        "data": [{}, {}],
        "schema": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]},
    }
    assert outputs("user.form", inputs, {"form_data": [{"n": 1}, {"n": 2}]}) == {
        "form_data": [{"n": 1}, {"n": 2}]
    }
    assert refused("user.form", inputs, {"form_data": [{"n": 1}, {"n": "x"}]}).startswith("form_data/1/n:")
    assert "a list of rows" in refused("user.form", inputs, {"form_data": {"n": 1}})


def test_approve_pause_and_file() -> None:
    assert outputs("user.approve", {}, {"approved": False, "comment": "no"}) == {
        "approved": False,
        "comment": "no",
        "decided_by": ["ada"],
        "data": None,
        "edited": False,
    }
    assert "'approved' is a required property" in refused("user.approve", {}, {})
    assert outputs("user.pause", {}, {}) == {"confirmed": True}
    assert refused(
        "user.file_input", {"extensions": [".pdf"]}, {"value": "ref", "filename": "a.exe"}
    ).startswith("filename:")


def test_who_may_answer_and_the_awaiting_attribute() -> None:
    open_to_editors = request_for(
        "user.pause", {"message": "go", "assignees": ["editors", "bob"]}, "p-1", "p", "t"
    )
    open_to_all = request_for("user.pause", {"message": "go"}, "q-1", "q", "t")
    assert may_answer(open_to_editors, Responder(user="ada", groups=["editors"]))
    assert may_answer(open_to_editors, Responder(user="bob"))
    assert not may_answer(open_to_editors, Responder(user="eve", groups=["sales"]))
    assert may_answer(open_to_all, Responder(user="eve"))
    assert awaiting([open_to_editors, open_to_all]) == ["*", "bob", "editors"]


def test_votes_reach_a_quorum_and_a_rejection_decides() -> None:
    from workflows.engine.human import Vote, check_vote, tally

    inputs = {"quorum": 2, "forbid_self_approval": True}
    assert tally(inputs, [Vote(user="a", approved=True)]) is None
    assert tally(inputs, [Vote(user="a", approved=True), Vote(user="b", approved=True, comment="ok")]) == {
        "approved": True,
        "comment": "ok",
        "decided_by": ["a", "b"],
        "data": None,
        "edited": False,
    }
    assert tally(inputs, [Vote(user="a", approved=True), Vote(user="b", approved=False, comment="no")]) == {
        "approved": False,
        "comment": "no",
        "decided_by": ["b"],
        "data": None,
        "edited": False,
    }
    with pytest.raises(InvalidAnswer, match="already answered"):
        check_vote(inputs, "owner", [Vote(user="a", approved=True)], Responder(user="a"))
    with pytest.raises(InvalidAnswer, match="forbid_self_approval"):
        check_vote(inputs, "owner", [], Responder(user="owner"))
    check_vote({"quorum": 2}, "owner", [], Responder(user="owner"))


def test_an_approver_may_edit_the_data_before_approving() -> None:
    inputs = {
        "prompt": "Pay?",
        "data": {"amount": 120},
        "schema": {"properties": {"amount": {"maximum": 500}}},
    }
    result = outputs("user.approve", inputs, {"approved": True, "data": {"amount": 90}})
    assert (result["data"], result["edited"]) == ({"amount": 90}, True)
    unchanged = outputs("user.approve", inputs, {"approved": True})
    assert (unchanged["data"], unchanged["edited"]) == ({"amount": 120}, False)
    assert "600 is greater than the maximum of 500" in refused(
        "user.approve", inputs, {"approved": True, "data": {"amount": 600}}
    )
    assert "only an approval carries edited data" in refused(
        "user.approve", inputs, {"approved": False, "data": {"amount": 1}}
    )
    assert "allow_edit: false" in refused(
        "user.approve", {**inputs, "allow_edit": False}, {"approved": True, "data": {"amount": 1}}
    )
    schema = request_for("user.approve", inputs, "pay-1", "pay", "now").answer_schema
    assert schema["properties"]["data"] == inputs["schema"]


def test_an_edit_needs_the_quorum_again() -> None:
    from workflows.engine.human import Vote, cast_vote, check_vote, tally

    inputs = {"quorum": 2, "data": "draft"}
    votes: list[Vote] = []
    cast_vote(votes, "a", answer_outputs("user.approve", inputs, {"approved": True}, "a"))
    cast_vote(votes, "b", answer_outputs("user.approve", inputs, {"approved": True, "data": "v2"}, "b"))
    # b's edit is a new version: a's approval no longer counts, and a may approve again.
    assert tally(inputs, votes) is None
    check_vote(inputs, None, votes, Responder(user="a"))
    with pytest.raises(InvalidAnswer, match="already answered"):
        check_vote(inputs, None, votes, Responder(user="b"))
    cast_vote(votes, "a", answer_outputs("user.approve", inputs, {"approved": True}, "a"))
    assert tally(inputs, votes) == {
        "approved": True,
        "comment": None,
        "decided_by": ["b", "a"],
        "data": "v2",
        "edited": True,
    }
