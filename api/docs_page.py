"""The Swagger UI page at /api/docs, with a Content-Security-Policy that lets it load.

Swagger UI's script and stylesheet come from the jsDelivr CDN (FastAPI's default): the reader's
browser fetches them, not the server. The page's one inline script is allowed by its hash, so no
other inline script can run.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

CDN = "https://cdn.jsdelivr.net"
FAVICON_ORIGIN = "https://fastapi.tiangolo.com"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def docs_csp(html: str) -> str:
    """The CSP of a Swagger UI page: its CDN assets, its inline scripts by hash, calls to this
    origin only."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'none'; script-src {CDN} {hashes}; "
        # Swagger UI sets style attributes as it renders.
        f"style-src {CDN} 'unsafe-inline'; img-src 'self' data: {FAVICON_ORIGIN}; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


def install_docs_page(app: FastAPI, path: str, openapi_url: str) -> None:
    """Serve Swagger UI for `openapi_url` at `path` (the app is built with docs_url=None)."""

    async def swagger_ui(request: Request) -> HTMLResponse:
        root_path = request.scope.get("root_path", "").rstrip("/")
        page = get_swagger_ui_html(
            openapi_url=root_path + openapi_url,
            title=f"{app.title} - Swagger UI",
            # The online validator badge would be a request to a third party.
            swagger_ui_parameters={"validatorUrl": None},
        )
        html = bytes(page.body).decode()
        return HTMLResponse(html, headers={"Content-Security-Policy": docs_csp(html)})

    app.add_route(path, swagger_ui, include_in_schema=False)
