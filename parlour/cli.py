"""The `parlour` command."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from parlour.channels.email.cli import mailbox_app
from parlour.channels.sms.cli import twilio_app
from parlour.config import Settings

if TYPE_CHECKING:  # imported lazily at run time: `parlour --help` stays fast
    from parlour.accounts.models import User
    from parlour.db.tx import Tx

T = TypeVar("T")

app = typer.Typer(help="Parlour: a multi-channel conversations inbox.", no_args_is_help=True)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(twilio_app, name="twilio")
app.add_typer(mailbox_app, name="mailbox")


def _settings(**overrides: object) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]


def _logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


KEEP_ALIVE_SECONDS = 90


def _serve(settings: Settings, *, migrate: bool = False) -> None:
    import uvicorn
    from sqlalchemy.orm import configure_mappers

    from parlour.app import create_app

    web = create_app(settings, migrate=migrate)
    # What start-up built (modules, routes, the ORM's mappers: 130,000 objects) lives as
    # long as the server. Frozen, it is left out of the collector's full collections, which
    # took 82-91 ms each: a request that met one waited that long.
    configure_mappers()
    gc.freeze()
    uvicorn.run(
        web,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        proxy_headers=True,
        ws_ping_interval=20,
        # Each compressed socket keeps its own zlib state, about 100 KiB: 6,900 idle
        # visitor sockets a GiB with it, 19,700 without (bench/widget/idle.py). Our frames
        # are small JSON events, which compression hardly shrinks.
        ws_per_message_deflate=False,
        # An idle keep-alive connection is kept longer than a load balancer or a client
        # keeps it (nginx 60 s upstream, AWS's load balancers 60 s): closed by us first,
        # a request already on its way on it fails (a 502 behind the balancer, a
        # connection error for a webhook's sender). Uvicorn's own default is 5 s.
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )


def _run_migrate(url: str) -> None:
    """Migrates, or ends the command (exit 1) with why a newer release's schema is left
    alone."""
    from parlour.db.migrate import SchemaTooNew
    from parlour.db.migrate import migrate as run_migrate

    try:
        asyncio.run(run_migrate(url))
    except SchemaTooNew as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None


def _refuse_newer_schema(url: str) -> None:
    from parlour.db.migrate import SchemaTooNew, check_schema

    try:
        asyncio.run(check_schema(url))
    except SchemaTooNew as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None


@app.command()
def migrate() -> None:
    """Bring the database to the newest schema (never back: a newer release's is refused)."""
    _run_migrate(_settings().database_url)
    typer.echo("Database is up to date.")


@app.command()
def backup(
    path: Annotated[Path, typer.Argument(help="Where to write the copy (replaced if there).")],
) -> None:
    """Copy the SQLite database, consistently, while Parlour runs (PostgreSQL: pg_dump)."""
    from parlour.db.backup import BackupRefused, backup_sqlite

    try:
        done = backup_sqlite(_settings().database_url, path)
    except BackupRefused as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Backed up {done.source} to {done.dest} ({done.size_bytes:,} bytes, checked).")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    no_worker: Annotated[bool, typer.Option(help="Leave delivery to `parlour worker`.")] = False,
) -> None:
    """Run everything: API, web app, WebSocket and (unless --no-worker) the outbox worker."""
    settings = _settings(host=host, port=port, run_worker=False if no_worker else None)
    _logging(settings)
    # A newer release's database ends the command here, rather than a server that never
    # becomes ready.
    _refuse_newer_schema(settings.database_url)
    # Migrated at start, once the database answers: a server started during an outage
    # waits for it, saying so on /readyz.
    _serve(settings, migrate=True)


@app.command()
def worker() -> None:
    """Deliver queued messages and webhooks (for setups with several processes)."""
    from parlour.channels.registry import make_channels, make_providers
    from parlour.channels.sms.media import resume_pending as resume_media
    from parlour.db.engine import make_database
    from parlour.db.ready import wait_for_database
    from parlour.outbox.worker import OutboxWorker
    from parlour.realtime.hub import make_hub
    from parlour.runtime import Runtime
    from parlour.webhooks.worker import WebhookWorker
    from parlour.workflows.engine import WorkflowEngine

    settings = _settings()
    _logging(settings)
    # This release's code must not deliver from a newer release's tables either.
    _refuse_newer_schema(settings.database_url)

    async def run() -> None:
        providers = make_providers(settings)
        rt = Runtime(
            settings=settings,
            db=make_database(settings),
            hub=make_hub(settings),
            channels=make_channels(settings, providers),
        )
        await rt.hub.start()
        stop = asyncio.Event()
        try:
            # Started during an outage, it waits for the database rather than exiting.
            await wait_for_database(rt.db, url=settings.database_url, migrate=False, stop=stop)
            # MMS downloads a stopped process left unfinished (web processes start them).
            await resume_media(rt, providers.sms)
            await asyncio.gather(
                OutboxWorker(rt).run(stop),
                WorkflowEngine(rt).run(stop),
                WebhookWorker(rt).run(stop),
            )
        finally:
            await rt.hub.stop()
            await rt.db.dispose()

    asyncio.run(run())


