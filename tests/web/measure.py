"""Measures the web app the way bench/RESULTS.md reports it:

- JavaScript + CSS the first screen loads (gzipped),
- time from navigation to the contacts panel rendered, on the demo,
- time to open a 1,000-message thread (click → newest message on screen).

    uv run python -m tests.web.measure
"""

from __future__ import annotations

import gzip
import re
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.web.server import (
    ADMIN,
    BUILT,
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    Api,
    DemoServer,
    ensure_web_app_built,
)


def first_screen_bytes() -> tuple[int, int]:
    html = BUILT.read_text()
    raw = gz = 0
    for ref in re.findall(r'(?:src|href)="/?(assets/[^"]+\.(?:js|css))"', html):
        data = (BUILT.parent / ref).read_bytes()
        raw += len(data)
        gz += len(gzip.compress(data, compresslevel=9))
    return raw, gz


OPEN_AND_WAIT = """el => new Promise(resolve => {
  const t0 = performance.now();
  const seen = () => [...document.querySelectorAll("[role=log] p")]
    .some(p => p.textContent === "Message 1000 of a long thread");
  const obs = new MutationObserver(() => {
    if (!seen()) return;
    obs.disconnect();
    requestAnimationFrame(() => resolve(performance.now() - t0));
  });
  obs.observe(document.body, { childList: true, subtree: true });
  el.click();
})"""


def _ms(page: Any, script: str) -> float:
    return float(page.evaluate(script))


def main() -> int:
    problem = ensure_web_app_built()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    raw, gz = first_screen_bytes()
    print(f"first screen JS+CSS: {raw / 1024:.1f} KB, {gz / 1024:.1f} KB gzipped")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        server = DemoServer(Path(tmp)).start()
        api = Api(server.url)
        contact = api.post(
            "/contacts", {"name": "Thousand Messages", "phones": [{"number": "+14155558888"}]}
        )
        assert isinstance(contact, dict)
        conv = api.post(f"/contacts/{contact['id']}/conversation")
        assert isinstance(conv, dict)
        for i in range(1, 1001):
            body = {"channel": "sms", "body": f"Message {i} of a long thread"}
            api.post(f"/conversations/{conv['id']}/messages", body)
        api.close()
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(server.url + "/")
            page.get_by_label("Email").fill(ADMIN)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            rows = page.get_by_role("list", name="Conversations").get_by_role("link")
            rows.first.wait_for()
            panel: list[float] = []
            mark = "performance.getEntriesByName('parlour:panel')[0].startTime"
            for _ in range(5):
                page.goto(server.url + "/")
                rows.first.wait_for()
                panel.append(_ms(page, mark))
            opens: list[float] = []
            for _ in range(5):
                page.goto(server.url + "/")
                rows.first.wait_for()
                link = page.get_by_role("link", name=re.compile("Thousand Messages"))
                # From the click to the frame after the newest message is in the page.
                opens.append(float(link.evaluate(OPEN_AND_WAIT)))
                page.get_by_role("link", name="Inbox", exact=True).click()
        finally:
            browser.close()
            server.stop()
    print(f"navigation → panel rendered (demo): median {statistics.median(panel):.0f} ms")
    print(f"open a 1,000-message thread: median {statistics.median(opens):.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
