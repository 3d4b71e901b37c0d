"""Whether a widget says someone answers now: its office hours, or an agent online.

"An agent online" means an agent's socket (``/api/v1/ws``) is open on *this* process:
with several processes (Redis) an agent connected to another one is not seen, and the
widget asks for an email when it need not. That errs on the side of asking.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from parlour.channels.webchat.models import Widget
from parlour.db.base import utcnow
from parlour.realtime.events import account_topic
from parlour.runtime import Runtime

OFFLINE_MODES = ("never", "office_hours", "no_agent_online")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Visitor sockets per account on this process: they listen on the account's topic too,
# and are not agents.
visitor_sockets: dict[int, int] = {}


def within_office_hours(widget: Widget, *, now: datetime | None = None) -> bool:
    try:
        zone = ZoneInfo(widget.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = (now or utcnow()).astimezone(zone)
    hours: dict[str, Any] = widget.office_hours or {}
    span = hours.get(WEEKDAYS[local.weekday()])
    if not span or len(span) != 2:
        return False
    start, end = (time.fromisoformat(v) for v in span)
    return start <= local.time().replace(tzinfo=None) < end


def _listeners(rt: Runtime, topic: str) -> int:
    hub: Any = rt.hub
    local = getattr(hub, "_local", hub)  # the Redis hub fans out through a memory one
    subs = getattr(local, "_subs", {})
    return len(subs.get(topic, ()))


def agent_online(rt: Runtime, account_id: int) -> bool:
    listening = _listeners(rt, account_topic(account_id))
    return listening - visitor_sockets.get(account_id, 0) > 0


def is_online(widget: Widget, rt: Runtime, *, now: datetime | None = None) -> bool:
    if widget.offline_mode == "office_hours":
        return within_office_hours(widget, now=now)
    if widget.offline_mode == "no_agent_online":
        return agent_online(rt, widget.account_id)
    return True
