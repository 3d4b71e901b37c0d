"""MMS media: downloaded after the webhook has answered, with retries, into our own blobs.

Twilio waits at most 15 s for a webhook answer, and media can be large or slow, so the
webhook stores each attachment with its provider URL and answers at once; this task then
fetches the bytes with the account's credentials and keeps them as a blob, so the media
stays readable after the provider deletes it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import select

from parlour.channels.sms import ENDPOINT_NAMES, connections
from parlour.channels.sms.models import PhoneNumber
from parlour.channels.sms.provider import Media, SmsAccountApi
from parlour.conversations.events import emit_message_event
from parlour.conversations.models import Attachment, Message
from parlour.db.base import utcnow
from parlour.db.tx import transaction
from parlour.files import service as files_service
from parlour.outbox.delivery import PermanentFailure, TransientFailure
from parlour.runtime import Runtime

log = logging.getLogger(__name__)

# Seconds to wait before each retry.
RETRY_DELAYS = (1.0, 4.0, 15.0, 60.0)

_running: set[asyncio.Task[bool]] = set()


def schedule(
    rt: Runtime,
    fetcher: SmsAccountApi,
    *,
    provider: str,
    account_id: int,
    attachment_ids: list[int],
    delays: tuple[float, ...] | None = None,
) -> None:
    """Starts the downloads in the background (called after the webhook's commit)."""
    for attachment_id in attachment_ids:
        task = asyncio.create_task(
            download(
                rt,
                fetcher,
                provider=provider,
                account_id=account_id,
                attachment_id=attachment_id,
                delays=RETRY_DELAYS if delays is None else delays,
            ),
            name=f"sms-media-{attachment_id}",
        )
        _running.add(task)
        task.add_done_callback(_running.discard)


async def stop() -> None:
    """Cancels unfinished downloads (at shutdown); ``resume_pending`` takes them up again."""
    tasks = list(_running)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def resume_pending(
    rt: Runtime, providers: Mapping[str, object], *, max_age: timedelta = timedelta(days=2)
) -> int:
    """Restarts the downloads a stopped process left unfinished (at start-up)."""
    async with transaction(rt.db, rt.hub, write=False) as tx:
        rows = (
            await tx.session.execute(
                select(Attachment.id, Attachment.account_id, PhoneNumber.provider)
                .join(Message, Message.id == Attachment.message_id)
                .join(PhoneNumber, PhoneNumber.id == Message.endpoint_id)
                .where(
                    Attachment.blob_id.is_(None),
                    Attachment.remote_url.is_not(None),
                    Message.channel == "sms",
                    Message.direction == "in",
                    Message.created_at > utcnow() - max_age,
                )
            )
        ).all()
    for attachment_id, account_id, provider in rows:
        fetcher = providers.get(provider)
        if isinstance(fetcher, SmsAccountApi):
            schedule(
                rt,
                fetcher,
                provider=provider,
                account_id=account_id,
                attachment_ids=[attachment_id],
            )
    return len(rows)


async def download(
    rt: Runtime,
    fetcher: SmsAccountApi,
    *,
    provider: str,
    account_id: int,
    attachment_id: int,
    delays: tuple[float, ...] = RETRY_DELAYS,
) -> bool:
    async with transaction(rt.db, rt.hub, write=False) as tx:
        attachment = await tx.session.scalar(
            select(Attachment).where(
                Attachment.id == attachment_id, Attachment.account_id == account_id
            )
        )
        if attachment is None or attachment.blob_id is not None or not attachment.remote_url:
            return False
        url = attachment.remote_url
        creds = await connections.credentials_for(
            tx, account_id=account_id, provider=provider, secret_key=rt.settings.secret_key
        )
    for attempt, delay in enumerate((0.0, *delays)):
        if delay:
            await asyncio.sleep(delay)
        try:
            media = await fetcher.fetch_media(creds, url)
        except TransientFailure as exc:
            log.info("media %s: attempt %s failed: %s", attachment_id, attempt + 1, exc.message)
            continue
        except PermanentFailure as exc:
            log.warning("media %s: giving up: %s", attachment_id, exc.message)
            return False
        if len(media.data) > rt.settings.sms_media_max_bytes:
            log.warning("media %s: %s bytes is over the limit", attachment_id, len(media.data))
            return False
        return await _store(rt, account_id=account_id, attachment_id=attachment_id, media=media)
    log.warning("media %s: giving up after %s attempts", attachment_id, len(delays) + 1)
    return False


async def _store(rt: Runtime, *, account_id: int, attachment_id: int, media: Media) -> bool:
    async with transaction(rt.db, rt.hub) as tx:
        stmt = select(Attachment).where(
            Attachment.id == attachment_id, Attachment.account_id == account_id
        )
        if tx.dialect == "postgresql":
            stmt = stmt.with_for_update()  # two processes resuming the same download
        attachment = await tx.session.scalar(stmt)
        if attachment is None or attachment.blob_id is not None:
            return False
        content_type = media.content_type.split(";")[0].strip()[:100] or attachment.content_type
        blob = await files_service.store(
            tx, account_id=account_id, data=media.data, content_type=content_type
        )
        attachment.blob_id = blob.id
        attachment.size = blob.size
        attachment.content_type = content_type
        await tx.session.flush()
        message = await tx.session.get(Message, attachment.message_id)
        if message is not None:
            await tx.session.refresh(message, ["attachments"])
            await emit_message_event(tx, "message.updated", message, names=ENDPOINT_NAMES)
        await tx.commit()
    return True
