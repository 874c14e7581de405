"""The web UI's built assets (web/dist, `make web`; STEPWISE_WEB_DIST names another folder) at /:
files as they are, and index.html for every other path, so the UI's own routes (/runs/…, /inbox)
load the app. It answers only what no route of the API matched, so it never shadows /api, /codec
or /metrics; paths under those stay the API's (a JSON 404 there, never the page)."""

from __future__ import annotations

import gzip
import html
import mimetypes
import re
from pathlib import Path

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from core.settings import Settings

DIST = Path(__file__).resolve().parent.parent / "web" / "dist"
# Never the page: what lives here is the API's, and a typo in a client's URL should say so.
RESERVED = ("/api", "/codec", "/metrics")
# The app's scripts and styles come from this origin only; no inline script can run. React sets
# styles through the DOM (not inline markup), which style-src 'self' allows; the 2FA QR code is
# a data: image.
WEB_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
# Vite names what it builds under assets/ by content hash: a changed file is a new name.
IMMUTABLE = "public, max-age=31536000, immutable"
NOT_BUILT = (
    "The Stepwise web UI is not built yet. Build it with `make web` (npm ci and vite build in web/, "
    "Node 20 or later), then reload this page. The API is at /api/v1 and its docs at /api/docs.\n"
)
# What gzip shrinks; images and fonts are compressed already. Kept in memory once compressed
# (a build is a few hundred KB).
COMPRESSIBLE = {".js", ".css", ".svg", ".json", ".map", ".txt", ".webmanifest"}
_TEMPORAL_UI_META = re.compile(r'(<meta name="stepwise-temporal-ui" content=")[^"]*(")')


def temporal_ui_link(settings: Settings) -> str:
    """Where the UI links a run's namespace in the Temporal UI ('' when unknown): the configured
    address, or in development the dev server's."""
    base = settings.temporal_ui_url
    if base is None and settings.environment == "development":
        base = f"http://{settings.temporal_host}:{settings.temporal_ui_port}"
    if base is None:
        return ""
    return f"{base.rstrip('/')}/namespaces/{settings.temporal_namespace}"


class WebAssets:
    """Responses for the paths the API leaves to the UI."""

    def __init__(self, dist: Path, temporal_ui: str) -> None:
        self.dist = dist.resolve()
        self.temporal_ui = temporal_ui
        self._page: tuple[tuple[int, int], str] | None = None
        self._packed: dict[Path, tuple[tuple[int, int], bytes]] = {}

    def response(self, path: str, gzip_ok: bool = False) -> Response:
        """The file at `path` (gzipped when the client takes it and that helps), else the app's
        page (index.html), else how to build it."""
        index = self.dist / "index.html"
        if not index.is_file():
            return PlainTextResponse(NOT_BUILT, status_code=404)
        relative = path.lstrip("/")
        parts = relative.split("/")
        if relative and not any(part.startswith(".") for part in parts):
            candidate = (self.dist / relative).resolve()
            if candidate.is_relative_to(self.dist) and candidate.is_file():
                cache = IMMUTABLE if parts[0] == "assets" else "no-cache"
                packed = self._gzipped(candidate) if gzip_ok else None
                if packed is not None:
                    media = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
                    headers = {"Cache-Control": cache, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
                    return Response(packed, media_type=media, headers=headers)
                return FileResponse(candidate, headers={"Cache-Control": cache, "Vary": "Accept-Encoding"})
        if parts[0] == "assets":
            # A chunk of an older build: the page that asks for it should reload, not get HTML.
            return PlainTextResponse(f"no asset {path}; reload the page", status_code=404)
        return HTMLResponse(
            self._index(index),
            headers={"Content-Security-Policy": WEB_CSP, "Cache-Control": "no-cache"},
        )

    def _gzipped(self, file: Path) -> bytes | None:
        """The file gzipped, made once per version of it; None for a kind that does not shrink."""
        if file.suffix not in COMPRESSIBLE:
            return None
        stat = file.stat()
        version = (stat.st_mtime_ns, stat.st_size)
        kept = self._packed.get(file)
        if kept is None or kept[0] != version:
            kept = (version, gzip.compress(file.read_bytes(), compresslevel=9, mtime=0))
            self._packed[file] = kept
        return kept[1]

    def _index(self, index: Path) -> str:
        stat = index.stat()
        version = (stat.st_mtime_ns, stat.st_size)
        if self._page is None or self._page[0] != version:
            page = index.read_text(encoding="utf-8")
            link = html.escape(self.temporal_ui, quote=True)
            self._page = (version, _TEMPORAL_UI_META.sub(lambda m: m[1] + link + m[2], page, count=1))
        return self._page[1]


def _reserved(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in RESERVED)


def install_web_assets(app: FastAPI, settings: Settings) -> None:
    """Serve the UI for the GET and HEAD requests that no route matches (the router's default)."""
    not_found: ASGIApp = app.router.default
    site = WebAssets(settings.web_dist or DIST, temporal_ui_link(settings))

    async def default(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and not _reserved(scope["path"]):
            accepts = Headers(scope=scope).get("accept-encoding", "")
            await site.response(scope["path"], "gzip" in accepts.lower())(scope, receive, send)
            return
        await not_found(scope, receive, send)

    app.router.default = default
