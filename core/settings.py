"""Settings of a Stepwise process, from `STEPWISE_*` environment variables."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

# settings.worker_sandbox: which runs go through Temporal's workflow sandbox.
SandboxMode = Literal["always", "plugins", "never"]

# Accepted only with environment="development", so a dev stack starts with no set-up.
PLACEHOLDER_SECRET_KEY = "development-only-placeholder-secret-key-do-not-deploy"  # noqa: S105
MIN_SECRET_KEY_LENGTH = 32
_ORIGIN = re.compile(r"https?://[^/\s:]+(:[0-9]{1,5})?")


class SettingsError(ValueError):
    """Settings a process must not start with; the message names the variable to set."""


def load_settings() -> Settings:
    """Settings from the environment; a clean `SettingsError` (no input values, which may hold
    secrets) when they are refused."""
    try:
        return Settings()
    except ValidationError as exc:
        reasons = "; ".join(_reason(error) for error in exc.errors())
        raise SettingsError(f"invalid settings: {reasons}") from None


def _reason(error: ErrorDetails) -> str:
    where = ".".join(str(part) for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    return f"STEPWISE_{where.upper()}: {message}" if where else message


class LlmPrice(BaseModel):
    """What a hosted model costs, in US dollars per million tokens."""

    input_per_million: float = Field(ge=0)
    output_per_million: float = Field(ge=0)


class LlmBudget(BaseModel):
    """What one person's runs may spend on LLM calls in a calendar month (UTC)."""

    max_tokens: int | None = Field(default=None, ge=1)
    max_cost_usd: float | None = Field(default=None, gt=0)


class LlmProviderConfig(BaseModel):
    """A provider named in STEPWISE_LLM_PROVIDERS: which SDK speaks to it, where, with what key."""

    kind: Literal["ollama", "openai", "anthropic"]
    base_url: str | None = None
    api_key: SecretStr | None = None


