"""Packaging: the wheel built from this checkout, installed into a fresh virtual
environment on a PATH without Node, serves the whole web app and the widget.

The wheel reuses the bundle `make setup` built (hatch_build.py runs npm only when it is
absent), so building it takes seconds; installing takes the dependencies from uv's cache.
Outside CI the test skips when the bundle or uv is missing; with CI=true it fails instead.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI
from tests.web.server import free_port

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "parlour" / "static"
PASSWORD = "wheel-test-password"


def _need(condition: bool, message: str) -> None:
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{message} (CI=true: the packaging test must run)")
    pytest.skip(message)


def _uv() -> str | None:
    # `uv run` names itself in UV; `make` installs it in ~/.local/bin.
    for candidate in (os.environ.get("UV"), shutil.which("uv"), Path.home() / ".local/bin/uv"):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    return None


def _path_without_node() -> str:
    """This PATH less every folder holding node or npm: a machine without Node."""
    kept = [
        d
        for d in os.environ.get("PATH", "").split(os.pathsep)
        if d and not any((Path(d) / tool).exists() for tool in ("node", "npm", "npx"))
    ]
    return os.pathsep.join(kept)


def _env(path: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARLOUR_", "VIRTUAL_ENV"))}
    env.update(PATH=path, PARLOUR_DEMO_PASSWORD=PASSWORD, PARLOUR_LOG_LEVEL="warning")
    return env


def _run(cmd: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_wheel_serves_the_web_app_without_node(tmp_path: Path) -> None:
    _need(
        (STATIC / "app" / "index.html").is_file() and (STATIC / "widget" / "widget.js").is_file(),
        "the web app is not built: run `make setup` first",
    )
    uv = _uv()
    _need(uv is not None, "uv is missing: `make setup` installs it")
    assert uv is not None
    env = _env(_path_without_node())

    # Built, installed and run without Node on the PATH.
    dist = tmp_path / "dist"
    _run([uv, "build", "--wheel", "--out-dir", str(dist), str(ROOT)], env, tmp_path)
    (wheel,) = dist.glob("parlour-*-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert "parlour/static/app/index.html" in names
    assert "parlour/static/widget/widget.js" in names
    assert any(re.fullmatch(r"parlour/static/app/assets/index-[\w-]+\.js\.br", n) for n in names)

    venv = tmp_path / "venv"
    _run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], env, tmp_path)
    python = venv / "bin" / "python"
    _run([uv, "pip", "install", "--quiet", "--python", str(python), str(wheel)], env, tmp_path)
    where = _run(
        [
            str(python),
            "-c",
            "import shutil, parlour; print(shutil.which('node'), parlour.__file__)",
        ],
        env,
        tmp_path,
    ).split()
    assert where[0] == "None"
    installed = Path(where[1]).parent
    assert installed.is_relative_to(venv)  # the wheel's copy, not the checkout's

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        # --smtp-port 0: the demo's mail receiver is not what this checks, and its port
        # may be taken by another test run.
        [
            venv / "bin" / "parlour",
            "demo",
            "--db",
            "demo.db",
            "--port",
            str(port),
            "--smtp-port",
            "0",
        ],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(url, server, tmp_path / "server.log")
        with httpx.Client(base_url=url, timeout=10) as http:
            page = http.get("/", headers={"Accept-Encoding": "gzip"})
            assert page.status_code == 200
            assert page.headers["content-type"] == "text/html; charset=utf-8"
            assert page.headers["content-encoding"] == "gzip"
            index = (installed / "static" / "app" / "index.html").read_bytes()
            assert page.content == index
            (script,) = re.findall(
                r'<script type="module"[^>]* src="(/assets/[^"]+\.js)"', page.text
            )

            raw = http.get(script, headers={"Accept-Encoding": "gzip"})
            assert raw.status_code == 200
            assert raw.headers["content-type"] == "text/javascript; charset=utf-8"
            assert raw.headers["cache-control"] == "public, max-age=31536000, immutable"
            shipped = installed / "static" / "app" / script.lstrip("/")
            assert raw.content == shipped.read_bytes()
            assert gzip.decompress(shipped.with_name(shipped.name + ".gz").read_bytes()) == (
                shipped.read_bytes()
            )
            br = http.head(script, headers={"Accept-Encoding": "br"})
            assert br.headers["content-encoding"] == "br"
            assert (
                int(br.headers["content-length"])
                == shipped.with_name(shipped.name + ".br").stat().st_size
            )

            loader = http.get("/widget.js")
            assert loader.status_code == 200
            assert loader.headers["content-type"] == "text/javascript; charset=utf-8"
            assert loader.content == (installed / "static" / "widget" / "widget.js").read_bytes()

            # The demo's data came with it (migrations and sample data are in the wheel).
            login = http.post(
                "/api/v1/auth/login", json={"email": "admin@example.com", "password": PASSWORD}
            )
            assert login.status_code == 200, login.text
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)
        log.close()


def _wait_for(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the installed parlour exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the installed parlour did not start:\n{log.read_text()[-3000:]}")
