"""The web UI's typed client is generated from a committed copy of the API's OpenAPI document
(web/src/api/openapi.json → schema.d.ts); a route or schema changed without regenerating it
fails here, so the UI never compiles against an API that no longer exists."""

from __future__ import annotations

from api.openapi_dump import WEB_COPY, openapi_text


def test_the_web_copy_of_the_openapi_document_is_the_apps() -> None:
    committed = WEB_COPY.read_text(encoding="utf-8")
    assert committed == openapi_text(), (
        "web/src/api/openapi.json is stale: run `make web-api` to regenerate it and the UI's types"
    )
