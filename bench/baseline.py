"""The baseline: a bare Starlette app on uvicorn answering a trivial JSON GET.

Parlour's latencies are reported as ratios to this, so the numbers say how much the
application adds on top of the HTTP stack, whatever the machine.
Run: ``uv run python -m bench.baseline --port 8766`` (as a script, bench/email would hide
Python's email package).
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def ping(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True, "items": [], "next_cursor": None})


app = Starlette(routes=[Route("/ping", ping), Route("/healthz", ping)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    # Same server settings as `parlour serve`, minus the access log (off for both in bench).
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
