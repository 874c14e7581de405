"""The codec server for the Temporal UI and CLI (Temporal's remote codec protocol):
`POST /codec/decode` opens sealed payloads, `POST /codec/encode` seals them; operators and
admins only. Bodies are `{"payloads": [{"metadata": {name: base64}, "data": base64}]}`."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field
from temporalio.api.common.v1 import Payload

from api.deps import StaffUser
from api.responses import errors
from core.codec import EncryptionCodec, PayloadSealError

router = APIRouter(prefix="/codec", tags=["codec"])
MAX_PAYLOADS = 1000


class CodecPayload(BaseModel):
    """One payload as Temporal's JSON shows it: metadata values and data in base64."""

    metadata: dict[str, str] = Field(default_factory=dict)
    data: str = ""


class CodecPayloads(BaseModel):
    payloads: list[CodecPayload] = Field(max_length=MAX_PAYLOADS)


def _codec(request: Request) -> EncryptionCodec:
    codec: EncryptionCodec | None = request.app.state.codec
    if codec is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            "payload encryption is off on this server: set STEPWISE_ENCRYPTION_KEYS or "
            "STEPWISE_ENCRYPTION_KEY_FILE (docs/encryption.md)",
        )
    return codec


def _converted(body: CodecPayloads, convert: Callable[[Payload], Payload]) -> CodecPayloads:
    out: list[CodecPayload] = []
    for index, item in enumerate(body.payloads):
        try:
            metadata = {name: _bytes(value) for name, value in item.metadata.items()}
            payload = Payload(metadata=metadata, data=_bytes(item.data))
        except (binascii.Error, ValueError):
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                f"payloads[{index}]: metadata values and data must be base64",
            ) from None
        try:
            converted = convert(payload)
        except PayloadSealError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"payloads[{index}]: {exc}") from None
        out.append(
            CodecPayload(
                metadata={name: _text(value) for name, value in converted.metadata.items()},
                data=_text(converted.data),
            )
        )
    return CodecPayloads(payloads=out)


@router.post("/decode", response_model=CodecPayloads, responses=errors(403, 404))
async def decode(body: CodecPayloads, principal: StaffUser, request: Request) -> CodecPayloads:
    """Open sealed payloads (others come back as they are)."""
    return _converted(body, _codec(request).open)


@router.post("/encode", response_model=CodecPayloads, responses=errors(403, 404))
async def encode(body: CodecPayloads, principal: StaffUser, request: Request) -> CodecPayloads:
    """Seal payloads with the current key."""
    return _converted(body, _codec(request).seal)


def _bytes(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def _text(value: bytes) -> str:
    return base64.b64encode(value).decode()
