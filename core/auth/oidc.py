"""OpenID Connect login against one configured provider: authorization code with PKCE."""

from __future__ import annotations

import asyncio
import enum
import hmac
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar
from urllib.parse import urlsplit

import httpx
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from pydantic import BaseModel, ConfigDict, PrivateAttr, SecretStr, ValidationError

from core.auth.oidc_keys import OidcError as OidcError
from core.auth.oidc_keys import ProviderUnreachable as ProviderUnreachable
from core.auth.oidc_keys import SigningKeys, fetch_json, verify_id_token
from core.settings import Settings

DEFAULT_SCOPES = "openid email profile"
WELL_KNOWN = "/.well-known/openid-configuration"
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
# The client authentications Stepwise can do at the token endpoint, in the order it prefers them.
CLIENT_AUTH_METHODS = ("client_secret_basic", "client_secret_post")


class OidcConfig(BaseModel):
    """The provider this Stepwise signs people in with, and how it is registered there."""

    model_config = ConfigDict(frozen=True)

    issuer: str
    client_id: str
    client_secret: SecretStr
    redirect_uri: str
    scopes: str = DEFAULT_SCOPES

    @classmethod
    def from_settings(cls, settings: Settings) -> OidcConfig | None:
        """The configured provider, or None when OIDC is off (no issuer or no client id)."""
        if not settings.oidc_issuer or not settings.oidc_client_id:
            return None
        secret, redirect_uri = settings.oidc_client_secret, settings.oidc_redirect_uri
        if secret is None or not redirect_uri:
            missing = [
                name
                for name, value in (
                    ("STEPWISE_OIDC_CLIENT_SECRET", secret),
                    ("STEPWISE_OIDC_REDIRECT_URI", redirect_uri),
                )
                if not value
            ]
            raise OidcError(
                f"OIDC login is configured (STEPWISE_OIDC_ISSUER, STEPWISE_OIDC_CLIENT_ID) but "
                f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: set "
                "them to the client secret and the redirect URI registered at the provider"
            )
        return cls(
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=secret,
            redirect_uri=redirect_uri,
        )


class ProviderMetadata(BaseModel):
    """The parts of a provider's discovery document a login uses, and its signing keys."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str
    # Defaults from OIDC Discovery 1.0 section 3 for the fields a provider may leave out.
    token_endpoint_auth_methods_supported: list[str] = ["client_secret_basic"]
    id_token_signing_alg_values_supported: list[str] = ["RS256"]
    code_challenge_methods_supported: list[str] = []
    _keys: SigningKeys | None = PrivateAttr(default=None)

    @property
    def keys(self) -> SigningKeys:
        """The provider's JWKS, fetched on first use and kept as long as this metadata is."""
        if self._keys is None:
            self._keys = SigningKeys(self.jwks_uri)
        return self._keys


async def discover(issuer: str, http: httpx.AsyncClient) -> ProviderMetadata:
    """The provider's discovery document, checked to be about `issuer`."""
    parts = urlsplit(issuer)
    # OIDC Core 2: the issuer is an https URL; plain http only on this machine (tests, local setups).
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS):
        raise OidcError(
            f"the OIDC issuer {issuer!r} is not an https URL: set STEPWISE_OIDC_ISSUER to https://…"
        )
    url = issuer.rstrip("/") + WELL_KNOWN
    document = await fetch_json(http, url, "discovery document")
    try:
        metadata = ProviderMetadata.model_validate(document)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in error["loc"]) for error in exc.errors())
        raise OidcError(f"the provider's discovery document at {url} lacks or garbles: {fields}") from exc
    # OIDC Discovery 1.0 section 4.3: a document about another issuer must not be used.
    if metadata.issuer != issuer:
        raise OidcError(
            f"the discovery document at {url} is about issuer {metadata.issuer!r}, not {issuer!r}: "
            f"if that is your provider, set STEPWISE_OIDC_ISSUER to {metadata.issuer!r} exactly"
        )
    if metadata.code_challenge_methods_supported and "S256" not in metadata.code_challenge_methods_supported:
        raise OidcError(f"the provider at {issuer} does not support PKCE with S256, which Stepwise requires")
    return metadata


