"""Local servers that speak each LLM provider's wire protocol, for the official SDKs to talk to.

with FakeOpenAI() as server:
    server.reply("Hello there")                        # the next reply's text
    server.reply_json({"city": "Oslo"})                # the next structured reply
    server.fail(429, "slow down", retry_after="3")     # then a rate limit
    server.script(Failure(500), Malformed(), Slow(5))  # or any mix, in order
    ... server.url ...                                 # the SDK's base URL
    server.last.body["messages"]                       # what the SDK sent
"""

from tests.llm_servers.anthropic_api import FakeAnthropic
from tests.llm_servers.base import Failure, FakeLlmServer, Json, Malformed, Recorded, Reply, Slow, Text
from tests.llm_servers.ollama_api import FakeOllama
from tests.llm_servers.openai_api import FakeOpenAI

__all__ = [
    "Failure",
    "FakeAnthropic",
    "FakeLlmServer",
    "FakeOllama",
    "FakeOpenAI",
    "Json",
    "Malformed",
    "Recorded",
    "Reply",
    "Slow",
    "Text",
]
