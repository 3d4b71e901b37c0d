"""Whether a widget says someone answers now: its office hours, or an agent online.

"An agent online" means an agent's socket (``/api/v1/ws``) is open, on any process
(parlour/realtime/presence.py).

Office hours are per weekday, in the widget's time zone (parlour/accounts/hours.py).
"""

from __future__ import annotations

from datetime import datetime

from parlour.accounts import hours
from parlour.channels.webchat.models import Widget
from parlour.runtime import Runtime

OFFLINE_MODES = ("never", "office_hours", "no_agent_online")


def within_office_hours(widget: Widget, *, now: datetime | None = None) -> bool:
    return hours.within(widget.office_hours or {}, widget.timezone, now=now)


async def is_online(widget: Widget, rt: Runtime, *, now: datetime | None = None) -> bool:
    if widget.offline_mode == "office_hours":
        return within_office_hours(widget, now=now)
    if widget.offline_mode == "no_agent_online":
        return await rt.presence.agents_online(widget.account_id)
    return True
