"""Shape checks: unknown and missing keys, wrong types, every problem at its JSON pointer."""

from __future__ import annotations

from tests.helpers import problems_of


def test_unknown_key_is_reported_with_a_suggestion() -> None:
    problems = problems_of(
        """
        steps:
          - id: a
            module: transform.extract
            inptus: {x: 1}
        """
    )
    assert problems == [("/steps/0/inptus", "unknown key 'inptus': did you mean 'inputs'?")]


def test_unknown_top_level_key() -> None:
    problems = problems_of("descripton: x\nsteps: [{id: a, module: transform.extract}]\n")
    assert problems == [("/descripton", "unknown key 'descripton': did you mean 'description'?")]


def test_missing_required_key_is_reported_at_its_parent() -> None:
    problems = problems_of("stepwise: 1\nsteps: [{id: a, module: transform.extract}]\n", header=False)
    assert problems == [("/", "missing required key 'name'")]


def test_step_without_a_kind_names_the_closest_key() -> None:
    ((where, message),) = problems_of("steps: [{id: a, modul: transform.extract}]\n")
    assert where == "/steps/0"
    assert message.startswith("a step needs exactly one of: module, parallel")
    assert "did you mean 'module'?" in message


def test_bad_ids_names_and_durations_say_how_to_write_them() -> None:
    problems = dict(
        problems_of(
            """
            defaults: {timeout: 5 minutes}
            steps: [{id: Fetch, module: transform.extract}]
            """
        )
    )
    assert "use lowercase letters, digits and _" in problems["/steps/0/id"]
    assert "is not a duration" in problems["/defaults/timeout"]
    bad_name = dict(
        problems_of("stepwise: 1\nname: Bad_Name\nsteps: [{id: a, module: transform.extract}]\n", False)
    )
    assert "lowercase letters, digits and hyphens" in bad_name["/name"]


def test_language_version_must_be_1() -> None:
    problems = problems_of(
        "stepwise: 2\nname: x\nsteps: [{id: a, module: transform.extract}]\n", header=False
    )
    assert problems == [("/stepwise", "stepwise must be 1, the language version (got 2)")]


def test_union_values_get_one_message() -> None:
    problems = dict(
        problems_of(
            """
            steps:
              - {id: a, module: transform.extract, on_error: retry}
              - {id: b, module: transform.extract, if: [1]}
            """
        )
    )
    assert (
        problems["/steps/0/on_error"] == "on_error must be fail, continue or {goto: <step id>} (got 'retry')"
    )
    assert problems["/steps/1/if"] == "expected string or boolean (got [1])"


def test_broken_steps_do_not_hide_problems_elsewhere() -> None:
    problems = problems_of(
        """
        steps:
          - {id: a, modul: x}
          - {id: b, module: transform.extract, inputs: {v: "{{ state.nope }}"}}
          - {id: c, module: transform.extract, inputs: {v: "{{ steps.a.x }}"}}
        """
    )
    pointers = [where for where, _ in problems]
    assert pointers == ["/steps/0", "/steps/1/inputs/v"]


def test_nested_problems_have_deep_pointers() -> None:
    problems = problems_of(
        """
        steps:
          - id: p
            parallel:
              left:
                - {id: d, module: api.fetch, inputs: {url: x}, retry: {max_attempts: 0}}
        """
    )
    assert problems == [
        ("/steps/0/parallel/left/0/retry/max_attempts", "must be greater than or equal to 1 (got 0)")
    ]