class Settings(BaseSettings):
    """One settings object per process; read once at start-up, never at import."""

    # populate_by_name: fields with an alias (otlp_endpoint) are still set by name in code.
    model_config = SettingsConfigDict(env_prefix="STEPWISE_", extra="ignore", populate_by_name=True)

    data_dir: Path = Path(".stepwise")
    temporal_host: str = "127.0.0.1"
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    # Where people open the Temporal UI, e.g. https://temporal.example.org: the web UI links each
    # run there. Unset in development: http://<temporal_host>:<temporal_ui_port>, the dev server's.
    temporal_ui_url: str | None = None
    # The built web UI the API serves at / (`make web`); unset: web/dist of the source tree.
    web_dist: Path | None = None
    temporal_namespace: str = "default"
    # Outgoing HTTP (api.fetch): internal addresses are refused unless listed here
    # (host names, addresses or CIDR ranges), e.g. STEPWISE_FETCH_ALLOW_HOSTS='["127.0.0.1"]'.
    fetch_allow_hosts: list[str] = []
    fetch_timeout_s: float = 30.0
    fetch_max_bytes: int = 1024 * 1024
    worker_max_concurrent_activities: int = 100
    # Per queue, overriding the above: STEPWISE_WORKER_QUEUE_CONCURRENCY='{"llm": 2, "media": 4}'.
    worker_queue_concurrency: dict[str, int] = {}
    worker_max_concurrent_workflow_tasks: int = Field(default=100, ge=2)
    # Runs a workflow worker keeps in memory between workflow tasks (the sticky cache); a run
    # evicted from it replays its history at its next task. Keep it above the runs in flight.
    worker_max_cached_workflows: int = Field(default=1000, ge=0)
    # Concurrent workflow task polls per workflow worker (the SDK's default is 5).
    worker_workflow_task_polls: int = Field(default=5, ge=2)
    # Which runs go through Temporal's sandbox, which catches non-deterministic calls (a clock,
    # I/O) in a plugin's pure modules: `plugins` those whose plans run a plugin's code inside the
    # workflow (workers/runner.py), `always` every run, `never` none (only where every plugin
    # module has been reviewed). `true` and `false` mean always and never
    # (docs/fast-path.md#worker-tuning).
    worker_sandbox: SandboxMode = "plugins"
    # Freeze the objects a worker process has loaded when its workers start (workers/heap.py), so
    # the garbage collector's full collections walk only what runs allocate.
    worker_gc_freeze: bool = True
    worker_shutdown_grace_s: float = 10.0
    # Ask Temporal to hand a new run's first workflow task straight back to a workflow worker in
    # this process (eager workflow start: one round trip less). It takes effect only where this
    # process's client also runs a workflow worker and the server enables it
    # (system.enableEagerWorkflowStart; docs/engine.md); elsewhere the run starts as usual.
    eager_start: bool = True
    # Queues whose workers `stepwise api` runs in its own process, e.g. '["stepwise"]' (the API's
    # runs then start eagerly); empty: the API runs none (`stepwise worker` does).
    api_worker_queues: list[str] = []
    # A run continues as new (same run id, fresh history) once its history has this many events.
    continue_as_new_after: int = 2_000
    # Put before every task queue name, to keep environments (or tests) sharing one Temporal apart.
    task_queue_prefix: str = ""
    # How long POST /api/v1/modules/{name}/test waits for an activity module's result.
    module_test_timeout_s: float = 30.0
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # OpenID Connect login (docs/oidc.md): on when the issuer and the client id are set.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_redirect_uri: str | None = None
    environment: Literal["development", "production"] = "development"
    # Empty: a SQLite file in data_dir. PostgreSQL: postgresql+asyncpg://user:password@host/db.
    database_url: str = ""
    # Signs access tokens (HS256); outside development it must be set and not the placeholder.
    secret_key: SecretStr = SecretStr(PLACEHOLDER_SECRET_KEY)
    access_token_ttl_s: int = 900
    # Payload encryption (docs/encryption.md): `id:base64key` entries, the first seals; or a file
    # of them. Unset: `<data dir>/encryption-keys` when it exists (the embedded stack makes it).
    encryption_keys: SecretStr | None = None
    encryption_key_file: Path | None = None
    refresh_token_ttl_s: int = 30 * 24 * 3600
    # How long an API process keeps who a token or API key stands for (role, groups, active,
    # key state) without reading the database; changes made through that process apply at
    # once, others (another replica, the CLI) within this time. 0 reads it on every request.
    auth_cache_s: float = Field(default=5.0, ge=0)
    # How long an API process keeps which version of each definition is the latest (a run
    # started by name gets it); an upload through that process applies at once, one through
    # another replica within this time. 0 reads it on every start. `name@N` is always exact.
    definitions_cache_s: float = Field(default=5.0, ge=0)
    # How many run events (of executions that have ended, whose history never changes) an API
    # process keeps in memory, so reading a finished run again asks Temporal nothing. 0: none.
    events_cache_events: int = Field(default=100_000, ge=0)
    # Browser origins allowed to call the API (scheme://host[:port]); ["*"] allows any, without credentials.
    cors_origins: list[str] = []
    # Finished runs older than this many days are deleted from Temporal by the API (unset: kept
    # as long as the Temporal namespace's own retention keeps them).
    retention_days: int | None = Field(default=None, ge=1)
    retention_check_s: float = 3600.0
    # The name authenticator apps show next to a user's two-factor codes.
    two_factor_issuer: str = "Stepwise"
    # Hardening (docs/api.md#hardening). Attempts per client address (and, for login, per username)
    # per minute on the sign-in endpoints; 0 switches a limit off. Counted in each API process.
    rate_limit_login_per_minute: int = Field(default=10, ge=0)
    rate_limit_auth_per_minute: int = Field(default=60, ge=0)
    # Keep the rate limits in Redis (e.g. redis://127.0.0.1:6379/0), shared by every API replica.
    rate_limit_redis_url: str | None = None
    max_body_bytes: int = Field(default=1024 * 1024, ge=1)
    # The largest body a webhook delivery (POST /api/v1/hooks/{id}) may have, in place of the above.
    webhook_max_body_bytes: int = Field(default=1024 * 1024, ge=1)
    # Send Strict-Transport-Security on plain-http requests too (a TLS proxy that hides the scheme).
    hsts: bool = False
    # Live step progress (the tokens of `stream: true` api.llm steps, docs/llm.md#streaming):
    # workers post it to the API at worker_api_url (e.g. http://api:8000), authenticated with
    # worker_token, which the API checks. Both unset: steps stream nothing (results still come).
    worker_token: SecretStr | None = None
    worker_api_url: str | None = None
    # How often a worker posts what a streaming step has produced since its last post.
    progress_flush_s: float = Field(default=0.1, gt=0)
    # Observability (docs/observability.md). GET /metrics on the API, unauthenticated for Prometheus:
    # keep it off the public side of the proxy, or switch it off.
    metrics_enabled: bool = True
    # host:port where a `stepwise worker` process serves its own /metrics (unset: none).
    worker_metrics_address: str | None = None
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # OTLP/HTTP base URL (http://collector:4318): traces go to <it>/v1/traces. Unset: no tracing.
    otlp_endpoint: str | None = Field(
        default=None, validation_alias=AliasChoices("STEPWISE_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
    )

    # LLM providers (docs/llm.md): Ollama at OLLAMA_HOST; OpenAI and Anthropic with their keys
    # (OPENAI_BASE_URL points the OpenAI SDK at any OpenAI-compatible server, such as vLLM).
    ollama_host: str = Field(
        default="http://127.0.0.1:11434", validation_alias=AliasChoices("STEPWISE_OLLAMA_HOST", "OLLAMA_HOST")
    )
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("STEPWISE_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("STEPWISE_OPENAI_BASE_URL", "OPENAI_BASE_URL")
    )
    anthropic_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("STEPWISE_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY")
    )
    anthropic_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("STEPWISE_ANTHROPIC_BASE_URL", "ANTHROPIC_BASE_URL")
    )
    # More providers by name, used as `model@name`: '{"vllm": {"kind": "openai", "base_url": "..."}}'.
    llm_providers: dict[str, LlmProviderConfig] = {}
    # The provider of a model named without one (`model: qwen2.5:7b`, no `provider` input).
    llm_default_provider: str = "ollama"
    # The model of an api.llm step that names none: a model, `model@provider` or an `@alias`.
    llm_default_model: str = "@chat"
    # Models by purpose, used as `model: "@generate"`: one model or a fallback chain, e.g.
    # '{"generate": "qwen2.5:7b", "chat": ["qwen2.5:7b@ollama", "gpt-4o-mini@openai"]}'.
    llm_aliases: dict[str, str | list[str]] = {"chat": "qwen2.5:7b"}
    # How long one provider call may take, and how often a reply that does not match its
    # output_schema is sent back with the validation errors before the step fails.
    llm_timeout_s: float = Field(default=300.0, gt=0)
    # Models an llm worker started without --models serves, besides those the default model and
    # the aliases name (each model has its task queue, `llm.<model>`).
    llm_models: list[str] = []
    # How many requests one llm worker runs at once per model: the GPU's parallelism (Ollama's
    # OLLAMA_NUM_PARALLEL). `stepwise worker --slots` overrides it.
    llm_slots: int = Field(default=4, ge=1)
    # How long a request waits for a free worker of its model before the step fails (or the
    # next model of its chain takes it). A model no worker polls at all fails at once.
    llm_schedule_to_start_s: float = Field(default=600.0, gt=0)
    # Prices of hosted models by `model` or `model@provider` (unlisted models cost nothing):
    # '{"gpt-4o-mini": {"input_per_million": 0.15, "output_per_million": 0.6}}'.
    llm_prices: dict[str, LlmPrice] = {}
    # Monthly budgets per user (the runs they own), read from the ledger in the app database:
    # one for everybody, and per username in place of it: '{"ana": {"max_cost_usd": 50}}'.
    llm_user_monthly_budget: LlmBudget | None = None
    llm_user_budgets: dict[str, LlmBudget] = {}
    # The model (or chain) a step uses once its owner's monthly budget is spent; unset: it fails.
    llm_budget_fallback: str | list[str] | None = None
    llm_repair_attempts: int = Field(default=2, ge=0)

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"{origin!r} is not an origin; write scheme://host[:port] with no path or trailing "
                    f"slash, e.g. https://stepwise.example.org"
                )
        return origins

    @field_validator("worker_sandbox", mode="before")
    @classmethod
    def _sandbox(cls, mode: object) -> object:
        if isinstance(mode, bool):
            return "always" if mode else "never"
        if not isinstance(mode, str):
            return mode
        word = mode.strip().lower()
        return {"true": "always", "1": "always", "false": "never", "0": "never"}.get(word, word)

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, level: object) -> object:
        return level.upper() if isinstance(level, str) else level

    @field_validator("worker_api_url")
    @classmethod
    def _api_url(cls, url: str | None) -> str | None:
        if url is not None and not re.fullmatch(r"https?://[^/\s]+(/\S*)?", url):
            raise ValueError(f"{url!r} is not the API's base URL, e.g. http://stepwise-api:8000")
        return url.rstrip("/") if url is not None else None

    @field_validator("worker_metrics_address")
    @classmethod
    def _address(cls, address: str | None) -> str | None:
        if address is not None:
            host, _, port = address.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"{address!r} is not host:port, e.g. 0.0.0.0:9464")
        return address

    @model_validator(mode="after")
    def _derive_and_check(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'stepwise.db'}"
        if self.environment != "development":
            key = self.secret_key.get_secret_value()
            if key == PLACEHOLDER_SECRET_KEY:
                raise ValueError(
                    f"STEPWISE_SECRET_KEY is the development placeholder, which is refused with "
                    f"STEPWISE_ENVIRONMENT={self.environment}; set STEPWISE_SECRET_KEY to a random value, "
                    f"e.g. the output of `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
                )
            if len(key) < MIN_SECRET_KEY_LENGTH:
                raise ValueError(
                    f"STEPWISE_SECRET_KEY is {len(key)} characters long; with "
                    f"STEPWISE_ENVIRONMENT={self.environment} it needs at least {MIN_SECRET_KEY_LENGTH}"
                )
        return self
