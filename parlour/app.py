"""create_app(settings): the API, the web app, the WebSocket and the in-process worker."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parlour import __version__, edge, openapi, webapp
from parlour.accounts import api as accounts_api
from parlour.accounts.deps import current_user
from parlour.channels.email import api as email_api
from parlour.channels.email import imap as email_imap
from parlour.channels.email import receiver as email_receiver
from parlour.channels.email import webhooks as email_webhooks
from parlour.channels.registry import Providers, make_channels, make_providers
from parlour.channels.sms import api as sms_api
from parlour.channels.sms import media as sms_media
from parlour.channels.sms import webhooks as sms_webhooks
from parlour.channels.webchat import api as webchat_api
from parlour.channels.webchat import socket as webchat_socket
from parlour.channels.webchat import widget_api as webchat_widget_api
from parlour.config import Settings
from parlour.contacts import api as contacts_api
from parlour.conversations import api as conversations_api
from parlour.conversations.channel import Channels
from parlour.db.engine import make_database
from parlour.db.outage import RETRY_AFTER_SECONDS, DatabaseUnavailable, is_unavailable
from parlour.db.ready import wait_for_database
from parlour.errors import ParlourError
from parlour.idempotency import http as idempotency_http
from parlour.idempotency import openapi as idempotency_openapi
from parlour.metrics import CONTENT_TYPE, Metrics, RequestMetrics, scrape
from parlour.outbox.worker import OutboxWorker
from parlour.realtime import api as realtime_api
from parlour.realtime.hub import make_hub
from parlour.realtime.presence import Presence
from parlour.runtime import Runtime
from parlour.tasks import api as tasks_api
from parlour.types import CHANNEL_NAME_PATTERN
from parlour.warmup import warm_up
from parlour.webhooks import api as webhooks_api
from parlour.webhooks.worker import WebhookWorker
from parlour.workflows import api as workflows_api
from parlour.workflows.engine import WorkflowEngine

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"code": code, "message": message, "details": details}


# Where relays post whole mails (parlour/channels/email/webhooks.py).
MAIL_WEBHOOKS = "/webhooks/email/"


class BodyLimit:
    """Refuses request bodies over the limit, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, upload_bytes: int, mail_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_bytes = upload_bytes
        # A whole mail posted by a relay; a form around it (SendGrid) adds a little.
        self.mail_bytes = mail_bytes + 64 * 1024

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        ctype = headers.get(b"content-type", b"")
        limit = self.upload_bytes if ctype.startswith(b"multipart/") else self.max_bytes
        if scope["path"].startswith(MAIL_WEBHOOKS):
            limit = self.mail_bytes
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._too_large(send, limit)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._too_large(send, limit)

    @staticmethod
    async def _too_large(send: Send, limit: int) -> None:
        resp = JSONResponse(
            error_body("body_too_large", f"Request bodies can be at most {limit} bytes."),
            status_code=413,
        )
        await resp({"type": "http"}, _no_receive, send)


class UntilReady:
    """Answers 503 until the database answered at start-up (parlour.db.ready), except
    the health checks, which say why."""

    ALWAYS = frozenset({"/healthz", "/readyz"})

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope["path"] not in self.ALWAYS:
            rt: Runtime | None = getattr(scope["app"].state, "runtime", None)
            if rt is not None and not rt.ready.is_set():
                if scope["type"] == "websocket":
                    # Accepted, so the client sees the reason (a close before accepting
                    # reaches it as a bare HTTP 403).
                    await receive()  # websocket.connect
                    await send({"type": "websocket.accept"})
                    await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER})
                    return
                await _unavailable()(scope, receive, send)
                return
        await self.app(scope, receive, send)


# The WebSocket close code for "the server cannot take this now; come back" (RFC 6455's
# registry: 1013 Try Again Later).
CLOSE_TRY_AGAIN_LATER = 1013


class _TooLarge(Exception):
    pass


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def _unavailable() -> JSONResponse:
    exc = DatabaseUnavailable()
    return JSONResponse(
        error_body(exc.code, exc.message), status_code=exc.status, headers=exc.headers
    )