class ProviderCache:
    """Discovered providers for the life of a process; the app holds one (no global)."""

    def __init__(self) -> None:
        self._metadata: dict[str, ProviderMetadata] = {}
        self._lock = asyncio.Lock()

    async def metadata(self, issuer: str, http: httpx.AsyncClient) -> ProviderMetadata:
        """The provider's metadata, discovered on first use (a failed discovery is not kept)."""
        async with self._lock:
            if issuer not in self._metadata:
                self._metadata[issuer] = await discover(issuer, http)
            return self._metadata[issuer]


class PendingLogin(BaseModel):
    """What the caller keeps between redirect and callback (e.g. in a signed, short-lived cookie)."""

    state: str
    nonce: str
    code_verifier: str


class LoginRequest(BaseModel):
    """Where to send the browser, and what to keep until it comes back."""

    url: str
    pending: PendingLogin


def begin_login(config: OidcConfig, metadata: ProviderMetadata) -> LoginRequest:
    """An authorization URL (code flow, state, nonce, PKCE S256) and the secrets that go with it."""
    pending = PendingLogin(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        # 64 random bytes give 86 characters, within PKCE's 43 to 128 (RFC 7636 section 4.1).
        code_verifier=secrets.token_urlsafe(64),
    )
    url = prepare_grant_uri(
        metadata.authorization_endpoint,
        client_id=config.client_id,
        response_type="code",
        redirect_uri=config.redirect_uri,
        scope=config.scopes,
        state=pending.state,
        nonce=pending.nonce,
        code_challenge=create_s256_code_challenge(pending.code_verifier),
        code_challenge_method="S256",
    )
    return LoginRequest(url=url, pending=pending)


class OidcIdentity(BaseModel):
    """Who the provider says signed in."""

    model_config = ConfigDict(frozen=True)

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None
    # The name the person goes by at the provider (the `preferred_username` claim), if shared.
    preferred_username: str | None = None


class _TokenResponse(BaseModel):
    model_config = ConfigDict(extra="ignore")

    access_token: str
    token_type: str
    id_token: str


async def complete_login(
    config: OidcConfig,
    metadata: ProviderMetadata,
    pending: PendingLogin,
    callback_params: Mapping[str, str],
    http: httpx.AsyncClient,
    now: datetime,
) -> OidcIdentity:
    """Check the callback, exchange its code, verify the ID token and read userinfo."""
    if "error" in callback_params:
        detail = callback_params.get("error_description")
        raise OidcError(
            f"the provider refused the login: {callback_params['error']}"
            f"{f' ({detail})' if detail else ''}; start the login again"
        )
    # An empty kept value would match an empty one sent back: refuse rather than compare.
    for kept, label in (
        (pending.state, "state"),
        (pending.nonce, "nonce"),
        (pending.code_verifier, "PKCE code verifier"),
    ):
        if not kept:
            raise OidcError(f"no {label} was kept for this login: start the login again")
    state = callback_params.get("state") or ""
    if not hmac.compare_digest(state.encode(), pending.state.encode()):
        raise OidcError("state does not match: start the login again")
    code = callback_params.get("code")
    if not code:
        raise OidcError("the provider sent no authorization code: start the login again")
    token = await _exchange_code(config, metadata, code, pending.code_verifier, http)
    claims = await verify_id_token(
        token.id_token,
        issuer=config.issuer,
        client_id=config.client_id,
        nonce=pending.nonce,
        algorithms=metadata.id_token_signing_alg_values_supported,
        keys=metadata.keys,
        http=http,
        now=now,
    )
    info = await fetch_json(
        http,
        metadata.userinfo_endpoint,
        "userinfo endpoint",
        headers={"Authorization": f"Bearer {token.access_token}", "Accept": "application/json"},
    )
    # OIDC Core 5.3.2: userinfo about another subject must not be used (token substitution).
    if info.get("sub") != claims["sub"]:
        raise OidcError(
            "the provider's userinfo is about another subject than the ID token: start the login again"
        )
    # The address and its verified flag come from the same place, userinfo if it has one.
    source = info if "email" in info else claims
    email, verified = source.get("email"), source.get("email_verified")
    name = info.get("name") or claims.get("name")
    preferred = info.get("preferred_username") or claims.get("preferred_username")
    return OidcIdentity(
        issuer=config.issuer,
        subject=claims["sub"],
        email=email if isinstance(email, str) and email else None,
        # Some providers send the string "true"; anything else is not a verified address.
        email_verified=verified is True or verified == "true",
        name=name if isinstance(name, str) and name else None,
        preferred_username=preferred if isinstance(preferred, str) and preferred else None,
    )


