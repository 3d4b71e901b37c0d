"""Serving stored files, and reading uploads with a size limit."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response, UploadFile
from sqlalchemy import select

from parlour.accounts.deps import CurrentUser
from parlour.conversations import attachments
from parlour.conversations.models import Attachment
from parlour.conversations.schemas import AttachmentOut
from parlour.db.deps import TxDep
from parlour.db.tx import Tx
from parlour.errors import NotFound, ParlourError
from parlour.files import service
from parlour.runtime import runtime_of
from parlour.types import PathId

router = APIRouter(tags=["files"])


async def read_upload(file: UploadFile, *, limit: int) -> bytes:
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise ParlourError(
            f"Files can be at most {limit} bytes.", code="file_too_large", status=413
        )
    if not data:
        raise ParlourError("The file is empty.", code="empty_file", status=422)
    return data


async def blob_response(tx: Tx, *, account_id: int, blob_id: int | None) -> Response:
    if blob_id is None:
        raise NotFound("No such file.")
    blob = await service.load(tx, account_id=account_id, blob_id=blob_id)
    return Response(
        blob.data,
        media_type=blob.content_type,
        headers={
            "Cache-Control": "private, max-age=86400",
            # Stored files are shown, never run: no script even if a type was misjudged.
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/attachments", status_code=201)
async def upload_attachment(
    file: UploadFile, request: Request, user: CurrentUser, tx: TxDep
) -> AttachmentOut:
    """Upload a file to send with a message (``attachment_ids`` when sending)."""
    data = await read_upload(file, limit=runtime_of(request).settings.max_upload_bytes)
    att = await attachments.upload(
        tx,
        account_id=user.account_id,
        user_id=user.id,
        filename=file.filename or "file",
        content_type=file.content_type or "",
        data=data,
    )
    await tx.commit()
    return AttachmentOut.from_model(att)


@router.get("/attachments/{attachment_id}", response_class=Response)
async def get_attachment(attachment_id: PathId, user: CurrentUser, tx: TxDep) -> Response:
    att = await tx.session.scalar(
        select(Attachment).where(
            Attachment.id == attachment_id, Attachment.account_id == user.account_id
        )
    )
    if att is None:
        raise NotFound("No such attachment.")
    resp = await blob_response(tx, account_id=user.account_id, blob_id=att.blob_id)
    # RFC 6266 / 5987: the stored name may hold quotes or non-ASCII; never let it break
    # out of the header.
    name = att.filename or "file"
    ascii_name = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name
    )
    resp.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
    )
    return resp
