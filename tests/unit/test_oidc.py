"""OIDC login against a real local provider, over HTTP: code flow with PKCE, and what it refuses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr

from core.auth.oidc import (
    LoginRequest,
    OidcConfig,
    OidcError,
    OidcIdentity,
    PendingLogin,
    ProviderCache,
    ProviderMetadata,
    begin_login,
    complete_login,
    discover,
)
from core.settings import Settings
from tests.oidc_provider import LocalOidcProvider, ProviderUser, running_provider


@pytest.fixture
def provider() -> Iterator[LocalOidcProvider]:
    with running_provider() as running:
        yield running


@pytest_asyncio.fixture(loop_scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10, trust_env=False) as client:
        yield client


def config_of(provider: LocalOidcProvider) -> OidcConfig:
    return OidcConfig(
        issuer=provider.issuer,
        client_id=provider.client_id,
        client_secret=SecretStr(provider.client_secret),
        redirect_uri=provider.redirect_uri,
    )


@dataclass
class Callback:
    metadata: ProviderMetadata
    request: LoginRequest
    params: dict[str, str]


async def authorize(
    provider: LocalOidcProvider, http: httpx.AsyncClient, metadata: ProviderMetadata | None = None
) -> Callback:
    """Begin a login and follow the browser's trip to the provider, up to the redirect back."""
    metadata = metadata or await discover(provider.issuer, http)
    request = begin_login(config_of(provider), metadata)
    response = await http.get(request.url)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(provider.redirect_uri + "?")
    return Callback(metadata, request, dict(parse_qsl(urlsplit(location).query)))


async def finish(
    provider: LocalOidcProvider,
    http: httpx.AsyncClient,
    callback: Callback,
    pending: PendingLogin | None = None,
    now: datetime | None = None,
) -> OidcIdentity:
    return await complete_login(
        config_of(provider),
        callback.metadata,
        pending or callback.request.pending,
        callback.params,
        http,
        now or datetime.now(UTC),
    )


async def test_code_flow_with_pkce_signs_the_chosen_user_in(
    provider: LocalOidcProvider, http: httpx.AsyncClient
) -> None:
    provider.user = ProviderUser(subject="u-42", email="grace@example.com", email_verified=True, name="Grace")
    callback = await authorize(provider, http)
    query = dict(parse_qsl(urlsplit(callback.request.url).query))
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256"
    assert query["scope"] == "openid email profile"
    assert "code_verifier" not in query

    identity = await finish(provider, http, callback)

    assert identity == OidcIdentity(
        issuer=provider.issuer, subject="u-42", email="grace@example.com", email_verified=True, name="Grace"
    )
    assert provider.hits["/token"] == 1
    assert provider.hits["/userinfo"] == 1


async def test_an_unverified_email_is_reported_unverified(
    provider: LocalOidcProvider, http: httpx.AsyncClient
) -> None:
    provider.user = ProviderUser(email_verified=False)
    identity = await finish(provider, http, await authorize(provider, http))
    assert identity.email == provider.user.email
    assert identity.email_verified is False


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
async def test_the_client_authenticates_as_the_provider_advertises(
    provider: LocalOidcProvider, http: httpx.AsyncClient, method: str
) -> None:
    provider.auth_methods = [method]
    identity = await finish(provider, http, await authorize(provider, http))
    assert identity.subject == provider.user.subject


async def test_a_provider_without_secret_authentication_is_refused(
    provider: LocalOidcProvider, http: httpx.AsyncClient
) -> None:
    provider.auth_methods = ["private_key_jwt"]
    callback = await authorize(provider, http)
    with pytest.raises(OidcError, match="token endpoint accepts private_key_jwt"):
        await finish(provider, http, callback)
    assert provider.hits["/token"] == 0


async def test_a_wrong_state_is_refused(provider: LocalOidcProvider, http: httpx.AsyncClient) -> None:
    callback = await authorize(provider, http)
    callback.params["state"] = "forged"
    with pytest.raises(OidcError, match="state does not match: start the login again"):
        await finish(provider, http, callback)
    assert provider.hits["/token"] == 0


