"""The web app's API types, generated from the server's OpenAPI document.

    make api-types        (or: uv run python -m tests.web.api_types)

writes ``web/src/api/openapi.json`` from ``create_app()`` (no server runs), then
``web/src/api/openapi.d.ts`` from it with openapi-typescript (``npm run api:types``).
Run it after changing a schema or a route; ``test_api_types.py`` fails while the
committed files differ from what the current server produces.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from parlour.app import create_app
from parlour.config import Settings
from tests.web.server import WEB

OPENAPI_JSON = WEB / "src" / "api" / "openapi.json"


def openapi_text() -> str:
    """The OpenAPI document the server publishes at /api/v1/openapi.json, as committed."""
    app = create_app(Settings(_env_file=None))
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"


def npm_run(script: str) -> subprocess.CompletedProcess[str]:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is missing")
    return subprocess.run(
        [npm, "run", "--silent", script], cwd=WEB, capture_output=True, text=True, timeout=300
    )


def main() -> int:
    OPENAPI_JSON.write_text(openapi_text())
    print(f"wrote {OPENAPI_JSON.relative_to(WEB.parent)}")
    result = npm_run("api:types")
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
