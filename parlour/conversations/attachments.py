"""Files sent with a message: uploaded first, then claimed by the message that carries them."""

from __future__ import annotations

import re

from sqlalchemy import select

from parlour.conversations.models import Attachment, Message
from parlour.db.tx import Tx
from parlour.errors import InvalidInput, NotFound
from parlour.files import service as files_service

MAX_PER_MESSAGE = 10
_MIME = re.compile(r"^[A-Za-z0-9][\w.+-]*/[\w.+-]+$")


def clean_filename(name: str) -> str:
    # Browsers send a bare name, but some send a path; keep only its last part.
    base = name.replace("\\", "/").rsplit("/", 1)[-1].replace("\x00", "").strip()
    return base[:255] or "file"


async def upload(
    tx: Tx, *, account_id: int, user_id: int, filename: str, content_type: str, data: bytes
) -> Attachment:
    ctype = content_type if _MIME.match(content_type or "") else "application/octet-stream"
    blob = await files_service.store(tx, account_id=account_id, data=data, content_type=ctype)
    att = Attachment(
        account_id=account_id,
        message_id=None,
        uploaded_by=user_id,
        blob_id=blob.id,
        filename=clean_filename(filename),
        content_type=ctype,
        size=len(data),
    )
    tx.session.add(att)
    await tx.session.flush()
    return att


async def get_attachment(tx: Tx, *, account_id: int, attachment_id: int) -> Attachment:
    att = await tx.session.scalar(
        select(Attachment).where(
            Attachment.id == attachment_id, Attachment.account_id == account_id
        )
    )
    if att is None:
        raise NotFound("No such attachment.")
    return att


async def claim(tx: Tx, *, message: Message, attachment_ids: list[int]) -> None:
    """Attach uploads to ``message``; each must be this account's and not yet sent."""
    if not attachment_ids:
        return
    if len(set(attachment_ids)) > MAX_PER_MESSAGE:
        raise InvalidInput(
            f"At most {MAX_PER_MESSAGE} attachments per message.", code="too_many_attachments"
        )
    found = list(
        await tx.session.scalars(
            select(Attachment).where(
                Attachment.id.in_(set(attachment_ids)),
                Attachment.account_id == message.account_id,
                Attachment.message_id.is_(None),
            )
        )
    )
    missing = sorted(set(attachment_ids) - {a.id for a in found})
    if missing:
        raise InvalidInput(
            "Some attachments do not exist or were already sent.",
            code="unknown_attachment",
            details={"attachment_ids": missing},
        )
    for att in sorted(found, key=lambda a: a.id):
        att.message_id = message.id
        message.attachments.append(att)
