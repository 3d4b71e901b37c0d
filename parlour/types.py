"""Shared type aliases for request models and path parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, Field, StringConstraints

MAX_ID = 2**63 - 1


def _no_nul(value: str) -> str:
    # PostgreSQL refuses NUL in text; refusing it at the edge keeps both backends alike.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_no_nul)
]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_no_nul),
]
LongText = Annotated[str, StringConstraints(max_length=20_000), AfterValidator(_no_nul)]
Label = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=40), AfterValidator(_no_nul)
]
# A channel's stored name ("sms", ...). Which names exist is the registry's business
# (parlour/channels/registry.py): services refuse an unknown one with ``unknown_channel``,
# and the OpenAPI document lists the registry's names (app.py).
CHANNEL_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,9}$"
ChannelName = Annotated[str, StringConstraints(pattern=CHANNEL_NAME_PATTERN)]