async def test_an_error_from_the_provider_is_reported(
    provider: LocalOidcProvider, http: httpx.AsyncClient
) -> None:
    callback = await authorize(provider, http)
    callback.params = {"error": "access_denied", "error_description": "the user said no"}
    with pytest.raises(OidcError, match=r"refused the login: access_denied \(the user said no\)"):
        await finish(provider, http, callback)


async def test_a_tampered_id_token_is_refused(provider: LocalOidcProvider, http: httpx.AsyncClient) -> None:
    provider.tamper_id_token = True
    callback = await authorize(provider, http)
    with pytest.raises(OidcError, match="signature does not verify"):
        await finish(provider, http, callback)


async def test_an_id_token_of_another_login_is_refused(
    provider: LocalOidcProvider, http: httpx.AsyncClient
) -> None:
    callback = await authorize(provider, http)
    other = callback.request.pending.model_copy(update={"nonce": "nonce-of-another-login"})
    with pytest.raises(OidcError, match="nonce does not match"):
        await finish(provider, http, callback, pending=other)


async def test_an_expired_id_token_is_refused(provider: LocalOidcProvider, http: httpx.AsyncClient) -> None:
    callback = await authorize(provider, http)
    later = datetime.now(UTC) + timedelta(hours=2)
    with pytest.raises(OidcError, match="the ID token expired at"):
        await finish(provider, http, callback, now=later)


async def test_a_token_issued_in_the_future_is_refused(
    provider: LocalOidcProvider, http: httpx.AsyncClient
) -> None:
    callback = await authorize(provider, http)
    earlier = datetime.now(UTC) - timedelta(minutes=10)
    with pytest.raises(OidcError, match="check this server's clock"):
        await finish(provider, http, callback, now=earlier)


async def test_a_small_clock_skew_is_allowed(provider: LocalOidcProvider, http: httpx.AsyncClient) -> None:
    callback = await authorize(provider, http)
    slow = datetime.now(UTC) - timedelta(seconds=20)
    assert (await finish(provider, http, callback, now=slow)).subject == provider.user.subject


async def test_an_id_token_for_another_audience_is_refused(
    provider: LocalOidcProvider, http: httpx.AsyncClient
) -> None:
    provider.id_token_audience = ["someone-else"]
    callback = await authorize(provider, http)
    with pytest.raises(OidcError, match=r"meant for \['someone-else'\], not for this client"):
        await finish(provider, http, callback)


async def test_discovery_about_another_issuer_is_refused(
    provider: LocalOidcProvider, http: httpx.AsyncClient
) -> None:
    provider.advertised_issuer = "https://impostor.example"
    with pytest.raises(
        OidcError,
        match=r"is about issuer 'https://impostor\.example'.*set STEPWISE_OIDC_ISSUER to 'https://impostor\.example' exactly",
    ):
        await discover(provider.issuer, http)


async def test_an_issuer_without_https_is_refused(http: httpx.AsyncClient) -> None:
    with pytest.raises(OidcError, match="is not an https URL: set STEPWISE_OIDC_ISSUER"):
        await discover("http://id.example", http)


async def test_a_missing_pkce_verifier_is_refused(
    provider: LocalOidcProvider, http: httpx.AsyncClient
) -> None:
    callback = await authorize(provider, http)
    lost = callback.request.pending.model_copy(update={"code_verifier": ""})
    with pytest.raises(OidcError, match="no PKCE code verifier was kept"):
        await finish(provider, http, callback, pending=lost)
    assert provider.hits["/token"] == 0


async def test_the_provider_refuses_a_wrong_pkce_verifier(
    provider: LocalOidcProvider, http: httpx.AsyncClient
) -> None:
    callback = await authorize(provider, http)
    wrong = callback.request.pending.model_copy(update={"code_verifier": "x" * 64})
    with pytest.raises(
        OidcError, match=r"token endpoint refused the code: invalid_grant \(Code challenge failed"
    ):
        await finish(provider, http, callback, pending=wrong)


