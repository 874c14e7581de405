"""The payload codec: sealed payloads open again, large ones compressed first; keys rotate;
an altered payload or a missing key is a clear error; key lists are checked entry by entry."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError

from core.codec import (
    COMPRESSION,
    ENCODING,
    KEY_ID,
    EncryptionCodec,
    EncryptionKeys,
    KeyListError,
    PayloadSealError,
    configured_keys,
    create_key_file,
    encrypted_converter,
    new_key_entry,
)
from core.settings import Settings

K1 = "k1:" + base64.b64encode(bytes(range(32))).decode()
K2 = "k2:" + base64.b64encode(bytes(range(32, 64))).decode()


def _payload(data: bytes) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


@settings(deadline=None, max_examples=50)
@given(st.binary(max_size=20_000))
def test_a_sealed_payload_opens_to_what_it_was(data: bytes) -> None:
    codec = EncryptionCodec(EncryptionKeys.parse(K1))
    sealed = codec.seal(_payload(data))
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID] == b"k1"
    assert codec.open(sealed) == _payload(data)


def test_large_payloads_are_compressed_and_none_shows_its_text() -> None:
    codec = EncryptionCodec(EncryptionKeys.parse(K1))
    text = b'{"secret": "canary-7f3a"}' * 4000
    sealed = codec.seal(_payload(text))
    assert sealed.metadata[COMPRESSION] == b"zlib"
    assert len(sealed.data) < len(text) / 10
    small = codec.seal(_payload(b'"canary-7f3a"'))
    assert COMPRESSION not in small.metadata
    for payload in (sealed, small):
        assert b"canary" not in payload.SerializeToString()
    assert codec.open(sealed).data == text
    noise = codec.seal(_payload(os.urandom(20_000)))
    assert COMPRESSION not in noise.metadata  # random data does not shrink: not compressed


def test_keys_rotate_new_payloads_use_the_first_and_old_ones_still_open() -> None:
    old = EncryptionCodec(EncryptionKeys.parse(K1)).seal(_payload(b"1"))
    rotated = EncryptionCodec(EncryptionKeys.parse(f"{K2}\n{K1}"))
    assert rotated.open(old) == _payload(b"1")
    assert rotated.seal(_payload(b"2")).metadata[KEY_ID] == b"k2"
    with pytest.raises(PayloadSealError, match="sealed with the key 'k1', which is not among the configured"):
        EncryptionCodec(EncryptionKeys.parse(K2)).open(old)


def test_an_altered_payload_or_a_wrong_key_is_refused() -> None:
    codec = EncryptionCodec(EncryptionKeys.parse(K1))
    sealed = codec.seal(_payload(b"pay 10 EUR"))
    altered = Payload(metadata=dict(sealed.metadata), data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1]))
    with pytest.raises(PayloadSealError, match="does not open: it was altered"):
        codec.open(altered)
    impostor = EncryptionCodec(EncryptionKeys.parse("k1:" + base64.b64encode(bytes(32)).decode()))
    with pytest.raises(PayloadSealError, match="does not open"):
        impostor.open(sealed)


def test_payloads_written_before_encryption_pass_through() -> None:
    plain = _payload(b'"hello"')
    assert EncryptionCodec(EncryptionKeys.parse(K1)).open(plain) == plain


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "holds no key"),
        ("# only a comment\n", "holds no key"),
        ("no-colon", "is not id:base64key"),
        ("bad id!:" + base64.b64encode(bytes(32)).decode(), "is not id:base64key"),
        ("k:%%%", "the key 'k' is not base64"),
        ("k:" + base64.b64encode(bytes(16)).decode(), "is 16 bytes; AES-256 needs 32"),
        (f"{K1},{K1}", "listed twice"),
    ],
)
def test_a_bad_key_list_names_the_entry_and_never_shows_a_secret(text: str, message: str) -> None:
    with pytest.raises(KeyListError, match=message) as caught:
        EncryptionKeys.parse(text, "STEPWISE_ENCRYPTION_KEYS")
    assert "STEPWISE_ENCRYPTION_KEYS" in str(caught.value)
    assert base64.b64encode(bytes(16)).decode() not in str(caught.value)


def test_new_entries_parse_and_url_safe_base64_is_accepted() -> None:
    keys = EncryptionKeys.parse(new_key_entry("main") + "," + new_key_entry())
    assert keys.current == "main"
    assert len(keys.keys) == 2
    url_safe = "u:" + base64.urlsafe_b64encode(bytes([251] * 32)).decode().rstrip("=")
    assert EncryptionKeys.parse(url_safe).keys["u"] == bytes([251] * 32)
    with pytest.raises(KeyListError, match="cannot be a key id"):
        new_key_entry("no spaces")


def test_keys_come_from_the_setting_the_file_or_the_data_dir(tmp_path: Path) -> None:
    assert configured_keys(Settings(data_dir=tmp_path)) is None
    create_key_file(tmp_path / "encryption-keys")
    assert (tmp_path / "encryption-keys").stat().st_mode & 0o777 == 0o600
    from_dir = configured_keys(Settings(data_dir=tmp_path))
    assert from_dir is not None
    other = tmp_path / "other-keys"
    other.write_text(K2 + "\n")
    from_file = configured_keys(Settings(data_dir=tmp_path, encryption_key_file=other))
    assert from_file is not None
    assert from_file.current == "k2"
    from_env = configured_keys(
        Settings(data_dir=tmp_path, encryption_key_file=other, encryption_keys=SecretStr(K1))
    )
    assert from_env is not None
    assert from_env.current == "k1"
    with pytest.raises(KeyListError, match="cannot read the key file"):
        configured_keys(Settings(data_dir=tmp_path, encryption_key_file=tmp_path / "missing"))


async def test_the_converter_seals_values_and_failure_messages() -> None:
    converter = encrypted_converter(pydantic_data_converter, EncryptionKeys.parse(K1))
    payloads = await converter.encode([{"note": "canary-value-91"}])
    assert b"canary-value-91" not in payloads[0].SerializeToString()
    assert await converter.decode(payloads, [dict]) == [{"note": "canary-value-91"}]
    failure = Failure()
    await converter.encode_failure(ApplicationError("canary-error-42 went wrong"), failure)
    assert b"canary-error-42" not in failure.SerializeToString()
    decoded = await converter.decode_failure(failure)
    assert "canary-error-42 went wrong" in str(decoded)
