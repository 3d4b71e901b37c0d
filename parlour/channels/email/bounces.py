"""Bounces: placeholder until the bounces branch lands (replaced by it)."""

from __future__ import annotations

from dataclasses import dataclass

from parlour.channels.email.mime import ParsedMail


@dataclass(frozen=True)
class Bounce:
    original_message_id: str | None
    recipients: list[str]
    status: str | None
    diagnostic: str | None
    permanent: bool
    reason: str


def detect(raw: bytes, parsed: ParsedMail) -> Bounce | None:
    return None
