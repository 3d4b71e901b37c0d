"""The web app and widget as a browser receives them: compressed twins chosen by
Accept-Encoding, cache headers, security headers, and 404s, through HTTP.

The files are a small build of our own (real gzip twins; the brotli twins are marked
bytes, since the server only picks a file and never compresses): what is asserted is the
bytes on the wire and the headers a browser acts on.
"""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from parlour.app import create_app
from parlour.config import Settings
from parlour.webapp import APP_CSP

INDEX = b'<!doctype html><html><head><script type="module" src="/assets/index-A1b2.js"></script>'
SCRIPT = b"console.log('the agent app');\n" * 200
LOADER = b"(function(){/* the widget's loader */})();\n" * 100
CHUNK = b"(function(){/* the widget's window */})();\n" * 100
IMMUTABLE = "public, max-age=31536000, immutable"


def _with_twins(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.with_name(path.name + ".gz").write_bytes(gzip.compress(data, compresslevel=9))
    path.with_name(path.name + ".br").write_bytes(b"BROTLI:" + path.name.encode())


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    static = tmp_path / "static"
    _with_twins(static / "app" / "index.html", INDEX)
    _with_twins(static / "app" / "assets" / "index-A1b2.js", SCRIPT)
    (static / "app" / "assets" / "index-C3d4.css").write_bytes(b"body{margin:0}")  # no twins
    _with_twins(static / "widget" / "widget.js", LOADER)
    _with_twins(static / "widget" / "assets" / "window-E5f6.js", CHUNK)
    return static


async def _client(sqlite_url: str, static_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=sqlite_url,
        static_dir=static_dir,
        run_worker=False,
        _env_file=None,  # type: ignore[call-arg]
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


@pytest.fixture
async def client(sqlite_url: str, static_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _client(sqlite_url, static_dir):
        yield c


async def _raw(
    client: httpx.AsyncClient, path: str, accept_encoding: str, method: str = "GET"
) -> tuple[httpx.Response, bytes]:
    """The answer and its body as sent (not decoded)."""
    request = client.build_request(method, path, headers={"Accept-Encoding": accept_encoding})
    answer = await client.send(request, stream=True)
    body = b"".join([chunk async for chunk in answer.aiter_raw()])
    await answer.aclose()
    return answer, body


@pytest.mark.parametrize("path", ["/", "/conversations/12"])
async def test_index_is_sent_compressed_with_no_cache_and_security_headers(
    client: httpx.AsyncClient, path: str
) -> None:
    answer, body = await _raw(client, path, "gzip, deflate")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == INDEX
    assert int(answer.headers["content-length"]) == len(body)
    assert answer.headers["vary"] == "Accept-Encoding"
    assert answer.headers["cache-control"] == "no-cache"
    assert answer.headers["content-security-policy"] == APP_CSP
    assert "frame-ancestors 'none'" in APP_CSP
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin"


async def test_index_unchanged_is_a_304(client: httpx.AsyncClient) -> None:
    first = await client.get("/", headers={"Accept-Encoding": "br"})
    again = await client.get(
        "/", headers={"Accept-Encoding": "br", "If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["cache-control"] == "no-cache"
    assert again.headers["etag"] == first.headers["etag"]


@pytest.mark.parametrize(
    ("accept_encoding", "coding"),
    [
        ("gzip, deflate, br, zstd", "br"),  # what Chromium sends
        ("gzip", "gzip"),
        ("x-gzip", "gzip"),
        ("gzip;q=1.0, br;q=0.5", "gzip"),
        ("br;q=0, *", "gzip"),
        ("*", "br"),
        ("identity", None),
        ("", None),
        ("gzip;q=0, br;q=0", None),
        ("deflate", None),
    ],
)
async def test_an_asset_is_sent_as_the_twin_the_browser_prefers(
    client: httpx.AsyncClient, static_dir: Path, accept_encoding: str, coding: str | None
) -> None:
    answer, body = await _raw(client, "/assets/index-A1b2.js", accept_encoding)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/javascript; charset=utf-8"
    assert answer.headers.get("content-encoding") == coding
    suffix = {"br": ".br", "gzip": ".gz", None: ""}[coding]
    assert body == (static_dir / "app" / "assets" / f"index-A1b2.js{suffix}").read_bytes()
    assert int(answer.headers["content-length"]) == len(body)
    assert answer.headers["vary"] == "Accept-Encoding"
    assert answer.headers["cache-control"] == IMMUTABLE
    assert answer.headers["x-content-type-options"] == "nosniff"


async def test_an_asset_without_twins_is_sent_as_it_is(client: httpx.AsyncClient) -> None:
    answer, body = await _raw(client, "/assets/index-C3d4.css", "gzip, br")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/css; charset=utf-8"
    assert "content-encoding" not in answer.headers
    assert body == b"body{margin:0}"
    assert answer.headers["cache-control"] == IMMUTABLE


async def test_head_of_an_asset_says_its_length_and_sends_nothing(
    client: httpx.AsyncClient, static_dir: Path
) -> None:
    answer, body = await _raw(client, "/assets/index-A1b2.js", "gzip", method="HEAD")
    assert answer.status_code == 200
    assert body == b""
    assert answer.headers["content-encoding"] == "gzip"
    gz = static_dir / "app" / "assets" / "index-A1b2.js.gz"
    assert int(answer.headers["content-length"]) == gz.stat().st_size


async def test_the_widget_is_sent_compressed_to_any_site(
    client: httpx.AsyncClient, static_dir: Path
) -> None:
    loader, body = await _raw(client, "/widget.js", "gzip, deflate")
    assert loader.status_code == 200
    assert loader.headers["content-type"] == "text/javascript; charset=utf-8"
    assert loader.headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == LOADER
    assert int(loader.headers["content-length"]) == len(body)
    assert loader.headers["cache-control"] == "public, max-age=300"
    assert loader.headers["access-control-allow-origin"] == "*"
    # The widget runs inside other sites' pages: no frame or page policy of the agent app.
    assert "content-security-policy" not in loader.headers

    chunk, body = await _raw(client, "/widget/assets/window-E5f6.js", "br, gzip")
    assert chunk.status_code == 200
    assert chunk.headers["content-encoding"] == "br"
    assert body == (static_dir / "widget" / "assets" / "window-E5f6.js.br").read_bytes()
    assert chunk.headers["cache-control"] == IMMUTABLE
    assert chunk.headers["access-control-allow-origin"] == "*"
    assert chunk.headers["vary"] == "Accept-Encoding"

    plain = await client.get("/widget/assets/window-E5f6.js", headers={"Accept-Encoding": ""})
    assert plain.content == CHUNK


@pytest.mark.parametrize(
    "path",
    [
        "/assets/index-nope.js",
        "/assets/index-A1b2.js.gz",  # a twin is only ever sent for its file's name
        "/assets/index-A1b2.js.br",
        "/assets/..%2Findex.html",
        "/assets/.hidden",
        "/assets/sub/index-A1b2.js",
        "/widget/assets/window-nope.js",
        "/widget/assets/window-E5f6.js.gz",
        "/widget/assets/..%2Fwidget.js",
    ],
)
async def test_unknown_files_are_404(client: httpx.AsyncClient, path: str) -> None:
    answer = await client.get(path, headers={"Accept-Encoding": "gzip, br"})
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"
    assert answer.headers["x-content-type-options"] == "nosniff"


async def test_api_answers_are_nosniff_and_the_docs_page_cannot_be_framed(
    client: httpx.AsyncClient,
) -> None:
    health = await client.get("/healthz")
    assert health.headers["x-content-type-options"] == "nosniff"
    missing = await client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["x-content-type-options"] == "nosniff"
    docs = await client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    assert docs.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert docs.headers["referrer-policy"] == "same-origin"


async def test_an_unbuilt_app_says_so_with_the_same_headers(
    sqlite_url: str, tmp_path: Path
) -> None:
    async for client in _client(sqlite_url, tmp_path / "empty"):
        answer = await client.get("/")
        assert answer.status_code == 503
        assert "make setup" in answer.text
        assert answer.headers["content-security-policy"] == APP_CSP
        assert answer.headers["referrer-policy"] == "same-origin"
        widget = await client.get("/widget.js")
        assert widget.status_code == 404
        assert widget.json()["code"] == "not_found"
