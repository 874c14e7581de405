"""Long runs continue as new (same run id, fresh history) and carry on exactly where they were."""

from __future__ import annotations

from core.runs import Prepared, start_run
from tests.helpers import plan_of
from tests.integration.conftest import HttpServer, Stack
from workflows.engine.models import STATUS_QUERY, RunStatus


async def test_a_loop_of_activities_crosses_continue_as_new_with_state_intact(
    stack: Stack, http_server: HttpServer
) -> None:
    settings = stack.settings.model_copy(update={"continue_as_new_after": 60})
    plan = plan_of(
        f"""
        state: {{total: 0, seen: []}}
        output: "{{{{ [state.total, state.seen, state.check, steps.before.v] }}}}"
        steps:
          - {{id: before, module: transform.extract, inputs: {{v: start}}}}
          - id: outer
            if: "{{{{ true }}}}"
            then:
              - id: many
                loop: {{until: "{{{{ loop.iteration >= 30 }}}}", max_iterations: 100}}
                steps:
                  - {{id: get, module: api.fetch, inputs: {{url: "{http_server.base}/n/{{{{ loop.iteration }}}}"}}}}
                  - id: add
                    module: transform.extract
                    inputs: {{t: "{{{{ state.total + steps.get.response.n }}}}", s: "{{{{ state.seen + [loop.iteration] }}}}"}}
                    outputs_to_state: {{total: t, seen: s}}
          - {{id: after, module: transform.extract, inputs: {{c: "{{{{ steps.before.v }}}}"}}, outputs_to_state: {{check: c}}}}
        """
    )
    handle = await start_run(stack.env.client, Prepared(plan), {}, settings)
    assert (await handle.result()).output == [465, list(range(1, 31)), "start", "start"]
    status = await handle.query(STATUS_QUERY, result_type=RunStatus)
    assert status.continued >= 3
    assert status.status == "completed"
    assert all(s.status in ("done", "skipped") for s in status.steps)
    history = await handle.fetch_history()
    assert len(history.events) < 100


async def test_top_level_steps_continue_as_new_between_nodes(stack: Stack, http_server: HttpServer) -> None:
    settings = stack.settings.model_copy(update={"continue_as_new_after": 15})
    steps = "\n".join(
        f'  - {{id: s{i}, module: api.fetch, inputs: {{url: "{http_server.base}/n/{i}"}}, outputs_to_state: {{n{i}: response}}}}'
        for i in range(8)
    )
    plan = plan_of(
        f'output: "{{{{ [steps.s0.response.n, steps.s7.response.n, state.n3.n] }}}}"\nsteps:\n{steps}\n'
    )
    handle = await start_run(stack.env.client, Prepared(plan), {}, settings)
    assert (await handle.result()).output == [0, 7, 3]
    status = await handle.query(STATUS_QUERY, result_type=RunStatus)
    assert status.continued >= 2
