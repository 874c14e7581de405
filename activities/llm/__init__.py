"""The `llm` queue: api.llm through the providers' official SDKs (Ollama, OpenAI and any
OpenAI-compatible server, Anthropic), structured output with repair, token usage."""
