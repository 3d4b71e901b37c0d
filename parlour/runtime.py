"""What a running process holds: settings, database, hub, and the outbox wake-up."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from parlour.accounts.throttle import LoginThrottle
from parlour.channels.webchat.fanout import VisitorFanout
from parlour.channels.webchat.limits import WidgetLimits
from parlour.config import Settings
from parlour.conversations.channel import Channels
from parlour.db.engine import Database
from parlour.metrics import Metrics
from parlour.realtime.hub import Hub
from parlour.realtime.presence import Presence


@dataclass
class Runtime:
    settings: Settings
    db: Database
    hub: Hub
    # The channels served, by stored name (parlour/channels/registry.py).
    channels: Channels
    # Set after a commit that queued outbound messages, so the in-process worker sends at
    # once instead of at its next poll.
    outbox_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    # Set once the database answered at start-up (parlour.db.ready); until then requests
    # are answered 503.
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)
    # The web-chat visitors' rate limits, kept per process like the login throttle.
    widget_limits: WidgetLimits = field(default_factory=WidgetLimits)
    # The visitors' sockets of this process, each hearing only its own thread's events.
    visitor_fanout: VisitorFanout = field(default_factory=VisitorFanout)
    # Which accounts have an agent online (across processes when Redis is configured).
    presence: Presence = field(default_factory=Presence)
    metrics: Metrics = field(default_factory=Metrics)


def runtime_of(conn: HTTPConnection) -> Runtime:
    rt: Runtime = conn.app.state.runtime
    return rt


async def channels_of(conn: HTTPConnection) -> Channels:
    # A coroutine, as every dependency is: FastAPI runs a plain function in a worker
    # thread, a hop (and a turn of the GIL) for every request that names it.
    return runtime_of(conn).channels


ChannelsDep = Annotated[Channels, Depends(channels_of)]
