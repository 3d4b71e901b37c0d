"""Storing and reading blobs, scoped to an account."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import undefer

from parlour.db.tx import Tx
from parlour.errors import InvalidInput, NotFound
from parlour.files.models import Blob

IMAGE_TYPES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}


def sniff_image(data: bytes) -> str:
    """The image's real type from its first bytes; SVG and anything else is refused,
    because an avatar is shown to every agent and must not be able to carry script."""
    for magic, ctype in IMAGE_TYPES.items():
        if data.startswith(magic):
            return ctype
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise InvalidInput("Avatars must be PNG, JPEG, GIF or WebP images.", code="invalid_image")


async def store(tx: Tx, *, account_id: int, data: bytes, content_type: str) -> Blob:
    blob = Blob(
        account_id=account_id,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
    )
    tx.session.add(blob)
    await tx.session.flush()
    return blob


async def load(tx: Tx, *, account_id: int, blob_id: int) -> Blob:
    blob = await tx.session.scalar(
        select(Blob)
        .where(Blob.id == blob_id, Blob.account_id == account_id)
        .options(undefer(Blob.data))
    )
    if blob is None:
        raise NotFound("No such file.")
    return blob
