"""Form B: nodes and edges, with its own checks and the skip rule."""

from __future__ import annotations

from tests.helpers import evaluate, plan_of, problems_of

TRIAGE = """
input: {type: object, properties: {kind: {type: string}}}
nodes:
  - {id: classify, type: transform.extract, config: {category: "{{ input.kind }}"}}
  - id: route
    type: conditional
    config:
      condition: "{{ classify.output.category == 'technical' }}"
      true_edge: technical
      false_edge: general
  - {id: technical, type: transform.extract, config: {team: tech}, outputs_to_state: {team: team}}
  - {id: general, type: transform.extract, config: {team: front-desk}, outputs_to_state: {team: team}}
  - {id: reply, type: io.render_template, config: {template: "to {{ state.team }}"}, outputs_to_state: {msg: rendered}}
edges:
  - {source: start, target: classify}
  - {source: classify, target: route}
  - {source: technical, target: reply}
  - {source: general, target: reply}
"""


def test_conditional_routes_and_the_join_runs_once() -> None:
    plan = plan_of(TRIAGE)
    assert plan.form == "graph"
    assert evaluate(plan, {"kind": "technical"}) == {"team": "tech", "msg": "to tech"}
    assert evaluate(plan, {"kind": "billing"}) == {"team": "front-desk", "msg": "to front-desk"}


def test_skip_flows_on_until_a_taken_edge() -> None:
    plan = plan_of(
        """
        state: {log: []}
        nodes:
          - {id: gate, type: conditional, config: {condition: "{{ false }}", true_edge: a}}
          - {id: a, type: transform.extract, config: {v: 1}, outputs_to_state: {a: v}}
          - {id: b, type: transform.extract, config: {v: 2}, outputs_to_state: {b: v}}
          - {id: other, type: transform.extract, config: {v: 3}, outputs_to_state: {other: v}}
          - {id: join, type: transform.extract, config: {v: 4}, outputs_to_state: {join: v}}
        edges:
          - {source: start, target: gate}
          - {source: start, target: other}
          - {source: a, target: b}
          - {source: b, target: join}
          - {source: other, target: join}
        """
    )
    assert evaluate(plan) == {"log": [], "other": 3, "join": 4}


def test_aliases_resolve_to_modules() -> None:
    plan = plan_of(
        """
        nodes:
          - {id: ask, type: llm, config: {input: hi}}
          - {id: get, type: http, config: {url: "http://127.0.0.1/x"}}
        edges: [{source: start, target: ask}, {source: ask, target: get}]
        """
    )
    modules = [getattr(n, "module", None) for n in plan.body.nodes]
    assert modules == ["api.llm", "api.fetch"]


def test_cycle_is_reported_with_the_word_cycle() -> None:
    problems = problems_of(
        """
        nodes:
          - {id: a, type: transform.extract}
          - {id: b, type: transform.extract}
          - {id: c, type: transform.extract}
        edges:
          - {source: start, target: a}
          - {source: a, target: b}
          - {source: b, target: c}
          - {source: c, target: b}
        """
    )
    assert problems == [
        ("/edges/3", "cycle: b → c → b; a graph cannot loop back (use a loop block, or on_error goto)")
    ]


def test_dangling_edges_and_unknown_branch_targets() -> None:
    problems = dict(
        problems_of(
            """
            nodes:
              - {id: a, type: transform.extract}
              - {id: r, type: conditional, config: {condition: "{{ true }}", true_edge: aa}}
            edges:
              - {source: start, target: a}
              - {source: a, target: r}
              - {source: ghost, target: a}
              - {source: a, target: start}
            """
        )
    )
    assert problems["/nodes/1/config/true_edge"] == "there is no node 'aa' (did you mean 'a'?)"
    assert problems["/edges/2/source"] == "there is no node 'ghost'"
    assert problems["/edges/3/target"] == "start is where the run begins; no edge can lead to it"


def test_unreachable_nodes() -> None:
    assert problems_of(
        """
        nodes:
          - {id: a, type: transform.extract}
          - {id: island, type: transform.extract}
        edges: [{source: start, target: a}]
        """
    ) == [
        (
            "/nodes/1",
            "node 'island' is not reachable from start: add an edge to it from start or another node",
        )
    ]


def test_node_ids_may_not_shadow_template_names() -> None:
    problems = dict(
        problems_of(
            """
            nodes: [{id: state, type: transform.extract}]
            edges: [{source: start, target: state}]
            """
        )
    )
    assert problems["/nodes/0/id"] == "node id 'state' would clash with the template name state; rename it"


def test_references_need_a_path_of_edges() -> None:
    problems = dict(
        problems_of(
            """
            nodes:
              - {id: a, type: transform.extract, config: {v: 1}}
              - {id: b, type: transform.extract, config: {v: "{{ a.output.v }}", w: "{{ c.output.v }}"}}
              - {id: c, type: transform.extract, config: {v: "{{ a.outputs }}"}}
            edges:
              - {source: start, target: a}
              - {source: a, target: b}
              - {source: a, target: c}
            """
        )
    )
    assert set(problems) == {"/nodes/1/config/w", "/nodes/2/config/v"}
    assert "no path of edges leads from 'c'" in problems["/nodes/1/config/w"]
    assert problems["/nodes/2/config/v"] == "read a node's outputs as a.output.<name>, not a.outputs"


def test_conditional_only_routes() -> None:
    problems = dict(
        problems_of(
            """
            nodes:
              - {id: r, type: conditional, config: {condition: "{{ true }}", else_edge: x}, retry: {max_attempts: 2}}
            edges: [{source: start, target: r}]
            """
        )
    )
    assert "unknown key 'else_edge'" in problems["/nodes/0/config/else_edge"]
    assert problems["/nodes/0/retry"] == "a conditional node only routes: remove retry"
    assert problems["/nodes/0/config"] == "a conditional needs a true_edge, a false_edge or both"


def test_edge_from_a_conditional_must_be_one_of_its_branches() -> None:
    assert problems_of(
        """
        nodes:
          - {id: r, type: conditional, config: {condition: "{{ true }}", true_edge: a}}
          - {id: a, type: transform.extract}
          - {id: b, type: transform.extract}
        edges: [{source: start, target: r}, {source: r, target: a}, {source: r, target: b}]
        """
    ) == [
        (
            "/edges/2",
            "an edge from conditional 'r' must lead to its true_edge or false_edge, and 'b' is neither",
        )
    ]


def test_steps_and_nodes_are_exclusive() -> None:
    problems = dict(
        problems_of(
            """
            steps: [{id: a, module: transform.extract}]
            nodes: [{id: b, type: transform.extract}]
            edges: [{source: start, target: b}]
            """
        )
    )
    assert problems["/nodes"] == "use either steps or nodes and edges, not both"
