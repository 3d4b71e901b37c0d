"""Every request is served on the event loop: FastAPI runs a dependency or an endpoint that
is a plain function in a worker thread, which costs each request a thread hop and a turn
of the GIL under load, and lets two threads change state (a rate limiter's counts) at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import is_async_gen_callable, is_coroutine_callable
from fastapi.routing import APIRoute, APIWebSocketRoute


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def test_no_route_runs_code_in_a_worker_thread(app: FastAPI) -> None:
    threaded = set()
    routes = [r for r in app.routes if isinstance(r, APIRoute | APIWebSocketRoute)]
    assert len(routes) > 50
    for route in routes:
        calls = [*_calls(route.dependant)]
        if route.dependant.call is not None:
            calls.append(route.dependant.call)
        for call in calls:
            if not (is_coroutine_callable(call) or is_async_gen_callable(call)):
                threaded.add(f"{route.path}: {getattr(call, '__qualname__', call)}")
    assert not threaded, sorted(threaded)