async def test_a_code_is_good_for_one_login(provider: LocalOidcProvider, http: httpx.AsyncClient) -> None:
    callback = await authorize(provider, http)
    await finish(provider, http, callback)
    with pytest.raises(OidcError, match="token endpoint refused the code: invalid_grant"):
        await finish(provider, http, callback)


async def test_keys_are_cached_and_fetched_again_after_rotation(
    provider: LocalOidcProvider, http: httpx.AsyncClient
) -> None:
    metadata = await discover(provider.issuer, http)
    await finish(provider, http, await authorize(provider, http, metadata))
    await finish(provider, http, await authorize(provider, http, metadata))
    assert provider.hits["/jwks"] == 1

    provider.rotate_key()
    identity = await finish(provider, http, await authorize(provider, http, metadata))

    assert identity.subject == provider.user.subject
    assert provider.hits["/jwks"] == 2


async def test_a_key_the_jwks_lacks_is_refused_after_one_fetch_more(
    provider: LocalOidcProvider, http: httpx.AsyncClient
) -> None:
    metadata = await discover(provider.issuer, http)
    await finish(provider, http, await authorize(provider, http, metadata))
    provider.stale_jwks = True
    provider.rotate_key()

    callback = await authorize(provider, http, metadata)
    with pytest.raises(OidcError, match=f"signed with key '{provider.key.kid}', which the provider's JWKS"):
        await finish(provider, http, callback)
    assert provider.hits["/jwks"] == 2


async def test_a_kept_value_that_is_empty_is_refused(
    provider: LocalOidcProvider, http: httpx.AsyncClient
) -> None:
    callback = await authorize(provider, http)
    callback.params["state"] = ""
    blank = callback.request.pending.model_copy(update={"state": ""})
    with pytest.raises(OidcError, match="no state was kept for this login"):
        await finish(provider, http, callback, pending=blank)


async def test_the_cache_discovers_each_provider_once(
    provider: LocalOidcProvider, http: httpx.AsyncClient
) -> None:
    cache = ProviderCache()
    first = await cache.metadata(provider.issuer, http)
    second = await cache.metadata(provider.issuer, http)
    assert first is second
    assert first.token_endpoint == f"{provider.issuer}/token"
    assert provider.hits["/.well-known/openid-configuration"] == 1


async def test_a_failed_discovery_is_not_cached(provider: LocalOidcProvider, http: httpx.AsyncClient) -> None:
    cache = ProviderCache()
    provider.advertised_issuer = "https://impostor.example"
    with pytest.raises(OidcError):
        await cache.metadata(provider.issuer, http)
    provider.advertised_issuer = None
    assert (await cache.metadata(provider.issuer, http)).issuer == provider.issuer


async def test_an_unreachable_provider_is_named(http: httpx.AsyncClient) -> None:
    with running_provider() as gone:
        issuer = gone.issuer
    with pytest.raises(OidcError, match=f"cannot reach the provider's discovery document at {issuer}"):
        await discover(issuer, http)


def test_oidc_is_off_without_issuer_or_client_id() -> None:
    assert OidcConfig.from_settings(Settings()) is None
    assert OidcConfig.from_settings(Settings(oidc_issuer="https://id.example")) is None


def test_settings_make_a_config() -> None:
    settings = Settings(
        oidc_issuer="https://id.example",
        oidc_client_id="stepwise",
        oidc_client_secret=SecretStr("s3cret"),
        oidc_redirect_uri="https://stepwise.example/api/v1/auth/oidc/callback",
    )
    config = OidcConfig.from_settings(settings)
    assert config is not None
    assert config.client_secret.get_secret_value() == "s3cret"
    assert config.scopes == "openid email profile"


def test_a_half_configured_provider_names_what_is_missing() -> None:
    settings = Settings(oidc_issuer="https://id.example", oidc_client_id="stepwise")
    with pytest.raises(
        OidcError, match="STEPWISE_OIDC_CLIENT_SECRET and STEPWISE_OIDC_REDIRECT_URI are not set"
    ):
        OidcConfig.from_settings(settings)
