"""The keywords carriers and Twilio treat specially in an inbound text.

Only a message that *is* the keyword counts: "STOP", " stop! " and "Stop." opt out, but
"stop please" is an ordinary message, as at Twilio.
"""

from __future__ import annotations

import re
from typing import Literal

Keyword = Literal["stop", "start", "help"]

OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN = frozenset({"START", "UNSTOP", "YES"})
HELP = frozenset({"HELP", "INFO"})

_EDGES = re.compile(r"^[\W_]+|[\W_]+$")


def keyword_of(body: str) -> Keyword | None:
    word = _EDGES.sub("", body.strip()).upper()
    if word in OPT_OUT:
        return "stop"
    if word in OPT_IN:
        return "start"
    if word in HELP:
        return "help"
    return None


def from_twilio_opt_out_type(value: str | None) -> Keyword | None:
    """Twilio's Advanced Opt-Out names the keyword's kind itself (``OptOutType``)."""
    return {"STOP": "stop", "START": "start", "HELP": "help"}.get((value or "").upper())  # type: ignore[return-value]
