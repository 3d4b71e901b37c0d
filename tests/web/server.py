"""Runs a real `parlour demo` server for the browser tests and the screenshot script.

The server is a separate process on a free port with its own SQLite file, exactly as a
person would run it; tests talk to it over HTTP and drive it through Chromium.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
BUILT = ROOT / "parlour" / "static" / "app" / "index.html"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "parlour-demo"
TWILIO_SID = "AC" + "0" * 31 + "1"
TWILIO_TOKEN = "browser-test-auth-token"
ADMIN = "admin@example.com"
AGENT = "agent@example.com"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_web_app_built() -> str | None:
    """Builds the web app if it is missing; returns why it could not, or None."""
    if BUILT.is_file():
        return None
    npm = shutil.which("npm")
    if npm is None:
        return "the web app is not built and npm is missing (run `make setup`)"
    if not (WEB / "node_modules").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True)
    subprocess.run([npm, "run", "build"], cwd=WEB, check=True)
    return None if BUILT.is_file() else "`npm run build` did not produce the web app"


def _parlour_command() -> list[str]:
    script = Path(sys.executable).parent / "parlour"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from parlour.cli import main; main()"]


class DemoServer:
    """`parlour demo --db PATH --port N`, started, waited for, and stopped."""

    def __init__(
        self, workdir: Path, *, port: int | None = None, env: dict[str, str] | None = None
    ) -> None:
        self.workdir = workdir
        self.extra_env = env or {}
        self.db = workdir / "demo.db"
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            PARLOUR_DEMO_PASSWORD=PASSWORD,
            PARLOUR_PUBLIC_URL=self.url,
            PARLOUR_LOG_LEVEL="warning",
            PARLOUR_SECRET_KEY="browser-tests",
        )
        env.pop("PARLOUR_DATABASE_URL", None)
        env.pop("PARLOUR_REDIS_URL", None)
        env.update(self.extra_env)
        return env

    def start(self) -> DemoServer:
        cmd = [*_parlour_command(), "demo", "--db", str(self.db), "--port", str(self.port)]
        self._spawn(cmd, self._env())
        return self

    def website(self) -> str:
        """The demo company's website (with the chat widget) `parlour demo` printed; it is
        served by the demo process only, not after restart()."""
        found = re.search(r"with the chat widget\): (http://\S+?)/?$", self.log.read_text(), re.M)
        if not found:
            raise RuntimeError(f"no demo website in the log:\n{self.log.read_text()[-2000:]}")
        return found.group(1)

    def workflows(self, *, enabled: bool) -> None:
        """Turns every one of the demo's workflows on or off."""
        api = Api(self.url)
        try:
            found = api.get("/workflows")
            assert isinstance(found, list)
            for workflow in found:
                api.patch(f"/workflows/{workflow['id']}", {"enabled": enabled})
        finally:
            api.close()

    def restart(self, *, down_for: float = 0.0) -> None:
        """Stops the process and serves the same database again (as `parlour serve`)."""
        self.stop()
        time.sleep(down_for)
        env = self._env()
        env["PARLOUR_DATABASE_URL"] = f"sqlite+aiosqlite:///{self.db}"
        self._spawn([*_parlour_command(), "serve", "--port", str(self.port)], env)

    def _spawn(self, cmd: list[str], env: dict[str, str]) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                cmd, cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"parlour exited early:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"parlour did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None


class Api:
    """A logged-in HTTP client for arranging data and acting as a second agent."""

    def __init__(self, base_url: str, email: str = ADMIN) -> None:
        self.client = httpx.Client(base_url=f"{base_url}/api/v1", timeout=10)
        res = self.client.post("/auth/login", json={"email": email, "password": PASSWORD})
        res.raise_for_status()
        self.me = res.json()["user"]
        self.client.headers["X-CSRF-Token"] = res.json()["csrf_token"]

    def get(self, path: str, **params: object) -> object:
        res = self.client.get(path, params=params)
        res.raise_for_status()
        return res.json()

    def post(self, path: str, body: object | None = None) -> object:
        res = self.client.post(path, json=body if body is not None else {})
        res.raise_for_status()
        return res.json() if res.content else None

    def patch(self, path: str, body: object) -> object:
        res = self.client.patch(path, json=body)
        res.raise_for_status()
        return res.json()

    def conversation_of(self, name: str) -> dict[str, object]:
        page = self.get("/conversations", view="all", q=name, limit=5)
        assert isinstance(page, dict)
        for item in page["items"]:
            if item["contact"]["name"] == name:
                return dict(item)
        raise LookupError(name)

    def close(self) -> None:
        self.client.close()

    def connect_twilio(self) -> None:
        """Stores (unverified) Twilio credentials, so that signed webhooks are accepted."""
        body = {"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN, "verify": False}
        self.client.put("/sms/providers/twilio", json=body).raise_for_status()


def twilio_signature(url: str, params: dict[str, str], token: str = TWILIO_TOKEN) -> str:
    """X-Twilio-Signature as Twilio computes it: HMAC-SHA1 over the URL and sorted params."""
    data = url + "".join(k + params[k] for k in sorted(params))
    digest = hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def inbound_sms(base_url: str, *, from_: str, to: str, body: str) -> None:
    """A text from a contact, delivered the way Twilio delivers it (signed webhook)."""
    url = f"{base_url}/webhooks/twilio/sms"
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": TWILIO_SID,
        "From": from_,
        "To": to,
        "Body": body,
        "NumMedia": "0",
    }
    res = httpx.post(
        url, data=params, headers={"X-Twilio-Signature": twilio_signature(url, params)}
    )
    res.raise_for_status()
