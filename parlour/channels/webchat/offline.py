"""Whether a widget says someone answers now: its office hours, or an agent online.

"An agent online" means an agent's socket (``/api/v1/ws``) is open, on any process
(parlour/realtime/presence.py).

Office hours are per weekday, in the widget's time zone; a span that ends before it starts
runs past midnight (Friday 18:00 to 02:00 is open until Saturday 02:00).
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from parlour.channels.webchat.models import Widget
from parlour.db.base import utcnow
from parlour.runtime import Runtime

OFFLINE_MODES = ("never", "office_hours", "no_agent_online")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def within_office_hours(widget: Widget, *, now: datetime | None = None) -> bool:
    try:
        zone = ZoneInfo(widget.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = (now or utcnow()).astimezone(zone)
    hours: dict[str, Any] = widget.office_hours or {}
    clock = local.time().replace(tzinfo=None)
    today = _span(hours.get(WEEKDAYS[local.weekday()]))
    if today is not None:
        start, end = today
        if start <= clock < end or (end < start and start <= clock):
            return True
    # Yesterday's hours may run past midnight into today.
    yesterday = _span(hours.get(WEEKDAYS[(local.weekday() - 1) % 7]))
    return yesterday is not None and yesterday[1] < yesterday[0] and clock < yesterday[1]


def _span(value: Any) -> tuple[time, time] | None:
    if not isinstance(value, list) or len(value) != 2:
        return None
    try:
        return time.fromisoformat(value[0]), time.fromisoformat(value[1])
    except (TypeError, ValueError):
        return None


async def is_online(widget: Widget, rt: Runtime, *, now: datetime | None = None) -> bool:
    if widget.offline_mode == "office_hours":
        return within_office_hours(widget, now=now)
    if widget.offline_mode == "no_agent_online":
        return await rt.presence.agents_online(widget.account_id)
    return True
