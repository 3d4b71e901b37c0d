"""The web app's API types are generated from the server's OpenAPI document; these fail
while the committed copies differ from what the current server produces. The fix is to
regenerate them (`make api-types`) and let `npm run build` type-check the app against them."""

from __future__ import annotations

import difflib
import os
import shutil

import pytest

from tests.web.api_types import OPENAPI_JSON, npm_run, openapi_text
from tests.web.server import WEB

REGENERATE = "regenerate them with `make api-types`"


def test_the_committed_openapi_document_is_the_servers() -> None:
    committed = OPENAPI_JSON.read_text()
    current = openapi_text()
    diff = difflib.unified_diff(
        committed.splitlines(), current.splitlines(), "committed", "server", lineterm="", n=2
    )
    assert committed == current, f"{REGENERATE}:\n" + "\n".join(list(diff)[:60])


def test_the_committed_types_are_generated_from_it() -> None:
    if shutil.which("npm") is None or not (WEB / "node_modules").is_dir():
        message = "the web app's dependencies are not installed (cd web && npm ci)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    result = npm_run("api:check")
    assert result.returncode == 0, f"web/src/api/openapi.d.ts is stale, {REGENERATE}\n" + (
        result.stdout[-2000:] + result.stderr[-2000:]
    )