# The demo's SMTP receiver: a port that needs no root, and is not the mail server's own.
DEMO_SMTP_PORT = 2525
# The demo company's website with the chat widget (a second origin: another port).
DEMO_WEBSITE_PORT = 8090


def _free_or_other(host: str, port: int) -> int:
    """``port`` if nothing listens there, else one the system picks."""
    import socket

    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            s.bind((host, 0))
        chosen: int = s.getsockname()[1]
        return chosen


@app.command()
def demo(
    db: Annotated[Path, typer.Option(help="SQLite file to (re)create.")] = Path("parlour-demo.db"),
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    no_serve: Annotated[bool, typer.Option(help="Create the data, then exit.")] = False,
    smtp_port: Annotated[
        int, typer.Option(help="Port of the built-in SMTP receiver (0: off).")
    ] = DEMO_SMTP_PORT,
) -> None:
    """Create a fresh SQLite database with demo data, print the login, and serve it."""
    from parlour.sample.demo import DEMO_MAILBOX, DEMO_WIDGET_TOKEN, create_demo
    from parlour.sample.website import serve_website

    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{db.resolve()}"
    overrides: dict[str, object] = {"database_url": url, "host": host, "port": port}
    if port and not os.environ.get("PARLOUR_PUBLIC_URL"):
        overrides["public_url"] = f"http://{host or '127.0.0.1'}:{port}"
    if smtp_port and not os.environ.get("PARLOUR_INBOUND_SMTP_PORT"):
        overrides["inbound_smtp_host"] = host or "127.0.0.1"
        overrides["inbound_smtp_port"] = _free_or_other(host or "127.0.0.1", smtp_port)
    settings = _settings(**overrides)
    password = os.environ.get("PARLOUR_DEMO_PASSWORD") or "parlour-demo"
    site_host = host or "127.0.0.1"
    site_port = _free_or_other(site_host, DEMO_WEBSITE_PORT)
    site_hosts = ["127.0.0.1", "localhost"] if site_host in ("127.0.0.1", "localhost") else []
    origins = [f"http://{h}:{site_port}" for h in site_hosts or [site_host]]
    asyncio.run(create_demo(settings, password=password, website_origins=origins))
    typer.echo("")
    typer.echo(f"  Parlour demo is ready: {settings.public_url}/")
    typer.echo(f"  Log in as admin@example.com / {password}  (or agent@example.com)")
    if not no_serve:
        serve_website(settings.public_url, DEMO_WIDGET_TOKEN, host=site_host, port=site_port)
        typer.echo(f"  The demo company's website (with the chat widget): {origins[0]}/")
    if settings.inbound_smtp_port:
        at = f"{settings.inbound_smtp_host}:{settings.inbound_smtp_port}"
        typer.echo(f"  Mail to {DEMO_MAILBOX} arrives by SMTP at {at}, for example:")
        typer.echo(f"    swaks --server {at} --to {DEMO_MAILBOX} --from you@example.org")
    typer.echo("")
    if not no_serve:
        _logging(settings)
        _serve(settings)


@app.command()
def seed(
    contacts: Annotated[int, typer.Option(help="Contacts in a conversation.")] = 100_000,
    messages: Annotated[int, typer.Option(help="Messages in all.")] = 1_000_000,
    account: Annotated[str, typer.Option(help="Account to fill.")] = "Seed",
) -> None:
    """Bulk-insert a large synthetic data set, for benchmarks."""
    from parlour.sample.progress import progress
    from parlour.sample.seed import seed as run_seed

    settings = _settings()
    _run_migrate(settings.database_url)
    with progress("seed", unit="messages" if messages else "contacts") as report:
        stats = asyncio.run(
            run_seed(settings, account=account, contacts=contacts, messages=messages, report=report)
        )
    typer.echo(stats)


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON, for scripts.")] = False,
) -> None:
    """How things stand: the database, Redis, the server, and the outbox."""
    import json

    # What failed is in the report; the outage's own log line would say it twice.
    logging.getLogger("parlour.db.outage").setLevel(logging.ERROR)
    report = asyncio.run(_status(_settings()))
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        for name, value in report.items():
            typer.echo(f"{name.replace('_', ' '):<24} {_show(value)}")
    if report["database"] != "ok":
        raise typer.Exit(1)


