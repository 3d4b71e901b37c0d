"""The first screen's transfer, as a browser sees it: a fresh Chromium profile (empty
cache) opens the demo's `/`, waits for the sign-in form, signs in and waits for the contacts
panel; every response's bytes on the wire (headers + body as sent, compressed or not) are
added up from Playwright's request sizes.

    uv run python -m bench.web.transfer

"app" is index.html and the JavaScript and CSS it loads (what precompression changes);
"all" adds the API answers of signing in and the panel. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.web.server import (
    ADMIN,
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    DemoServer,
    ensure_web_app_built,
)


def _kb(n: int) -> str:
    return f"{n / 1024:.1f} KB"


Row = tuple[str, str, int, int]


def measure(url: str) -> tuple[list[Row], list[Row]]:
    """(path, content-encoding, bytes on the wire, decoded body bytes) per response, of
    the first visit and of a second one in the same browser (its cache warm)."""
    from playwright.sync_api import sync_playwright

    seen: list[Any] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.on("requestfinished", lambda request: seen.append(request))
            page.goto(url + "/")
            page.get_by_label("Email").fill(ADMIN)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("list", name="Conversations").get_by_role("link").first.wait_for()
            page.wait_for_load_state("networkidle")
            first = _rows(seen)
            seen.clear()
            page.goto(url + "/")
            page.get_by_role("list", name="Conversations").get_by_role("link").first.wait_for()
            page.wait_for_load_state("networkidle")
            return first, _rows(seen)
        finally:
            browser.close()


def _rows(requests: list[Any]) -> list[Row]:
    rows = []
    for request in requests:
        response = request.response()
        if response is None:
            continue
        sizes = request.sizes()  # 0 for an answer from the browser's cache
        wire = sizes["responseHeadersSize"] + sizes["responseBodySize"]
        encoding = response.headers.get("content-encoding", "-")
        rows.append((urlsplit(request.url).path, encoding, wire, len(response.body())))
    return rows


def _report(title: str, rows: list[Row]) -> None:
    print(title)
    for path, encoding, wire, body in rows:
        print(f"  {path[:58]:58} {encoding:5} {_kb(wire):>9} on the wire, {_kb(body):>9} decoded")
    app = [r for r in rows if r[0] == "/" or r[0].startswith("/assets/")]
    wire, body = sum(r[2] for r in app), sum(r[3] for r in app)
    print(f"  app (index.html + JS + CSS): {_kb(wire)} on the wire, {_kb(body)} decoded")
    print(f"  all ({len(rows)} responses): {_kb(sum(r[2] for r in rows))} on the wire")


def main() -> int:
    problem = ensure_web_app_built()
    if problem:
        raise SystemExit(problem)
    with tempfile.TemporaryDirectory() as tmp:
        server = DemoServer(Path(tmp)).start()
        try:
            first, again = measure(server.url)
        finally:
            server.stop()
    _report("first visit (empty cache):", first)
    _report("second visit (same browser):", again)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
