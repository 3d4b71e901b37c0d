"""Prometheus metrics at ``/metrics``: off unless ``PARLOUR_METRICS_TOKEN`` is set.

Counters and histograms are kept per process (scrape each process, as Prometheus does);
what the database holds (the outbox) and what the hub knows are read when scraped. The
library is ``prometheus-client``, the Prometheus project's own: it writes the text format
and keeps the histograms; a registry per app keeps tests' apps apart.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parlour.db.tx import transaction
from parlour.outbox.stats import outbox_stats

if TYPE_CHECKING:  # the runtime holds the metrics: imported only to read it
    from parlour.runtime import Runtime

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class Snapshot:
    """What a scrape reads from the database and the hub, just before it is written."""

    database_up: bool = True
    database_failures: int = 0
    hub_connected: bool = True
    hub_unsent: int = 0
    outbox: dict[str, int] = field(default_factory=dict)  # rows by state
    oldest_queued_seconds: float = 0.0
    awaiting_reconciliation: int = 0
    failed_by_reason: dict[str, int] = field(default_factory=dict)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "parlour_http_requests",
            "HTTP requests answered, by route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "parlour_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["method", "route"],
            buckets=_SECONDS,
            registry=self.registry,
        )
        self.webhooks = Counter(
            "parlour_webhooks",
            "Provider webhooks received (/webhooks/...), by route and status.",
            ["route", "status"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "parlour_outbox_deliveries",
            "Outbox jobs finished, by channel and outcome (sent, retry, failed).",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.delivery_seconds = Histogram(
            "parlour_outbox_delivery_duration_seconds",
            "Time from claiming an outbox job to recording its outcome, by channel.",
            ["channel"],
            buckets=_SECONDS,
            registry=self.registry,
        )
        self.snapshot = Snapshot()
        self.registry.register(_Scraped(self))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _Scraped(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterable[Metric]:
        s = self.metrics.snapshot
        yield _gauge("parlour_database_up", "1 if the database answered the scrape.", s.database_up)
        yield _gauge(
            "parlour_database_unavailable_operations",
            "Operations failed during the current database outage.",
            s.database_failures,
        )
        yield _gauge(
            "parlour_hub_connected",
            "1 while live events cross processes (always 1 without Redis).",
            s.hub_connected,
        )
        yield _gauge(
            "parlour_hub_unsent_events", "Events waiting for Redis to return.", s.hub_unsent
        )
        depth = GaugeMetricFamily("parlour_outbox_rows", "Outbox rows by state.", labels=["state"])
        for state, n in sorted(s.outbox.items()):
            depth.add_metric([state], n)
        yield depth
        yield _gauge(
            "parlour_outbox_oldest_queued_seconds",
            "Age of the oldest message waiting to be sent.",
            s.oldest_queued_seconds,
        )
        yield _gauge(
            "parlour_outbox_awaiting_reconciliation",
            "Sends interrupted by a crash, or sent with no final status yet past the "
            "status-check time: looked up at the provider.",
            s.awaiting_reconciliation,
        )
        failed = GaugeMetricFamily(
            "parlour_outbox_failed", "Deliveries failed for good, by reason.", labels=["reason"]
        )
        for reason, n in sorted(s.failed_by_reason.items()):
            failed.add_metric([reason], n)
        yield failed


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=float(value))


async def scrape(rt: Runtime) -> bytes:
    """The metrics page: the counters, and what the database and the hub say now."""
    snap = rt.metrics.snapshot
    hub = rt.hub.health()
    snap.hub_connected, snap.hub_unsent = hub.connected, hub.unsent
    snap.database_failures = rt.db.outage.failures
    try:
        async with transaction(rt.db, rt.hub, write=False) as tx:
            stats = await outbox_stats(tx)
    except Exception:  # counted and logged as an outage by parlour.db.outage
        snap.database_up = False
    else:
        snap.database_up = True
        snap.outbox = stats.by_state
        snap.oldest_queued_seconds = stats.oldest_queued_seconds
        snap.awaiting_reconciliation = stats.awaiting_reconciliation
        snap.failed_by_reason = stats.failed_by_reason
    return rt.metrics.render()


class RequestMetrics:
    """Counts and times every HTTP request by its route's template (``/api/v1/contacts/
    {contact_id}``, not the id: one series per route, not per row)."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "other"
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.request_seconds.labels(method, route).observe(time.perf_counter() - start)
            if route.startswith("/webhooks/"):
                self.metrics.webhooks.labels(route, str(status)).inc()