def _show(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items()) or "none"
    if isinstance(value, float):
        return f"{value:.0f} s"
    return str(value)


async def _status(settings: Settings) -> dict[str, object]:
    import httpx
    from redis.asyncio import Redis

    from parlour.db.engine import make_database
    from parlour.db.outage import describe
    from parlour.db.tx import transaction
    from parlour.outbox.stats import outbox_stats
    from parlour.realtime.memory import MemoryHub

    report: dict[str, object] = {}
    db = make_database(settings)
    try:
        async with transaction(db, MemoryHub(), write=False) as tx:
            stats = await outbox_stats(tx)
        report["database"] = "ok"
    except Exception as exc:
        report["database"] = f"unreachable ({describe(exc)})"
        stats = None
    finally:
        await db.dispose()
    report["redis"] = "not configured"
    if settings.redis_url:
        redis = Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2)
        try:
            await redis.ping()
            report["redis"] = "ok"
        except Exception as exc:
            report["redis"] = f"unreachable ({describe(exc)})"
        finally:
            await redis.aclose()
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            ready = await http.get(f"{settings.public_url}/readyz")
        body = ready.json()
        report["server"] = body.get("status") or body.get("code") or ready.status_code
        report["live_events"] = body.get("redis") or body.get("details", {}).get("redis")
    except (httpx.HTTPError, ValueError):
        report["server"] = f"not answering at {settings.public_url}"
    if stats is not None:
        report["outbox"] = stats.by_state
        report["oldest_queued"] = stats.oldest_queued_seconds
        report["awaiting_reconciliation"] = stats.awaiting_reconciliation
        report["failed_by_reason"] = stats.failed_by_reason
    return report


async def _with_tx(settings: Settings, fn: Callable[[Tx], Awaitable[T]]) -> T:
    from parlour.db.engine import make_database
    from parlour.db.tx import transaction
    from parlour.realtime.hub import make_hub

    db = make_database(settings)
    hub = make_hub(settings)
    await hub.start()
    try:
        async with transaction(db, hub) as tx:
            result = await fn(tx)
            await tx.commit()
            return result
    finally:
        await hub.stop()
        await db.dispose()


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="Login email.")],
    password: Annotated[str, typer.Option(help="Password (8+ characters).")],
    role: Annotated[str, typer.Option(help="admin or agent.")] = "agent",
    account: Annotated[str, typer.Option(help="Account (created if new).")] = "Parlour",
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
) -> None:
    """Create a user (and their account if it does not exist)."""
    from parlour.accounts import service
    from parlour.errors import ParlourError

    if role not in ("admin", "agent"):
        raise typer.BadParameter("role must be admin or agent")
    settings = _settings()
    _run_migrate(settings.database_url)

    async def go(tx: Tx) -> User:
        acct = await service.get_or_create_account(tx, name=account)
        return await service.create_user(
            tx,
            account_id=acct.id,
            email=email,
            name=name or email.split("@")[0].title(),
            password=password,
            role=role,  # type: ignore[arg-type]
        )

    try:
        user = asyncio.run(_with_tx(settings, go))
    except ParlourError as exc:
        typer.echo(f"error: {exc.message} ({exc.code})", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Created {user.role} {user.email} in account '{account}'.")


@token_app.command("create")
def token_create(
    email: Annotated[str, typer.Option(help="The user the token acts as.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
) -> None:
    """Print a new API token for a user (shown once)."""
    from parlour.accounts import service
    from parlour.errors import ParlourError

    settings = _settings()

    async def go(tx: Tx) -> str:
        user = await service.get_user_by_email(tx, email=email)
        return (await service.create_api_token(tx, user=user, name=name)).token

    try:
        token = asyncio.run(_with_tx(settings, go))
    except ParlourError as exc:
        typer.echo(f"error: {exc.message} ({exc.code})", err=True)
        raise typer.Exit(1) from exc
    typer.echo(token)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
