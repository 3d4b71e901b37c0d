"""How many SMS segments a body takes, and in which encoding — as carriers count them.

GSM-7 packs 160 characters into one segment, or 153 per segment once a message is split
(the user-data header takes the rest); characters of the extension table (``{ } [ ] ~ \\ |
^ €`` and form feed) cost two. Anything outside GSM-7 switches the whole message to UCS-2:
70 UTF-16 code units alone, 67 per segment when split, and characters beyond the Basic
Multilingual Plane (most emoji) take two units. A split never cuts an escape sequence or a
surrogate pair in half, so a segment may hold one unit less than its maximum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MAX_BODY = 1600

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("\f^{}\\[~]|€")

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True)
class SegmentInfo:
    encoding: Encoding
    segments: int
    # Characters as a person counts them, and units as the encoding counts them
    # (septets for GSM-7, UTF-16 code units for UCS-2).
    characters: int
    units: int
    # Units per segment at this length (160/153 or 70/67), and what is left in the last one.
    per_segment: int
    remaining: int


def _unit_costs(body: str) -> tuple[Encoding, list[int]]:
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in body):
        return "GSM-7", [2 if c in GSM7_EXTENDED else 1 for c in body]
    return "UCS-2", [2 if ord(c) > 0xFFFF else 1 for c in body]


def count(body: str) -> SegmentInfo:
    encoding, costs = _unit_costs(body)
    single, multi = (160, 153) if encoding == "GSM-7" else (70, 67)
    units = sum(costs)
    if units <= single:
        return SegmentInfo(encoding, 1 if body else 0, len(body), units, single, single - units)
    segments, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            segments, used = segments + 1, 0
        used += cost
    return SegmentInfo(encoding, segments, len(body), units, multi, multi - used)
