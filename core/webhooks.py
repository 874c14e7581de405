"""Webhooks: hook ids and signing secrets, secrets sealed at rest, signature checks, and the run
input a delivery renders to.

A sender signs `f"{timestamp}." + body` with HMAC-SHA256 and the hook's secret and sends
`X-Stepwise-Timestamp` (Unix seconds), `X-Stepwise-Signature: sha256=<hex>` (several, comma
separated, while a secret is being rotated) and, optionally, `X-Stepwise-Delivery`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr

from workflows.compiler.triggers import WEBHOOK_NAMES
from workflows.templates import TemplateError, compile_template, iter_templates, render_value

TIMESTAMP_HEADER = "x-stepwise-timestamp"
SIGNATURE_HEADER = "x-stepwise-signature"
DELIVERY_HEADER = "x-stepwise-delivery"
DEFAULT_TOLERANCE_S = 300
DEFAULT_INPUT = "{{ body }}"
HOOK_PREFIX = "hk_"
SECRET_PREFIX = "whsec_"  # noqa: S105
MAX_DELIVERY_ID = 200
_SEAL_PURPOSE = b"stepwise webhook secrets v1"
_NONCE_BYTES = 12
_ALLOWED = ", ".join(sorted(WEBHOOK_NAMES))


class SignatureRefused(ValueError):
    """A delivery whose signature headers are missing, malformed, stale or wrong; the message
    says which (and never echoes the secret)."""


class SealError(ValueError):
    """A sealed secret that does not open with this server's secret key."""


def new_hook_id() -> str:
    """A new public hook id: `hk_` and 16 random URL-safe characters."""
    return HOOK_PREFIX + secrets.token_urlsafe(12)


def new_secret() -> str:
    """A new signing secret: `whsec_` and 32 random bytes, URL-safe base64."""
    return SECRET_PREFIX + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def hook_path(hook_id: str) -> str:
    """Where deliveries for a hook are sent."""
    return f"/api/v1/hooks/{hook_id}"


def _sealing_key(secret_key: SecretStr) -> bytes:
    # A key of its own (not the token-signing key itself), bound to this purpose.
    return hashlib.sha256(_SEAL_PURPOSE + b"\x00" + secret_key.get_secret_value().encode()).digest()


def seal(secret: str, secret_key: SecretStr) -> str:
    """The secret encrypted (AES-256-GCM, a fresh nonce) for the database."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = AESGCM(_sealing_key(secret_key)).encrypt(nonce, secret.encode(), _SEAL_PURPOSE)
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def open_sealed(sealed: str, secret_key: SecretStr) -> str:
    """The secret `seal` sealed; SealError when the server's secret key has changed since."""
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
        opened = AESGCM(_sealing_key(secret_key)).decrypt(
            raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _SEAL_PURPOSE
        )
    except (InvalidTag, ValueError) as exc:
        raise SealError(
            "a webhook secret cannot be opened: STEPWISE_SECRET_KEY changed since it was made; "
            "rotate the hook"
        ) from exc
    return opened.decode()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `X-Stepwise-Signature` value for a body sent at `timestamp` (Unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


@dataclass(frozen=True)
class Delivery:
    """A delivery whose signature holds: its id and its timestamp."""

    id: str
    timestamp: int


def verify(
    headers: Mapping[str, str],
    body: bytes,
    secrets_in_use: list[str],
    tolerance_s: int,
    now: datetime,
) -> Delivery:
    """Check a delivery's headers (names lowercased) against the secrets in use; SignatureRefused
    naming what is wrong. Without `X-Stepwise-Delivery`, the id is the SHA-256 of the timestamp
    and body, so an identical replay is the same delivery."""
    sent_at = headers.get(TIMESTAMP_HEADER)
    if sent_at is None:
        raise SignatureRefused(
            "missing X-Stepwise-Timestamp: send the Unix time (seconds) the body was signed"
        )
    if not sent_at.strip().isdigit():
        raise SignatureRefused(f"X-Stepwise-Timestamp {sent_at[:40]!r} is not Unix seconds")
    timestamp = int(sent_at.strip())
    skew = abs(now.timestamp() - timestamp)
    if skew > tolerance_s:
        raise SignatureRefused(
            f"stale timestamp: X-Stepwise-Timestamp is {int(skew)} s from the server's time; "
            f"this hook accepts {tolerance_s} s either way (sign again with the current time)"
        )
    sent = headers.get(SIGNATURE_HEADER)
    if not sent:
        raise SignatureRefused(
            "missing X-Stepwise-Signature: send sha256=<hex HMAC-SHA256 of timestamp.body>"
        )
    offered = [part.strip() for part in sent.split(",") if part.strip()]
    if not offered or not all(part.startswith("sha256=") for part in offered):
        raise SignatureRefused("X-Stepwise-Signature must be sha256=<hex>, comma separated for several")
    expected = [sign(secret, timestamp, body) for secret in secrets_in_use]
    matched = False
    for candidate in offered:
        for wanted in expected:
            # Every pair is compared, so the time taken says nothing about which matched.
            matched = hmac.compare_digest(candidate.encode(), wanted.encode()) or matched
    if not matched:
        raise SignatureRefused(
            "bad signature: no X-Stepwise-Signature matches HMAC-SHA256(secret, timestamp + '.' + body)"
        )
    delivery = headers.get(DELIVERY_HEADER, "").strip()
    if len(delivery) > MAX_DELIVERY_ID:
        raise SignatureRefused(f"X-Stepwise-Delivery is longer than {MAX_DELIVERY_ID} characters")
    if not delivery:
        delivery = hashlib.sha256(f"{timestamp}.".encode() + body).hexdigest()
    return Delivery(delivery, timestamp)


def parsed_body(body: bytes, content_type: str | None) -> Any:
    """The body as a template sees it: parsed JSON for a JSON content type, else the text.
    ValueError naming the problem when it is neither."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"the body is not UTF-8 text (byte {exc.start})") from None
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == "application/json" or kind.endswith("+json"):
        try:
            return json.loads(text) if text.strip() else None
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"the body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from None
    return text


def render_input(
    template: Any,
    body: Any,
    headers: Mapping[str, str],
    delivery: Delivery,
    hook_id: str,
    definition: str,
) -> Any:
    """The run input a delivery gives: the hook's template (default `{{ body }}`) rendered with
    `body`, `headers` (lowercased, the signature left out), `delivery` and `hook`. TemplateError
    when it does not render."""
    scope = {
        "body": body,
        "headers": {k.lower(): v for k, v in headers.items() if k.lower() != SIGNATURE_HEADER},
        "delivery": {"id": delivery.id, "timestamp": delivery.timestamp},
        "hook": {"id": hook_id, "definition": definition},
    }
    rendered = render_value(DEFAULT_INPUT if template is None else template, scope)
    try:
        json.dumps(rendered, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TemplateError(f"the input template gives a value JSON cannot hold: {exc}") from None
    return rendered


def template_problems(value: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """What is wrong with a hook's input template: (path in it, message) for each template that
    does not parse or reads a name other than body, headers, delivery and hook."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    for path, source in iter_templates(value):
        try:
            template = compile_template(source)
        except TemplateError as exc:
            found.append((path, str(exc)))
            continue
        for name in sorted(template.names - WEBHOOK_NAMES):
            found.append((path, f"'{name}' is not known here; a webhook's input may use {_ALLOWED}"))
    return found
