"""The `module:api.llm` activity: one reply from one model of one provider (the workflow picks
them: routing, fallback), structured output with repair, errors in Temporal's terms."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.heartbeat import heartbeating
from activities.llm.live import LiveText, ProgressPoster, StepPlace
from activities.llm.routing import RouteError, resolve_chain
from activities.llm.structured import repair_messages, reply_problems
from activities.llm.types import ChatProvider, ChatReply, ChatRequest, Message, OnText, ProviderError, Usage
from core.settings import Settings
from workflows.engine.models import LlmTarget, ModuleCall, ModuleResult
from workflows.interpreter import validation_message
from workflows.modules.api import LlmInput, LlmOutput

# ProviderError kinds as the error types a step's `retry.non_retryable_errors` can name.
ERROR_TYPES = {
    "rate_limited": "RateLimited",
    "server": "ProviderUnavailable",
    "client": "ProviderRefused",
    "timeout": "ProviderTimeout",
    "connection": "ProviderUnreachable",
    "malformed": "MalformedReply",
}


class LlmActivities:
    """api.llm with the providers built from the settings; one instance per worker."""

    def __init__(
        self,
        providers: Mapping[str, ChatProvider],
        settings: Settings,
        progress: ProgressPoster | None = None,
    ) -> None:
        self.providers = providers
        self.settings = settings
        self.progress = progress

    @activity.defn(name="module:api.llm")
    async def llm(self, call: ModuleCall) -> ModuleResult:
        """api.llm: ask a model; with output_schema, the reply is JSON that matches it."""
        step = _validated(call)
        model, provider = self._target(step, call.target)
        chat = ChatRequest(
            model=model,
            messages=_messages(step),
            max_tokens=step.max_tokens,
            temperature=step.temperature,
            stop=[step.stop] if isinstance(step.stop, str) else list(step.stop or []),
            reasoning_effort=step.reasoning_effort,
            output_schema=step.output_schema if isinstance(step.output_schema, dict) else None,
            stream=step.stream,
        )
        async with heartbeating(), self._live(call, step.stream) as live:
            response, reply, usage, calls = await self._ask(provider, chat, live)
        output = LlmOutput(
            response=response,
            response_text=reply.text,
            usage={
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
                "total_tokens": usage.input_tokens + usage.output_tokens,
                "calls": calls,
            },
            model=model,
            provider=provider.name,
        )
        return ModuleResult(outputs=output.model_dump(mode="json"))

    def _target(self, step: LlmInput, target: LlmTarget | None) -> tuple[str, ChatProvider]:
        """The model and provider: chosen by the workflow's routing, or (a run from before
        it) the first of the chain the step names."""
        if target is not None:
            model, name = target.model, target.provider
        else:
            try:
                model, name = resolve_chain(step.model, step.provider, self.settings)[0]
            except RouteError as exc:
                raise ApplicationError(str(exc), type="InvalidInput", non_retryable=True) from None
        provider = self.providers.get(name)
        if provider is None:
            known = ", ".join(sorted(self.providers))
            raise ApplicationError(
                f"no LLM provider named '{name}' is configured on this worker (configured: {known}); "
                f"set its key (OPENAI_API_KEY, ANTHROPIC_API_KEY) or add it to STEPWISE_LLM_PROVIDERS",
                type="UnknownProvider",
                non_retryable=True,
            )
        return model, provider

    @contextlib.asynccontextmanager
    async def _live(self, call: ModuleCall, stream: bool) -> AsyncIterator[LiveText | None]:
        """With `stream: true` and a configured API, the text as it comes goes to the run's
        live stream; otherwise tokens only keep the heartbeat going."""
        if not stream or self.progress is None:
            yield None
            return
        info = activity.info()
        place = StepPlace(info.workflow_id or call.run_id, call.step_id, call.path, call.module, info.attempt)
        async with self.progress.streaming(place) as live:
            yield live

    async def _ask(
        self, provider: ChatProvider, chat: ChatRequest, live: LiveText | None
    ) -> tuple[Any, ChatReply, Usage, int]:
        """The reply, parsed when there is a schema; a reply that does not match it is sent
        back with what is wrong, up to llm_repair_attempts times."""
        usage = Usage()
        schema = chat.output_schema
        for attempt in range(self.settings.llm_repair_attempts + 1):
            try:
                reply = await provider.chat(chat, _on_text(live, attempt + 1) if chat.stream else None)
            except ProviderError as exc:
                raise _failure(exc, chat.model) from None
            usage += reply.usage
            if schema is None:
                return reply.text, reply, usage, attempt + 1
            value, problems = reply_problems(reply.text, schema)
            if not problems:
                return value, reply, usage, attempt + 1
            activity.logger.info("reply %d of %s does not match the output_schema", attempt + 1, chat.model)
            chat = ChatRequest(
                **{**chat.__dict__, "messages": [*chat.messages, *repair_messages(reply.text, problems)]}
            )
        raise ApplicationError(
            f"{chat.model} gave no reply matching the output_schema in {attempt + 1} tries; the last: "
            + "; ".join(problems),
            {"problems": problems, "reply": reply.text[:2000]},
            type="InvalidStructuredOutput",
            non_retryable=True,
        )


def _validated(call: ModuleCall) -> LlmInput:
    try:
        return LlmInput.model_validate(call.inputs)
    except ValidationError as exc:
        message = validation_message(call.module, exc)
        raise ApplicationError(message, type="InvalidInput", non_retryable=True) from None


def _messages(step: LlmInput) -> list[Message]:
    messages = [Message("system", step.system)] if step.system else []
    messages.extend(Message(m.role, m.content) for m in step.messages)
    if step.input is not None:
        messages.append(Message("user", step.input))
    return messages


def _on_text(live: LiveText | None, call: int) -> OnText:
    """What a streaming provider call does with each piece of text: beat the heartbeat, and
    hand it to the live stream when there is one."""
    add = live.on_text(call) if live is not None else None

    async def on_text(text: str) -> None:
        activity.heartbeat()
        if add is not None:
            await add(text)

    return on_text


def _failure(exc: ProviderError, model: str) -> ApplicationError:
    return ApplicationError(
        f"{exc.provider} ({model}): {exc.message}",
        {"status": exc.status, "kind": exc.kind},
        type=ERROR_TYPES[exc.kind],
        non_retryable=not exc.retryable,
        next_retry_delay=timedelta(seconds=exc.retry_after_s) if exc.retry_after_s else None,
    )
