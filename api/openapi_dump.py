"""Write the API's OpenAPI document, from which the web UI's typed client is generated:
`python -m api.openapi_dump web/src/api/openapi.json` (`make web-api` also regenerates the types)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from api.app import create_app
from core.settings import Settings

# Where the web UI keeps its copy; tests/unit/test_web_api_types.py holds it to the app.
WEB_COPY = Path(__file__).resolve().parent.parent / "web" / "src" / "api" / "openapi.json"


def openapi_text() -> str:
    """The app's OpenAPI document as stable, diff-friendly JSON (the routes do not depend on the
    settings, so the defaults give the same document as any deployment)."""
    document = create_app(Settings()).openapi()
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    """Write the document to the path given (default: the web UI's copy)."""
    target = Path(argv[0]) if argv else WEB_COPY
    target.write_text(openapi_text(), encoding="utf-8")
    print(f"wrote {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
