"""Shared type aliases for request models and path parameters. (Control characters in any
text are refused before a model sees it: parlour/edge.py.)"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import Field, StringConstraints

MAX_ID = 2**63 - 1


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
]
LongText = Annotated[str, StringConstraints(max_length=20_000)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)]
# A channel's stored name ("sms", ...). Which names exist is the registry's business
# (parlour/channels/registry.py): services refuse an unknown one with ``unknown_channel``,
# and the OpenAPI document lists the registry's names (app.py).
CHANNEL_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,9}$"
ChannelName = Annotated[str, StringConstraints(pattern=CHANNEL_NAME_PATTERN)]
