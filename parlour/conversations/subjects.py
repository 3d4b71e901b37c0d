"""A message's subject is one line.

A subject ends up in a mail header. A line break inside it would end that header and start
another one of the sender's choosing (``Bcc:``, a second body: header injection). Python's
``email`` package refuses CR and LF when the mail is built, but only then, in the delivery
worker, long after the sender was told "queued"; and other line separators (U+2028, NEL,
...) pass it and reach mail clients that do break lines there. So every subject is refused
where it enters, with every separator ``str.splitlines`` knows.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError

from parlour.errors import InvalidInput

CODE = "subject_line_break"
# What str.splitlines() splits on: LF, CR, VT, FF, FS, GS, RS, NEL, LINE and PARAGRAPH SEPARATOR.
LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def has_line_break(text: str) -> bool:
    return not LINE_BREAKS.isdisjoint(text)


def _one_line(value: str) -> str:
    if has_line_break(value):
        raise PydanticCustomError(CODE, "A subject must be one line, without line breaks.")
    return value


def check_subject(subject: str | None) -> None:
    """For subjects that did not come through a request model (a service's caller)."""
    if subject is not None and has_line_break(subject):
        raise InvalidInput(
            "A subject must be one line, without line breaks.",
            code=CODE,
            details={"field": "subject"},
        )


def one_line(text: str) -> str:
    """``text`` with its line breaks as spaces: for a subject taken from a received mail."""
    return " ".join(text.splitlines())


# Leading and trailing whitespace (a pasted subject's newline) is stripped first: only a
# break inside the subject is refused.
Subject = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=998), AfterValidator(_one_line)
]
OneLine = AfterValidator(_one_line)
