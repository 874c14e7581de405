"""Security headers on every response, CORS from the allow-list, and a docs page whose CSP lets
it load its assets."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.integration.api_client import Api
from tests.integration.hardened_app import client, hardened_settings, serving

ME = "/api/v1/users/me"
UI = "https://ui.example.org"


def _assert_secured(headers: httpx.Headers) -> None:
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["content-security-policy"] == (
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )
    assert headers["cache-control"] == "no-store"


async def test_every_kind_of_answer_carries_the_security_headers(api: Api) -> None:
    await api.add_user("ada")
    answers = [
        await api.http.post(
            "/api/v1/auth/login", json={"username": "ada", "password": "correct horse battery"}
        ),
        await api.http.get(ME),
        await api.http.get("/api/v1/no-such-thing"),
        await api.http.post("/api/v1/auth/login", json={}),
        await api.http.get("/api/openapi.json"),
    ]
    assert [a.status_code for a in answers] == [200, 401, 404, 422, 200]
    for answer in answers:
        _assert_secured(answer.headers)
        assert "strict-transport-security" not in answer.headers


async def test_hsts_only_over_https_unless_a_setting_says_so(db_url: str, tmp_path: Path) -> None:
    async with serving(hardened_settings(db_url, tmp_path)) as app:
        async with client(app, base_url="https://test") as https:
            answer = await https.get(ME)
            assert answer.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
        async with client(app) as http:
            assert "strict-transport-security" not in (await http.get(ME)).headers
    async with serving(hardened_settings(db_url, tmp_path, hsts=True)) as app, client(app) as http:
        assert "strict-transport-security" in (await http.get(ME)).headers


async def test_cors_answers_only_listed_origins_with_credentials(db_url: str, tmp_path: Path) -> None:
    settings = hardened_settings(db_url, tmp_path, cors_origins=[UI])
    async with serving(settings) as app, client(app) as http:
        preflight = {
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization",
        }
        allowed = await http.options(ME, headers={"origin": UI, **preflight})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == UI
        assert allowed.headers["access-control-allow-credentials"] == "true"
        refused = await http.options(ME, headers={"origin": "https://evil.example.com", **preflight})
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        simple = await http.get(ME, headers={"origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in simple.headers
        listed = await http.get(ME, headers={"origin": UI})
        assert listed.headers["access-control-allow-origin"] == UI
        assert "retry-after" in listed.headers["access-control-expose-headers"].lower()


async def test_no_cors_without_origins_and_no_credentials_for_any_origin(db_url: str, tmp_path: Path) -> None:
    async with serving(hardened_settings(db_url, tmp_path)) as app, client(app) as http:
        answer = await http.get(ME, headers={"origin": UI})
        assert "access-control-allow-origin" not in answer.headers
    async with serving(hardened_settings(db_url, tmp_path, cors_origins=["*"])) as app, client(app) as http:
        answer = await http.get(ME, headers={"origin": UI})
        assert answer.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in answer.headers


def _sources(csp: str, directive: str) -> list[str]:
    for part in csp.split(";"):
        name, *values = part.split()
        if name == directive:
            return values
    return []


def _allowed(url: str, sources: list[str]) -> bool:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" in sources or (not parts.netloc and "'self'" in sources)


async def test_the_docs_page_csp_admits_its_assets_and_its_own_inline_script(api: Api) -> None:
    page = await api.http.get("/api/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    html = page.text
    scripts = re.findall(r'<script src="([^"]+)"', html)
    styles = re.findall(r'<link type="text/css" rel="stylesheet" href="([^"]+)"', html)
    icons = re.findall(r'<link rel="shortcut icon" href="([^"]+)"', html)
    assert scripts
    assert styles
    assert icons
    assert all(_allowed(url, _sources(csp, "script-src")) for url in scripts)
    assert all(_allowed(url, _sources(csp, "style-src")) for url in styles)
    assert all(_allowed(url, _sources(csp, "img-src")) for url in icons)
    [inline] = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in _sources(csp, "script-src")
    assert "'unsafe-inline'" not in _sources(csp, "script-src")
    # The page then fetches the OpenAPI document from this origin.
    [openapi_url] = re.findall(r"url: '([^']+)'", inline)
    assert _allowed(openapi_url, _sources(csp, "connect-src"))
    assert (await api.http.get(openapi_url)).status_code == 200
    assert page.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    "origin", ["https://ui.example.org/", "ui.example.org", "https://ui.example.org/app"]
)
def test_a_malformed_cors_origin_is_refused_at_start(origin: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is not an origin; write scheme://host"):
        hardened_settings("sqlite+aiosqlite://", tmp_path, cors_origins=[origin])
