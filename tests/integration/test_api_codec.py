"""The codec endpoint (Temporal's remote codec protocol): operators and admins open and seal
payloads; a member gets 403, no token 401; bad base64 or a foreign key is a 422 naming the
payload; with encryption off it is 404 naming the settings."""

from __future__ import annotations

import base64
from pathlib import Path

from pydantic import SecretStr
from temporalio.api.common.v1 import Payload

from core.codec import EncryptionCodec, EncryptionKeys, new_key_entry
from core.settings import Settings
from tests.integration.api_client import TEST_SECRET, running_api


def _json(payload: Payload) -> dict[str, object]:
    return {
        "metadata": {k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
        "data": base64.b64encode(payload.data).decode(),
    }


async def test_operators_open_and_seal_payloads_others_may_not(db_url: str, tmp_path: Path) -> None:
    entry = new_key_entry("k1")
    settings = Settings(
        data_dir=tmp_path, database_url=db_url, secret_key=TEST_SECRET, encryption_keys=SecretStr(entry)
    )
    codec = EncryptionCodec(EncryptionKeys.parse(entry))
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'{"note": "canary-5d1"}')
    sealed = codec.seal(plain)
    async with running_api(settings) as api:
        await api.add_user("otto", role="operator")
        await api.add_user("ada")
        otto = await api.token("otto")
        body = {"payloads": [_json(sealed), _json(plain)]}
        opened = await api.http.post("/codec/decode", json=body, headers=otto | {"X-Namespace": "default"})
        assert opened.status_code == 200, opened.text
        assert opened.json()["payloads"] == [_json(plain), _json(plain)]
        resealed = await api.http.post("/codec/encode", json={"payloads": [_json(plain)]}, headers=otto)
        assert resealed.status_code == 200
        back = resealed.json()["payloads"][0]
        assert base64.b64decode(back["metadata"]["encryption-key-id"]) == b"k1"
        assert b"canary" not in base64.b64decode(back["data"])
        again = await api.http.post("/codec/decode", json={"payloads": [back]}, headers=otto)
        assert again.json()["payloads"] == [_json(plain)]

        assert (await api.http.post("/codec/decode", json=body)).status_code == 401
        member = await api.http.post("/codec/decode", json=body, headers=await api.token("ada"))
        assert member.status_code == 403

        bad = await api.http.post(
            "/codec/decode", json={"payloads": [{"metadata": {}, "data": "%%%"}]}, headers=otto
        )
        assert bad.status_code == 422
        assert bad.json()["detail"] == "payloads[0]: metadata values and data must be base64"
        foreign = EncryptionCodec(EncryptionKeys.parse(new_key_entry("other"))).seal(plain)
        refused = await api.http.post(
            "/codec/decode", json={"payloads": [_json(plain), _json(foreign)]}, headers=otto
        )
        assert refused.status_code == 422
        assert refused.json()["detail"].startswith("payloads[1]: a payload was sealed with the key 'other'")


async def test_with_encryption_off_the_codec_says_how_to_turn_it_on(db_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=db_url, secret_key=TEST_SECRET)
    async with running_api(settings) as api:
        await api.add_user("root", role="admin")
        off = await api.http.post("/codec/decode", json={"payloads": []}, headers=await api.token("root"))
        assert off.status_code == 404
        assert "STEPWISE_ENCRYPTION_KEYS" in off.json()["detail"]
