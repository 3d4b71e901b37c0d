"""The database going away: told apart from bugs, answered 503, logged once per outage.

PostgreSQL restarting, or unreachable, fails requests in two ways: a new connection is
refused (asyncpg raises ``OSError`` or its own error, outside SQLAlchemy's wrapping), or a
pooled one breaks mid-statement (SQLAlchemy's ``DBAPIError`` marked as a disconnect). Both
become ``DatabaseUnavailable`` here, which the API answers as 503
``database_unavailable`` with ``Retry-After``. An outage is one warning when it starts and
one when the database is back, with the count of what failed meanwhile: not a traceback
per request (one 10 s outage used to log 3.9 MB).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, ExceptionContext
from sqlalchemy.exc import DBAPIError

from parlour.errors import ParlourError

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 2
# SQLSTATE classes and codes that mean "this connection is gone", not "this statement is
# wrong": 08 connection exceptions; 57P01-57P03 the server shutting down or starting up.
_GONE_STATES = ("08", "57P01", "57P02", "57P03")


class DatabaseUnavailable(ParlourError):
    code = "database_unavailable"
    status = 503

    def __init__(self, cause: BaseException | None = None) -> None:
        super().__init__(
            "The database is not reachable right now. Try again shortly.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
        self.cause = cause


def is_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, DatabaseUnavailable) or (
        isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)
    )


def describe(exc: BaseException) -> str:
    """The error's kind and first line: enough for a log, never shown to a caller."""
    cause = exc.cause if isinstance(exc, DatabaseUnavailable) and exc.cause else exc
    if isinstance(cause, DBAPIError) and cause.orig is not None:
        cause = cause.orig
    first = str(cause).splitlines()[0] if str(cause) else ""
    return f"{type(cause).__name__}: {first}"[:200]


class Outage:
    """Counts what one outage cost, and says so when it starts and when it ends."""

    def __init__(self, name: str = "database") -> None:
        self.name = name
        self.since: float | None = None
        self.failures = 0

    @property
    def active(self) -> bool:
        return self.since is not None

    def failed(self, exc: BaseException) -> None:
        self.failures += 1
        if self.since is None:
            self.since = time.monotonic()
            log.warning(
                "%s unavailable (%s); answering 503 until it is back", self.name, describe(exc)
            )

    def recovered(self) -> None:
        if self.since is None:
            return
        log.warning(
            "%s back after %.1f s; %d operations failed meanwhile",
            self.name,
            time.monotonic() - self.since,
            self.failures,
        )
        self.since = None
        self.failures = 0


def watch(engine: Engine, outage: Outage) -> None:
    """Makes ``engine``'s connection failures ``DatabaseUnavailable`` and tells ``outage``
    when connecting works again."""

    @event.listens_for(engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        try:
            return dialect.connect(*cargs, **cparams)
        except Exception as exc:  # refused, timed out, starting up: all "not reachable"
            outage.failed(exc)
            raise DatabaseUnavailable(exc) from exc

    @event.listens_for(engine, "connect")
    def _connected(_dbapi_conn: Any, _record: Any) -> None:
        outage.recovered()

    @event.listens_for(engine, "handle_error")
    def _classify(ctx: ExceptionContext) -> None:
        state = str(getattr(ctx.original_exception, "sqlstate", "") or "")
        if not ctx.is_disconnect and state.startswith(_GONE_STATES):
            # Documented as settable (ExceptionContext.is_disconnect); its stubs disagree.
            ctx.is_disconnect = True  # type: ignore[misc]
        if ctx.is_disconnect:
            outage.failed(ctx.original_exception)
