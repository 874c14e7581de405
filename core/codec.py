"""Encrypted payloads: every payload Temporal stores (inputs, outputs, state, answers, and the
messages and stack traces of failures) is AES-256-GCM ciphertext, compressed first when large.

Keys are named: a payload's metadata holds the id of the key that sealed it. The first key of the
list seals new payloads; every listed key opens old ones, so a key is rotated by putting a new
one first and keeping the old ones until no history needs them.

A key list is text: `id:base64key` entries separated by commas or new lines (32-byte keys,
standard or URL-safe base64), from STEPWISE_ENCRYPTION_KEYS or the file
STEPWISE_ENCRYPTION_KEY_FILE (default `<data dir>/encryption-keys`, used when it exists)."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import re
import secrets
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec

from core.settings import Settings

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
COMPRESSION = "stepwise-compression"
ZLIB = b"zlib"
# Payloads at least this large are compressed before they are sealed.
COMPRESS_FROM_BYTES = 4096
_NONCE_BYTES = 12
_KEY_BYTES = 32
_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class KeyListError(ValueError):
    """A key list that cannot be used; the message names the entry and the fix."""


class PayloadSealError(ValueError):
    """A payload that cannot be opened: unknown key id, or altered ciphertext."""


@dataclass(frozen=True)
class EncryptionKeys:
    """Named 256-bit keys; `current` seals, all of them open."""

    current: str
    keys: dict[str, bytes]

    @classmethod
    def parse(cls, text: str, where: str = "the key list") -> EncryptionKeys:
        lines = [line for line in text.splitlines() if not line.strip().startswith("#")]
        entries = [e.strip() for line in lines for e in line.split(",") if e.strip()]
        if not entries:
            raise KeyListError(f"{where} holds no key; write id:base64key (`stepwise keys new` prints one)")
        keys: dict[str, bytes] = {}
        for entry in entries:
            key_id, sep, encoded = entry.partition(":")
            key_id = key_id.strip()
            if not sep or not _ID.fullmatch(key_id):
                raise KeyListError(
                    f"{where}: '{_shown(entry)}' is not id:base64key (the id: letters, digits, . _ -)"
                )
            if key_id in keys:
                raise KeyListError(f"{where}: the key id '{key_id}' is listed twice")
            keys[key_id] = _decoded(encoded.strip(), key_id, where)
        return cls(current=next(iter(keys)), keys=keys)

    @classmethod
    def read(cls, path: Path) -> EncryptionKeys:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise KeyListError(f"cannot read the key file {path}: {exc.strerror}") from None
        return cls.parse(text, where=str(path))


def new_key_entry(key_id: str | None = None) -> str:
    """A fresh `id:base64key` entry."""
    key_id = key_id or f"k{secrets.token_hex(4)}"
    if not _ID.fullmatch(key_id):
        raise KeyListError(f"'{key_id}' cannot be a key id: use 1 to 64 letters, digits, . _ -")
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(_KEY_BYTES)).decode()}"


def create_key_file(path: Path) -> None:
    """Write a key file with one new key, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(
            "# Stepwise payload encryption keys: the first seals, all open. Back this file up:\n"
            "# without it, the runs' inputs, outputs and answers in Temporal cannot be read.\n"
        )
        out.write(new_key_entry() + "\n")


class EncryptionCodec(PayloadCodec):
    """Seals payloads with the current key (AES-256-GCM, a random 96-bit nonce, the key id as
    associated data); opens those sealed with any listed key and passes others through."""

    def __init__(self, keys: EncryptionKeys, compress_from: int = COMPRESS_FROM_BYTES) -> None:
        self._keys = keys
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.keys.items()}
        self._compress_from = compress_from

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.seal(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.open(p) for p in payloads]

    def seal(self, payload: Payload) -> Payload:
        data = payload.SerializeToString()
        metadata = {"encoding": ENCODING, KEY_ID: self._keys.current.encode()}
        if len(data) >= self._compress_from and _compresses(data):
            data = zlib.compress(data, 1)
            metadata[COMPRESSION] = ZLIB
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._ciphers[self._keys.current].encrypt(nonce, data, self._keys.current.encode())
        return Payload(metadata=metadata, data=nonce + sealed)

    def open(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written before encryption was on
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadSealError(
                f"a payload was sealed with the key '{key_id}', which is not among the configured keys "
                f"({', '.join(self._keys.keys)}); add it back (after the current key) to read it"
            )
        nonce, sealed = payload.data[:_NONCE_BYTES], payload.data[_NONCE_BYTES:]
        try:
            data = cipher.decrypt(nonce, sealed, key_id.encode())
        except InvalidTag:
            raise PayloadSealError(
                f"a payload sealed with the key '{key_id}' does not open: it was altered, or the key "
                f"'{key_id}' listed here is not the one that sealed it"
            ) from None
        if payload.metadata.get(COMPRESSION) == ZLIB:
            data = zlib.decompress(data)
        return Payload.FromString(data)


def encrypted_converter(base: DataConverter, keys: EncryptionKeys) -> DataConverter:
    """`base` with every payload sealed, failures' messages and stack traces included."""
    return dataclasses.replace(
        base,
        payload_codec=EncryptionCodec(keys),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def _compresses(data: bytes) -> bool:
    """Whether compressing is worth it: its first 4 KiB shrink by a tenth at least (random or
    already compressed data does not, and compressing it costs milliseconds for nothing)."""
    sample = data[:COMPRESS_FROM_BYTES]
    return len(zlib.compress(sample, 1)) < 0.9 * len(sample)


def _decoded(encoded: str, key_id: str, where: str) -> bytes:
    padded = encoded + "=" * (-len(encoded) % 4)
    try:
        key = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise KeyListError(f"{where}: the key '{key_id}' is not base64") from None
    if len(key) != _KEY_BYTES:
        raise KeyListError(
            f"{where}: the key '{key_id}' is {len(key)} bytes; AES-256 needs {_KEY_BYTES} "
            f"(make one with `stepwise keys new`)"
        )
    return key


def _shown(entry: str) -> str:
    """An entry for an error message, without the secret part."""
    return entry.split(":", 1)[0][:40] + (":..." if ":" in entry else "")


KEY_FILE_NAME = "encryption-keys"


def default_key_file(data_dir: Path) -> Path:
    return data_dir / KEY_FILE_NAME


def configured_keys(settings: Settings) -> EncryptionKeys | None:
    """The keys the settings name: STEPWISE_ENCRYPTION_KEYS, else STEPWISE_ENCRYPTION_KEY_FILE,
    else `<data dir>/encryption-keys` when it exists; None means payloads are not encrypted."""
    if settings.encryption_keys is not None:
        return EncryptionKeys.parse(settings.encryption_keys.get_secret_value(), "STEPWISE_ENCRYPTION_KEYS")
    if settings.encryption_key_file is not None:
        return EncryptionKeys.read(settings.encryption_key_file)
    default = default_key_file(settings.data_dir)
    return EncryptionKeys.read(default) if default.exists() else None


def converter_for(settings: Settings) -> DataConverter:
    """The data converter every client and worker of these settings uses."""
    keys = configured_keys(settings)
    return pydantic_data_converter if keys is None else encrypted_converter(pydantic_data_converter, keys)
