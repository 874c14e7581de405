"""The OIDC provider as the app holds it: its configuration, the discovery cache and the HTTP
client every call to it goes through (made in the lifespan, one per app)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from core.auth.oidc import OidcConfig, ProviderCache, ProviderMetadata

# A provider that has not answered in this long will not: the browser is waiting.
PROVIDER_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class OidcProvider:
    """The configured provider and the means to reach it."""

    config: OidcConfig
    cache: ProviderCache
    http: httpx.AsyncClient

    async def metadata(self) -> ProviderMetadata:
        """The provider's discovery document (read once, then kept)."""
        return await self.cache.metadata(self.config.issuer, self.http)


def provider_http_client() -> httpx.AsyncClient:
    """The HTTP client the app talks to its provider with, unless a test gives its own."""
    return httpx.AsyncClient(timeout=PROVIDER_TIMEOUT_S)
