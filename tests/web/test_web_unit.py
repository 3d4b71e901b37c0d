"""Runs the web app's own unit tests (vitest) as part of the Python test run, so that
`make test` and CI cover them: the live-state reducer, the socket's back-off, the stores."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.web.server import WEB


def test_vitest_suite_passes() -> None:
    npm = shutil.which("npm")
    if npm is None or not (WEB / "node_modules").is_dir():
        message = "the web app's dependencies are not installed (cd web && npm ci)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(
        [npm, "test", "--silent"], cwd=WEB, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
