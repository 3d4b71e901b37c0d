"""The HTTP clients the SMS providers' calls go through.

Each call opens a client of its own (a provider never holds connections between sends),
but they share one TLS context: httpx builds a new one for every client, and loading the
certificate store took 48 ms of CPU each time, more than the call to the provider itself.
"""

from __future__ import annotations

import ssl
from functools import cache
from typing import Any

import httpx


@cache
def _tls() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def client(**kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=_tls(), **kwargs)
