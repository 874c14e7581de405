"""A real OpenID Connect provider for tests, built from authlib's server components.

It serves discovery, JWKS, authorize, token and userinfo on 127.0.0.1 (Flask in a background
thread); authorize approves at once the user the test chose, so no login page is needed. A few
switches make it misbehave the way real providers (or attackers in between) do.
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import json
import os
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import OAuth2Request, grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode, UserInfo, UserInfoEndpoint
from flask import Flask, Response, jsonify, request
from joserfc.jwk import RSAKey
from werkzeug.serving import BaseWSGIServer, make_server

SCOPES = ("openid", "email", "profile")


@dataclass
class ProviderUser:
    """Who the provider signs in: the test sets it before following the authorize redirect."""

    subject: str = "user-1"
    email: str = "ada@example.com"
    email_verified: bool = True
    name: str = "Ada Lovelace"
    preferred_username: str | None = None


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    user: ProviderUser
    auth_time: int

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str | None:
        return None

    def get_amr(self) -> list[str] | None:
        return None


@dataclass
class _Token:
    client: _Client
    user: ProviderUser
    scope: str
    issued_at: int
    expires_in: int

    def check_client(self, client: _Client) -> bool:
        return client.client_id == self.client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return time.time() > self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return False

    def get_user(self) -> ProviderUser:
        return self.user

    def get_client(self) -> _Client:
        return self.client


@dataclass
class _Client:
    """The one registered client (a confidential web app)."""

    provider: LocalOidcProvider
    client_id: str
    client_secret: str
    redirect_uri: str
    client_metadata: dict[str, Any] = field(default_factory=dict)

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in scope.split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri == self.redirect_uri

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in self.provider.auth_methods

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class LocalOidcProvider:
    """The provider's state and switches; `issuer` is its base URL once it runs."""

    client_id: str = "stepwise-test"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    redirect_uri: str = "http://127.0.0.1:9/api/v1/auth/oidc/callback"
    issuer: str = ""
    user: ProviderUser = field(default_factory=ProviderUser)
    # Client authentications the token endpoint accepts (and discovery advertises).
    auth_methods: list[str] = field(default_factory=lambda: ["client_secret_basic", "client_secret_post"])
    # Misbehaviour: another issuer in discovery, another audience in ID tokens, ID tokens
    # altered after signing.
    advertised_issuer: str | None = None
    id_token_audience: list[str] | None = None
    tamper_id_token: bool = False
    # A JWKS that still serves the key from before the last rotation (a misconfigured provider).
    stale_jwks: bool = False
    previous_key: RSAKey | None = None
    hits: Counter[str] = field(default_factory=Counter)
    key: RSAKey = field(default_factory=lambda: _new_key())
    _codes: dict[str, _Code] = field(default_factory=dict)
    _tokens: dict[str, _Token] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def rotate_key(self) -> None:
        """Sign from now on with a new key (with a new kid); the JWKS publishes only the new one,
        unless `stale_jwks` is set."""
        self.previous_key, self.key = self.key, _new_key()

    def published_keys(self) -> list[RSAKey]:
        """What the JWKS endpoint serves."""
        return [self.previous_key] if self.stale_jwks and self.previous_key else [self.key]

    @property
    def client(self) -> _Client:
        return _Client(self, self.client_id, self.client_secret, self.redirect_uri)

    def discovery(self) -> dict[str, Any]:
        base = self.issuer
        return {
            "issuer": self.advertised_issuer or base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "jwks_uri": f"{base}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": list(SCOPES),
            "token_endpoint_auth_methods_supported": list(self.auth_methods),
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "nonce",
                "email",
                "email_verified",
                "name",
                "preferred_username",
            ],
        }


def _new_key() -> RSAKey:
    key = RSAKey.generate_key(2048, {"use": "sig", "alg": "RS256"})
    key.ensure_kid()  # the RFC 7638 thumbprint, so each key has its own kid
    return key


def _user_info(user: ProviderUser, scope: str) -> UserInfo:
    info = UserInfo(sub=user.subject, name=user.name, email=user.email, email_verified=user.email_verified)
    if user.preferred_username is not None:
        info["preferred_username"] = user.preferred_username
    return info.filter(scope)


