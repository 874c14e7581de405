"""The `llm` queue's workers: one task queue per model served (`llm.<model>`), so every request
lands on a worker that has its model loaded; as many slots per model as the GPU runs at once;
models warmed at start and reported on the worker's /health."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from activities.llm.routing import RouteError, model_queue, resolve_chain, served_models, split_ref
from activities.llm.types import ChatProvider, ProviderError
from core.settings import Settings

LLM_QUEUE = "llm"
log = logging.getLogger(__name__)


@dataclass
class LlmServing:
    """What an llm worker serves: models (`model` or `model@provider`) and slots per model;
    `warm` loads them at start (a GPU worker); `state` says how that went, per model."""

    models: list[str]
    slots: int
    warm: bool = False
    state: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(
        cls, settings: Settings, models: list[str] | None = None, slots: int | None = None
    ) -> LlmServing:
        chosen = models if models else served_models(settings)
        return cls(models=chosen, slots=slots or settings.llm_slots, warm=bool(models))

    def queues(self) -> list[str]:
        """`llm` (requests of runs from before per-model queues) and one queue per model."""
        named = [model_queue(split_ref(m)[0]) for m in self.models]
        return [LLM_QUEUE, *dict.fromkeys(named)]

    def health(self) -> dict[str, Any]:
        return {
            "models": [
                {"model": m, "queue": model_queue(split_ref(m)[0]), "state": self.state.get(m, "ready")}
                for m in self.models
            ],
            "slots_per_model": self.slots,
        }


async def warm_models(serving: LlmServing, providers: Mapping[str, ChatProvider], settings: Settings) -> None:
    """Load every served model now (at once) and record how it went; a model that does not
    load is reported on /health and logged, and the worker serves the others meanwhile."""

    async def warm(entry: str) -> None:
        serving.state[entry] = "warming"
        try:
            model, name = resolve_chain(entry, None, settings)[0]
            provider = providers.get(name)
            if provider is None:
                raise RouteError(f"no provider named '{name}' is configured")
            await provider.warm(model)
        except (ProviderError, RouteError) as exc:
            serving.state[entry] = f"failed: {exc}"
            log.warning("could not warm %s: %s", entry, exc)
        else:
            serving.state[entry] = "ready"
            log.info("warmed %s", entry)

    await asyncio.gather(*(warm(entry) for entry in serving.models))
