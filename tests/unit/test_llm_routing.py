"""Model chains: aliases, providers, fallback order; what an llm worker serves; structured
output's checks."""

from __future__ import annotations

import pytest

from activities.llm.routing import RouteError, model_queue, resolve_chain, served_models, split_ref
from activities.llm.structured import repair_messages, reply_problems
from core.settings import Settings
from workers.llm import LlmServing


def settings(**aliases: str | list[str]) -> Settings:
    return Settings(llm_aliases=aliases, llm_default_model="@chat", llm_default_provider="ollama")


def test_a_model_may_name_its_provider() -> None:
    assert split_ref("qwen2.5:7b") == ("qwen2.5:7b", None)
    assert split_ref("gpt-4o-mini@openai") == ("gpt-4o-mini", "openai")
    assert split_ref("meta-llama/Llama-3.1-8B@vllm") == ("meta-llama/Llama-3.1-8B", "vllm")
    # What follows an @ is a provider only when it looks like a name.
    assert split_ref("org/model@rev/2") == ("org/model@rev/2", None)
    assert model_queue("qwen2.5:7b") == "llm.qwen2.5:7b"


def test_the_provider_of_a_model_is_its_own_then_the_steps_then_the_default() -> None:
    s = settings(chat="qwen2.5:7b")
    assert resolve_chain("m", None, s) == [("m", "ollama")]
    assert resolve_chain("m", "openai", s) == [("m", "openai")]
    assert resolve_chain("m@anthropic", "openai", s) == [("m", "anthropic")]


def test_aliases_expand_into_chains_in_order_without_repeats() -> None:
    s = settings(
        chat="qwen2.5:7b",
        generate=["qwen2.5:7b@ollama", "@cheap", "gpt-4o-mini@openai"],
        cheap="gpt-4o-mini@openai",
    )
    assert resolve_chain(None, None, s) == [("qwen2.5:7b", "ollama")]
    assert resolve_chain("@generate", None, s) == [("qwen2.5:7b", "ollama"), ("gpt-4o-mini", "openai")]
    assert resolve_chain(["@chat", "mistral:7b", "@cheap"], None, s) == [
        ("qwen2.5:7b", "ollama"),
        ("mistral:7b", "ollama"),
        ("gpt-4o-mini", "openai"),
    ]


def test_an_unknown_or_looping_alias_is_named_with_the_fix() -> None:
    s = settings(chat="qwen2.5:7b", a="@b", b=["x", "@a"])
    with pytest.raises(
        RouteError, match=r"'@nope' is not defined \(defined: @a, @b, @chat\).*STEPWISE_LLM_ALIASES"
    ):
        resolve_chain("@nope", None, s)
    with pytest.raises(RouteError, match="@a → @b → @a loop"):
        resolve_chain("@a", None, s)
    with pytest.raises(RouteError, match="empty"):
        resolve_chain(["x", " "], None, s)


def test_a_worker_without_models_serves_those_the_settings_name() -> None:
    s = Settings(
        llm_aliases={"chat": "qwen2.5:7b", "code": ["qwen2.5-coder:7b", "gpt-4o@openai"], "bad": "@missing"},
        llm_default_model="@chat",
        llm_models=["mistral:7b", "qwen2.5:7b"],
    )
    assert served_models(s) == ["qwen2.5:7b", "mistral:7b", "qwen2.5-coder:7b", "gpt-4o"]
    serving = LlmServing.from_settings(s)
    assert serving.warm is False
    assert serving.slots == s.llm_slots
    assert serving.queues()[:3] == ["llm", "llm.qwen2.5:7b", "llm.mistral:7b"]
    dedicated = LlmServing.from_settings(s, ["qwen2.5:7b", "qwen2.5:7b@vllm", "mistral:7b"], 2)
    assert dedicated.warm is True
    assert dedicated.slots == 2
    assert dedicated.queues() == ["llm", "llm.qwen2.5:7b", "llm.mistral:7b"]
    assert [m["state"] for m in dedicated.health()["models"]] == ["ready"] * 3


SCHEMA = {
    "type": "object",
    "properties": {"scenes": {"type": "array", "items": {"type": "string"}, "minItems": 3}},
    "required": ["scenes"],
}


def test_a_reply_is_read_as_json_even_in_a_fence() -> None:
    assert reply_problems('{"scenes": ["a", "b", "c"]}', SCHEMA) == ({"scenes": ["a", "b", "c"]}, [])
    assert reply_problems('```json\n{"scenes": ["a", "b", "c"]}\n```', SCHEMA)[1] == []


def test_what_is_wrong_with_a_reply_is_said_by_place() -> None:
    _, problems = reply_problems('{"scenes": ["a", 2]}', SCHEMA)
    assert problems == ["at /scenes: ['a', 2] is too short", "at /scenes/1: 2 is not of type 'string'"]
    _, problems = reply_problems("Sure! Here are the scenes:", SCHEMA)
    assert problems[0].startswith("the reply is not JSON: Expecting value at line 1 column 1")
    back = repair_messages("bad", problems)
    assert [m.role for m in back] == ["assistant", "user"]
    assert "the reply is not JSON" in back[1].content
    assert "only the corrected JSON" in back[1].content
