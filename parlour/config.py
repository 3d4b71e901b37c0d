"""Settings, read from ``PARLOUR_*`` environment variables and an optional ``.env``."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PARLOUR_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///parlour.db"
    # PostgreSQL connections each process keeps open. Requests beyond it wait for one to
    # be free: opening and closing extra connections under load cost more than waiting.
    database_pool_size: int = Field(default=20, ge=1, le=200)
    # PostgreSQL's planner cost of a random page read, for Parlour's connections ("" keeps
    # the server's own setting). 1.1 suits SSDs; see bench/RESULTS.md.
    pg_random_page_cost: str = "1.1"
    # How much of an SQLite database file is read through a memory map: the pages are read
    # where the operating system caches them, with no system call each and no copy in
    # every connection's own small cache (2 MB; a search at a million contacts reads far
    # more). SQLite maps at most 2 GiB; 0 turns it off.
    sqlite_mmap_mb: int = Field(default=2048, ge=0, le=1_000_000)
    redis_url: str | None = None
    # Every key and channel this process uses in Redis starts with this, so that several
    # installations (or test runs) can share one Redis server.
    redis_prefix: str = "parlour:"
    secret_key: str = "dev-insecure-change-me"
    public_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    default_region: str = Field(default="US", min_length=2, max_length=2)
    # The in-process outbox worker; turn it off when running `parlour worker` separately.
    run_worker: bool = True
    worker_poll_seconds: float = 0.5
    # Run the busiest paths once on each pooled connection before /readyz says ready
    # (parlour/warmup.py), so the first requests after a restart are not slow.
    warm_up: bool = True
    # An outbound message still "sent" this long after the provider took it (its delivery
    # callback lost in an outage, say) is looked up at the provider, then again at doubling
    # intervals, seven times in all; 0 never asks.
    status_check_after_seconds: float = Field(default=900.0, ge=0)
    # `parlour serve` polls each mailbox's IMAP folder (parlour/channels/email/imap.py);
    # servers without IDLE are asked every imap_poll_seconds.
    imap_poll: bool = True
    imap_poll_seconds: float = Field(default=60.0, gt=0)
    max_body_bytes: int = 1_000_000
    max_upload_bytes: int = 10_000_000
    session_days: int = 14
    log_level: str = "info"
    # Prometheus metrics at /metrics, for a scraper sending "Authorization: Bearer <it>";
    # unset, there is no such page.
    metrics_token: str | None = None
    static_dir: Path = Path(__file__).parent / "static"
    # Where the SMS providers' REST APIs are; tests point these at local fakes.
    twilio_api_base: str = "https://api.twilio.com"
    telnyx_api_base: str = "https://api.telnyx.com"
    # MMS media larger than this is not downloaded (Twilio's own limit is 5 MB).
    sms_media_max_bytes: int = 5_000_000
    # The built-in SMTP receiver for incoming mail: off unless a port is given. Every
    # process started with it listens on the port (SO_REUSEPORT shares it).
    inbound_smtp_port: int | None = Field(default=None, ge=1, le=65535)
    inbound_smtp_host: str = "0.0.0.0"
    # The largest incoming mail taken, by SMTP, IMAP or HTTP (refused at DATA: 552).
    email_max_bytes: int = Field(default=25 * 1024 * 1024, ge=1000)
    # The files of one outgoing email together: base64 makes them a third bigger, and
    # 18 MB of files is a 25 MB mail, what Gmail and most relays take.
    email_max_attachments_bytes: int = Field(default=18 * 1024 * 1024, ge=0)
    # Outgoing webhooks may call loopback, private and link-local addresses (a receiver
    # on the same machine or network). Off: such URLs are refused, so that an admin cannot
    # point Parlour at services only the server reaches (parlour/webhooks/ssrf.py).
    webhooks_allow_private: bool = False

    @cached_property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @cached_property
    def cookie_secure(self) -> bool:
        return self.public_url.startswith("https://")
