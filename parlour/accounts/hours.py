"""Office hours and time zones, as widgets and workflows use them.

Office hours are per weekday in a time zone (``{"mon": ["09:00", "17:00"], ...}``; a day
left out is closed); a span that ends before it starts runs past midnight (Friday 18:00 to
02:00 is open until Saturday 02:00).
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, StringConstraints

from parlour.db.base import utcnow

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ClockTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


def _checked_span(value: list[str]) -> list[str]:
    # An end before the start is a day whose hours run past midnight (fri 18:00-02:00);
    # only an empty span says nothing a reader could act on.
    if value[0] == value[1]:
        raise ValueError(
            "an office day's hours must not start and end at the same time "
            "(an end before the start runs past midnight)"
        )
    return value


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


OfficeHours = dict[
    Weekday,
    Annotated[list[ClockTime], Field(min_length=2, max_length=2), AfterValidator(_checked_span)],
]
TimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_zone)]


def zone_of(name: str | None) -> ZoneInfo:
    """The zone named, or UTC for a name this machine does not know (stored earlier)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def within(hours: dict[str, Any], timezone: str | None, *, now: datetime | None = None) -> bool:
    """Whether ``now`` falls in the office hours."""
    local = (now or utcnow()).astimezone(zone_of(timezone))
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