def _client_auth_method(metadata: ProviderMetadata) -> str:
    for method in CLIENT_AUTH_METHODS:
        if method in metadata.token_endpoint_auth_methods_supported:
            return method
    raise OidcError(
        f"the provider's token endpoint accepts {', '.join(metadata.token_endpoint_auth_methods_supported)}; "
        f"Stepwise authenticates with {' or '.join(CLIENT_AUTH_METHODS)}: allow one of them for this client"
    )


async def _exchange_code(
    config: OidcConfig, metadata: ProviderMetadata, code: str, verifier: str, http: httpx.AsyncClient
) -> _TokenResponse:
    """The token endpoint's answer to the code and its PKCE verifier."""
    # authlib's protocol pieces over the app's own httpx client, not authlib's AsyncOAuth2Client:
    # authlib 1.9.10 deprecates its httpx integration for httpx2 and warns on every import.
    body = prepare_token_request(
        "authorization_code", code=code, redirect_uri=config.redirect_uri, code_verifier=verifier
    )
    auth = ClientAuth(
        config.client_id, config.client_secret.get_secret_value(), _client_auth_method(metadata)
    )
    headers = {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}
    url, headers, body = auth.prepare("POST", metadata.token_endpoint, headers, body)
    try:
        response = await http.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise ProviderUnreachable(
            f"cannot reach the provider's token endpoint at {url}: {str(exc) or type(exc).__name__}"
        ) from exc
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise OidcError(
            f"the provider's token endpoint {url} answered HTTP {response.status_code} without JSON"
        )
    if "error" in answer or response.status_code != 200:
        detail = answer.get("error_description")
        raise OidcError(
            f"the provider's token endpoint refused the code: {answer.get('error', response.status_code)}"
            f"{f' ({detail})' if detail else ''}; start the login again"
        )
    try:
        token = _TokenResponse.model_validate(answer)
    except ValidationError as exc:
        fields = ", ".join(str(error["loc"][0]) for error in exc.errors())
        raise OidcError(
            f"the provider's token response lacks {fields}: is 'openid' among the scopes?"
        ) from exc
    if token.token_type.lower() != "bearer":
        raise OidcError(f"the provider issued a {token.token_type!r} token; Stepwise needs a bearer token")
    return token


U = TypeVar("U")


class LinkOutcome(enum.StrEnum):
    """How a signed-in identity found its user."""

    LINKED_BEFORE = "linked_before"  # the (issuer, subject) pair was linked already
    LINKED_BY_EMAIL = "linked_by_email"  # an existing user with the same, verified, email
    CREATED = "created"  # a new member user


@dataclass(frozen=True)
class AccountMatch(Generic[U]):
    """The user an identity signs in as; link (issuer, subject) to it when `needs_link`."""

    user: U
    outcome: LinkOutcome

    @property
    def needs_link(self) -> bool:
        """Whether the caller must record the (issuer, subject) → user link (same transaction)."""
        return self.outcome is not LinkOutcome.LINKED_BEFORE


async def match_or_create(
    identity: OidcIdentity,
    find_by_identity: Callable[[str, str], Awaitable[U | None]],
    find_by_email: Callable[[str], Awaitable[U | None]],
    create: Callable[[OidcIdentity], Awaitable[U]],
) -> AccountMatch[U]:
    """The user an OIDC identity signs in as: its earlier link, else the user with the same verified
    email, else a new member user made by `create`. An unverified email that belongs to an existing
    user is refused. The email is passed as the provider sent it: `find_by_email` should compare
    case-insensitively."""
    linked = await find_by_identity(identity.issuer, identity.subject)
    if linked is not None:
        return AccountMatch(linked, LinkOutcome.LINKED_BEFORE)
    if identity.email is None:
        raise OidcError(
            "the provider shared no email address, and this identity is not linked to a user yet: "
            "allow the 'email' scope for this client at the provider"
        )
    existing = await find_by_email(identity.email)
    if existing is not None:
        # Linking on an address the provider has not verified would let anyone who registers
        # someone else's address there take over that person's Stepwise account.
        if not identity.email_verified:
            raise OidcError(
                f"a user with the email {identity.email} exists, but the provider has not verified that "
                "this address is yours: verify it at the provider, then sign in again"
            )
        return AccountMatch(existing, LinkOutcome.LINKED_BY_EMAIL)
    return AccountMatch(await create(identity), LinkOutcome.CREATED)
