"""Domain errors. Each carries a stable ``code`` that API clients and tests rely on."""

from __future__ import annotations

from typing import Any


class ParlourError(Exception):
    code = "error"
    status = 400

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details
        # Sent with the answer (e.g. ``Retry-After``).
        self.headers = headers


class NotFound(ParlourError):
    code = "not_found"
    status = 404


class Conflict(ParlourError):
    code = "conflict"
    status = 409


class Unauthorized(ParlourError):
    code = "unauthorized"
    status = 401


class Forbidden(ParlourError):
    code = "forbidden"
    status = 403


class InvalidInput(ParlourError):
    code = "invalid_input"
    status = 422


class ChannelUnavailable(ParlourError):
    """The chosen channel cannot carry this message (no SMS number, opted out, ...)."""

    code = "channel_unavailable"
    status = 422
