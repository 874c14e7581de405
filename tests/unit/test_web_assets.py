"""The API serves the built web UI at /: its files, index.html for the UI's own routes, and how
to build it while it is not built; never in place of the API's paths."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.web_assets import WEB_CSP, temporal_ui_link
from core.settings import Settings

PAGE = '<!doctype html><html><head><meta name="stepwise-temporal-ui" content="" /></head><body></body></html>'


def _get(settings: Settings, *paths: str, method: str = "GET") -> list[httpx.Response]:
    async def fetch() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=create_app(settings), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return [await http.request(method, path) for path in paths]

    return asyncio.run(fetch())


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    built = tmp_path / "dist"
    (built / "assets").mkdir(parents=True)
    (built / "index.html").write_text(PAGE)
    (built / "assets" / "index-abc123.js").write_text("console.log('stepwise')")
    (built / "robots.txt").write_text("User-agent: *\n")
    (built / ".built").write_text("")
    return built


def test_without_a_build_the_page_says_how_to_build_it(tmp_path: Path) -> None:
    settings = Settings(web_dist=tmp_path / "missing")
    for response in _get(settings, "/", "/runs/abc"):
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/plain")
        assert "make web" in response.text


def test_the_page_loads_at_slash_and_at_the_uis_own_routes(dist: Path) -> None:
    settings = Settings(web_dist=dist, temporal_ui_url="https://temporal.example.org/")
    for response in _get(settings, "/", "/runs/pick-scenes-k89b1e", "/inbox?x=1"):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["content-security-policy"] == WEB_CSP
        assert response.headers["cache-control"] == "no-cache"
        assert 'content="https://temporal.example.org/namespaces/default"' in response.text


def test_files_are_served_and_hashed_assets_cached_for_good(dist: Path) -> None:
    script, robots, missing, hidden = _get(
        Settings(web_dist=dist), "/assets/index-abc123.js", "/robots.txt", "/assets/old-chunk.js", "/.built"
    )
    assert script.status_code == 200
    assert script.text == "console.log('stepwise')"
    assert "javascript" in script.headers["content-type"]
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert robots.text == "User-agent: *\n"
    assert robots.headers["cache-control"] == "no-cache"
    # A chunk no build has any more is a 404, not the page (which a script tag cannot run).
    assert missing.status_code == 404
    assert hidden.headers["content-type"].startswith("text/html")  # dotfiles are never served


def test_nothing_outside_the_build_is_served(dist: Path) -> None:
    (dist.parent / "secret.txt").write_text("the content of a file beside the build")
    for response in _get(Settings(web_dist=dist), "/..%2Fsecret.txt", "/assets/..%2F..%2Fsecret.txt"):
        assert "beside the build" not in response.text


def test_the_apis_paths_are_never_the_page(dist: Path) -> None:
    settings = Settings(web_dist=dist)
    unknown, codec, metrics, openapi = _get(
        settings, "/api/v1/no-such-thing", "/codec/nothing", "/metrics", "/api/openapi.json"
    )
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "Not Found"}
    assert codec.status_code == 404
    assert codec.json() == {"detail": "Not Found"}
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "http_requests" in metrics.text or "python_info" in metrics.text
    assert "paths" in openapi.json()
    (post,) = _get(settings, "/api/v1/runs/x/nothing", method="POST")
    assert post.status_code == 404
    assert post.json() == {"detail": "Not Found"}


def test_the_temporal_ui_link_is_known_in_development_or_when_configured() -> None:
    assert temporal_ui_link(Settings(temporal_ui_port=8601)) == "http://127.0.0.1:8601/namespaces/default"
    production = Settings(environment="production", secret_key="x" * 40)
    assert temporal_ui_link(production) == ""
    configured = Settings(temporal_ui_url="https://t.example.org", temporal_namespace="prod")
    assert temporal_ui_link(configured) == "https://t.example.org/namespaces/prod"


def test_scripts_go_gzipped_to_a_client_that_takes_gzip_and_plain_to_one_that_does_not(dist: Path) -> None:
    script = "export const words = " + repr(["stepwise"] * 2_000) + ";\n"
    (dist / "assets" / "index-abc123.js").write_text(script)
    settings = Settings(web_dist=dist)

    async def fetch() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=create_app(settings), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            packed = await http.get("/assets/index-abc123.js", headers={"Accept-Encoding": "gzip"})
            plain = await http.get("/assets/index-abc123.js", headers={"Accept-Encoding": "identity"})
            return packed, plain

    packed, plain = asyncio.run(fetch())
    assert packed.headers["content-encoding"] == "gzip"
    assert int(packed.headers["content-length"]) < len(script) / 10  # what went over the wire
    assert packed.text == plain.text == script  # httpx unpacks it
    assert packed.headers["content-type"].startswith("text/javascript")
    assert "content-encoding" not in plain.headers
    assert packed.headers["vary"] == plain.headers["vary"] == "Accept-Encoding"
