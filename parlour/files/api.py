"""Stored files over HTTP, for any part's routes: reading an upload with a size limit,
serving a blob, offering it as a download."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Response, UploadFile

from parlour.db.tx import Tx
from parlour.errors import NotFound, ParlourError
from parlour.files import service


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


def as_download(resp: Response, filename: str) -> Response:
    """``resp`` as a download named ``filename``. RFC 6266 / 5987: the stored name may
    hold quotes or non-ASCII; never let it break out of the header."""
    name = filename or "file"
    ascii_name = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name
    )
    resp.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
    )
    return resp