def _tampered(id_token: str) -> str:
    """The same token and signature, with another email in the payload."""
    header, payload, signature = id_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["email"] = "mallory@example.com"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def _server(provider: LocalOidcProvider) -> AuthorizationServer:
    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]

        def save_authorization_code(self, code: str, req: OAuth2Request) -> None:
            data = req.payload.data
            with provider._lock:
                provider._codes[code] = _Code(
                    client_id=req.client.client_id,
                    redirect_uri=req.payload.redirect_uri,
                    scope=req.scope,
                    nonce=data.get("nonce"),
                    code_challenge=data.get("code_challenge"),
                    code_challenge_method=data.get("code_challenge_method"),
                    user=req.user,
                    auth_time=int(time.time()),
                )

        def query_authorization_code(self, code: str, client: _Client) -> _Code | None:
            with provider._lock:
                found = provider._codes.get(code)
            return found if found is not None and found.client_id == client.client_id else None

        def delete_authorization_code(self, authorization_code: _Code) -> None:
            with provider._lock:
                for code, item in list(provider._codes.items()):
                    if item is authorization_code:
                        del provider._codes[code]

        def authenticate_user(self, authorization_code: _Code) -> ProviderUser:
            return authorization_code.user

    class IdToken(OpenIDCode):
        def exists_nonce(self, nonce: str, req: OAuth2Request) -> bool:
            with provider._lock:
                return any(code.nonce == nonce for code in provider._codes.values())

        def resolve_client_private_key(self, client: _Client) -> RSAKey:
            return provider.key

        def get_client_algorithm(self, client: _Client) -> str:
            return "RS256"

        def get_encode_header(self, client: _Client) -> dict[str, str]:
            return {"alg": "RS256", "kid": provider.key.kid or ""}

        def get_client_claims(self, client: _Client) -> dict[str, Any]:
            return {"iss": provider.issuer, "aud": provider.id_token_audience or [client.client_id]}

        def generate_user_info(self, user: ProviderUser, scope: str) -> UserInfo:
            return _user_info(user, scope)

        def process_token(self, grant: Any, response: Any) -> Any:
            token = super().process_token(grant, response)
            if provider.tamper_id_token and "id_token" in token:
                token["id_token"] = _tampered(token["id_token"])
            return token

    class TokenValidator(BearerTokenValidator):
        def authenticate_token(self, token_string: str) -> _Token | None:
            with provider._lock:
                return provider._tokens.get(token_string)

    class UserInfoOf(UserInfoEndpoint):
        def get_issuer(self) -> str:
            return provider.issuer

        def generate_user_info(self, user: ProviderUser, scope: str) -> UserInfo:
            return _user_info(user, scope)

    def query_client(client_id: str) -> _Client | None:
        return provider.client if client_id == provider.client_id else None

    def save_token(token: dict[str, Any], req: OAuth2Request) -> None:
        with provider._lock:
            provider._tokens[token["access_token"]] = _Token(
                req.client, req.user, token["scope"], int(time.time()), int(token["expires_in"])
            )

    server = AuthorizationServer(query_client=query_client, save_token=save_token)
    server.load_config({})
    server.register_grant(CodeGrant, [IdToken(require_nonce=True), CodeChallenge(required=True)])
    protector = ResourceProtector()
    protector.register_token_validator(TokenValidator())
    server.register_endpoint(UserInfoOf(resource_protector=protector))
    return server


def _app(provider: LocalOidcProvider) -> Flask:
    app = Flask("stepwise-test-oidc-provider")
    server = _server(provider)

    @app.before_request
    def count() -> None:
        provider.hits[request.path] += 1

    @app.get("/.well-known/openid-configuration")
    def discovery() -> Response:
        return jsonify(provider.discovery())

    @app.get("/jwks")
    def jwks() -> Response:
        return jsonify({"keys": [key.as_dict(private=False) for key in provider.published_keys()]})

    @app.get("/authorize")
    def authorize() -> Response:
        # Approved at once for the chosen user: the tests are about the protocol, not a login page.
        try:
            grant = server.get_consent_grant(end_user=provider.user)
        except OAuth2Error as error:
            refused: Response = server.handle_error_response(None, error)
            return refused
        response: Response = server.create_authorization_response(grant=grant, grant_user=provider.user)
        return response

    @app.post("/token")
    def token() -> Response:
        response: Response = server.create_token_response()
        return response

    @app.route("/userinfo", methods=["GET", "POST"])
    def userinfo() -> Response:
        response: Response = server.create_endpoint_response("userinfo")
        return response

    return app


@contextlib.contextmanager
def running_provider(provider: LocalOidcProvider | None = None) -> Iterator[LocalOidcProvider]:
    """The provider, served on a free port of 127.0.0.1 until the block ends."""
    provider = provider or LocalOidcProvider()
    # authlib refuses plain http unless told; the provider only ever listens on loopback.
    previous = os.environ.get("AUTHLIB_INSECURE_TRANSPORT")
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    httpd: BaseWSGIServer = make_server("127.0.0.1", 0, _app(provider), threaded=True)
    provider.issuer = f"http://127.0.0.1:{httpd.server_port}"
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="oidc-provider", daemon=True
    )
    thread.start()
    try:
        yield provider
    finally:
        httpd.shutdown()
        thread.join()
        httpd.server_close()
        if previous is None:
            os.environ.pop("AUTHLIB_INSECURE_TRANSPORT", None)
        else:
            os.environ["AUTHLIB_INSECURE_TRANSPORT"] = previous