def _route_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ParlourError)
    async def _parlour(_: Request, exc: ParlourError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details),
            status_code=exc.status,
            headers=exc.headers,
        )

    @app.exception_handler(DBAPIError)
    async def _database(_: Request, exc: DBAPIError) -> JSONResponse:
        # The connection broke mid-request (counted and logged in parlour.db.outage); any
        # other driver error is a bug, answered as one.
        if is_unavailable(exc):
            return _unavailable()
        log.exception("unhandled database error", exc_info=exc)
        return JSONResponse(
            error_body("internal_error", "Something went wrong on our side."), status_code=500
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"),
                "message": err.get("msg", ""),
                "type": err.get("type", ""),
            }
            for err in exc.errors()
        ]
        return JSONResponse(
            error_body("validation_error", "Some fields are missing or invalid.", details),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.__cause__ is not None:
            # FastAPI's answer to a body it could not parse (a form whose boundary is not
            # the one its Content-Type names): refused input, like JSON that does not parse.
            return JSONResponse(
                error_body("invalid_body", "The body could not be read as its Content-Type says."),
                status_code=422,
            )
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}
        return JSONResponse(
            error_body(codes.get(exc.status_code, "http_error"), str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        # The services check first; this only catches a race between two writers.
        log.info("integrity error: %s", exc.orig)
        return JSONResponse(
            error_body("conflict", "This conflicts with data stored meanwhile. Try again."),
            status_code=409,
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return JSONResponse(
            error_body("internal_error", "Something went wrong on our side."), status_code=500
        )


def _api_router() -> APIRouter:
    api = APIRouter(prefix=API_PREFIX)
    for module_router in (
        accounts_api.auth,
        accounts_api.account,
        accounts_api.users,
        accounts_api.tokens,
        contacts_api.router,
        conversations_api.router,
        conversations_api.views,
        conversations_api.contact_threads,
        conversations_api.attachment_files,
        sms_api.router,
        sms_api.sms,
        email_api.router,
        email_api.messages,
        webchat_api.router,
        webchat_api.typing,
        tasks_api.router,
        workflows_api.router,
        realtime_api.router,
        webhooks_api.router,
    ):
        api.include_router(module_router)
    return api


def _lifespan(
    settings: Settings,
    providers: Providers,
    channels: Channels,
    metrics: Metrics,
    *,
    migrate: bool,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """What a serving process starts and stops: the database, the hub, the worker.

    Neither an unreachable Redis nor an unreachable database stops it from starting: the
    hub connects when Redis comes, and what needs the database waits for it (reads of a
    database that answers work meanwhile; until it answers, requests get 503)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = make_database(settings, serving=True)
        rt = Runtime(
            settings=settings,
            db=db,
            hub=make_hub(settings),
            channels=channels,
            metrics=metrics,
            presence=Presence(settings.redis_url, prefix=settings.redis_prefix),
        )
        app.state.runtime = rt
        app.state.providers = providers
        await rt.hub.start()
        await rt.presence.start()
        stop = asyncio.Event()
        tasks = [asyncio.create_task(db.run_checkpoints(stop), name="sqlite-checkpoints")]

        async def start_serving() -> None:
            if not await wait_for_database(
                db,
                url=settings.database_url,
                migrate=migrate,
                stop=stop,
                failed_once=unreachable,
                pool=min(settings.database_pool_size, 8),
            ):
                return
            if settings.warm_up:
                await warm_up(rt, connections=min(settings.database_pool_size, 8))
            rt.ready.set()
            if settings.imap_poll:
                tasks.append(email_imap.start(rt, stop))
            if settings.inbound_smtp_port:
                servers.append(
                    await email_receiver.start(
                        rt, host=settings.inbound_smtp_host, port=settings.inbound_smtp_port
                    )
                )
            if settings.run_worker:
                tasks.append(asyncio.create_task(OutboxWorker(rt).run(stop), name="outbox-worker"))
                tasks.append(
                    asyncio.create_task(WorkflowEngine(rt).run(stop), name="workflow-engine")
                )
                tasks.append(asyncio.create_task(WebhookWorker(rt).run(stop), name="webhooks"))
                await sms_media.resume_pending(rt, providers.sms)

        servers: list[asyncio.Server] = []
        unreachable = asyncio.Event()
        starting = asyncio.create_task(start_serving(), name="start-serving")
        # A database that answers is ready (and warmed up) before the first request; one
        # that does not is waited for in the background, while /readyz says so.
        failed = asyncio.ensure_future(unreachable.wait())
        await asyncio.wait({starting, failed}, return_when=asyncio.FIRST_COMPLETED)
        failed.cancel()
        if starting.done():
            await starting
        try:
            yield
        finally:
            stop.set()
            rt.outbox_wakeup.set()
            for server in servers:
                server.close()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(starting, timeout=10)
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(task, timeout=10)
            await sms_media.stop()
            await rt.presence.stop()
            await rt.hub.stop()
            await rt.db.dispose()

    return lifespan


def create_app(
    settings: Settings | None = None,
    *,
    providers: Providers | None = None,
    migrate: bool = False,
) -> FastAPI:
    """``migrate``: bring the database to the newest schema at start (``parlour serve``),
    waiting for it if it is not reachable yet."""
    settings = settings or Settings()
    providers = providers or make_providers(settings)
    channels = make_channels(settings, providers)
    metrics = Metrics()
    lifespan = _lifespan(settings, providers, channels, metrics, migrate=migrate)

    app = FastAPI(
        title="Parlour",
        version=__version__,
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        generate_unique_id_function=_route_id,
    )
    _install_error_handlers(app)
    openapi.document(app, channel_names=lambda: channels.names, pattern=CHANNEL_NAME_PATTERN)
    idempotency_openapi.document(app, through=current_user)
    app.include_router(_api_router())
    app.include_router(sms_webhooks.router)
    app.include_router(email_webhooks.router)
    app.include_router(webchat_widget_api.router)
    app.include_router(webchat_socket.router)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    @openapi.answers({503: "`not_ready`: the database is not reachable (each check in `details`)."})
    async def readyz(request: Request) -> JSONResponse:
        """Whether this process can serve: the database answers (and was migrated), and
        whether live events cross processes (Redis, when configured). Redis being away
        is "degraded", not "not ready": every write still works."""
        rt: Runtime = request.app.state.runtime
        database = "ok"
        if not rt.ready.is_set():
            database = "database_unavailable"
        else:
            try:
                async with rt.db.reader.connect() as conn:
                    await conn.execute(text("SELECT 1"))
            except Exception as exc:
                if not is_unavailable(exc):
                    log.warning("readiness check failed: %s", type(exc).__name__)
                database = "database_unavailable"
        hub = rt.hub.health()
        redis = "not_configured"
        if hub.kind == "redis":
            redis = "ok" if hub.connected else "redis_unavailable"
        checks = {"database": database, "redis": redis}
        if database != "ok":
            return JSONResponse(
                error_body("not_ready", "The database is not reachable.", checks),
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        status = "ready" if redis in ("ok", "not_configured") else "degraded"
        return JSONResponse({"status": status, **checks})

    @app.get("/metrics", include_in_schema=False)
    async def metrics_page(request: Request) -> Response:
        token = settings.metrics_token
        if not token:
            return JSONResponse(error_body("not_found", "Not Found"), status_code=404)
        sent = request.headers.get("authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return JSONResponse(
                error_body("unauthorized", "Send 'Authorization: Bearer <metrics token>'."),
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return Response(await scrape(request.app.state.runtime), media_type=CONTENT_TYPE)

    webapp.mount(app, settings)
    idempotency_http.install(app)  # inside BodyLimit, which must see bodies first
    # Text is checked once, here, for every field and parameter (parlour/edge.py); inside
    # BodyLimit, which bounds what it reads.
    app.add_middleware(edge.PlainText)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        upload_bytes=settings.max_upload_bytes,
        mail_bytes=settings.email_max_bytes,
    )
    app.add_middleware(UntilReady)
    app.add_middleware(webapp.SecurityHeaders)  # on every answer, refusals included
    if settings.metrics_token:  # outermost: refusals by the layers above count too
        app.add_middleware(RequestMetrics, metrics=metrics)
    return app
