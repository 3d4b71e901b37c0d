"""Inbound mail, parsed: the one parser the SMTP receiver, IMAP polling and raw MIME over
HTTP all hand their bytes to (issue 14). Pure: no database, no network.

``parse(raw)`` never raises on malformed mail; what went wrong is listed in ``defects`` (the
stdlib's own defects, by class name, and Parlour's). It raises only ``MailTooLarge``, before
reading anything, for mail over ``max_bytes``.

Caps, so hostile headers cost bounded memory and time (the stdlib's address parser is pure
Python and slow on megabytes of ``To:``):

- the top-level header block keeps at most ``MAX_HEADERS`` (500) fields and
  ``MAX_HEADER_BYTES`` (256 KiB); the rest are dropped with a defect;
- one field keeps at most ``MAX_FIELD_BYTES`` (8 KiB), cut at the last comma so an address
  list stays whole addresses;
- MIME structure: at most ``MAX_PARTS`` (100) parts, ``MAX_DEPTH`` (20) levels deep; a
  ``Content-*`` field over ``MAX_MIME_FIELD_BYTES`` (2 KiB), or past ``MAX_MIME_HEADER_BYTES``
  (32 KiB) of them in all, is dropped (the part then reads as plain text, RFC 2045 §5.2);
- the raw mail is cut before its ``MAX_CONTENT_TYPES``-th (500th) ``Content-Type`` line,
  since the stdlib parser costs about a millisecond a part;
- each address list keeps at most ``MAX_ADDRESSES`` (200), ``references`` at most
  ``MAX_REFERENCES`` (100: the first, which roots the thread, and the newest 99).

Message ids are kept in their ``<id>`` form. Quote and signature splitting is in
``quotes.py`` (its docstring says which libraries were compared and why none is used).
"""

from __future__ import annotations

import codecs
import html as html_lib
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from email.utils import getaddresses
from typing import cast

import nh3

from parlour.channels.email import quotes
from parlour.conversations.html import sanitize_html
from parlour.errors import ParlourError

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
MAX_HEADERS = 500
MAX_HEADER_BYTES = 256 * 1024
MAX_FIELD_BYTES = 8 * 1024
MAX_PARTS = 100
MAX_DEPTH = 20
MAX_MIME_FIELD_BYTES = 2 * 1024
MAX_MIME_HEADER_BYTES = 32 * 1024
MAX_CONTENT_TYPES = 500
MAX_ADDRESSES = 200
MAX_REFERENCES = 100

CONTENT_TYPE_LINE = re.compile(rb"^content-type[ \t]*:", re.IGNORECASE | re.MULTILINE)
MSG_ID = re.compile(r"<([^<>\s]+)>")
BLANK_LINE = re.compile(rb"\r?\n\r?\n")
BLOCK_END = re.compile(r"(?i)<br\s*/?>|</(p|div|li|tr|h[1-6]|blockquote|table)\s*>")
AUTO_PRECEDENCE = {"bulk", "auto_reply", "list", "junk"}
# Mail that says ISO-8859-1 is nearly always windows-1252 (as WHATWG decodes it).
CHARSET_ALIASES = {
    "iso-8859-1": "windows-1252",
    "latin-1": "windows-1252",
    "latin1": "windows-1252",
}


class _CappedPolicy(EmailPolicy):
    """``email.policy.default``, but a ``Content-*`` field too long to parse quickly keeps
    only its value: the parser itself reads every part's Content-Type, at some 20 µs a byte."""

    def __init__(self) -> None:
        super().__init__()
        object.__setattr__(self, "dropped", [])

    dropped: list[str]

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        name, value = super().header_source_parse(sourcelines)
        if len(value) > MAX_MIME_FIELD_BYTES and name.lower().startswith("content-"):
            self.dropped.append("mime_header_truncated")
            value = value.split(";", 1)[0][:100]
        return name, value

    def header_fetch_parse(self, name: str, value: str) -> str:
        header: str  # a str subclass from the header registry
        try:
            header = super().header_fetch_parse(name, value)
        except Exception:  # the stdlib's header parser has IndexErrors on some truncations
            self.dropped.append(f"header_unparseable: {name[:40]}")
            header = super().header_fetch_parse(name, value.split(";", 1)[0].strip())
        return header


class MailTooLarge(ParlourError):
    code = "mail_too_large"
    status = 413


@dataclass(frozen=True)
class Mailbox:
    name: str
    address: str


@dataclass(frozen=True)
class Attachment:
    filename: str | None
    content_type: str
    content: bytes
    content_id: str | None  # without angle brackets, as a ``cid:`` URL names it
    inline: bool


@dataclass(frozen=True)
class ParsedMail:
    """``sender`` is the From header's first mailbox. ``text`` is the whole text body (or the
    HTML's text); ``new_text``, ``signature`` and ``quoted_text`` split it. ``html`` and
    ``new_html`` are sanitised; ``cid:`` images in them name ``attachments[].content_id``."""

    sender: Mailbox | None
    to: list[Mailbox]
    cc: list[Mailbox]
    reply_to: list[Mailbox]
    subject: str
    date: datetime | None
    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    auto_reply: bool
    text: str
    html: str | None
    new_text: str
    signature: str
    quoted_text: str
    new_html: str | None
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)


def parse(raw: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedMail:
    if len(raw) > max_bytes:
        raise MailTooLarge(f"The mail is {len(raw)} bytes; at most {max_bytes} are accepted.")
    defects: list[str] = []
    if b"\x00" in raw:
        raw = raw.replace(b"\x00", b"")
        defects.append("nul_bytes_removed")
    raw = _cap_headers(raw, defects)
    raw = _cap_parts(raw, defects)
    policy = _CappedPolicy()
    try:
        msg = cast(EmailMessage, BytesParser(EmailMessage, policy=policy).parsebytes(raw))
        _prune(msg, defects, budget=[MAX_PARTS, MAX_MIME_HEADER_BYTES], depth=0)
        parsed = _read(msg, defects)
        return replace(parsed, defects=list(dict.fromkeys(defects + policy.dropped)))
    except Exception as exc:  # the stdlib has raised on inputs nobody foresaw; keep the text
        defects.append(f"unparseable: {type(exc).__name__}")
        text = _clean(raw.decode("utf-8", errors="replace"))
        split = quotes.split_reply(text)
        return ParsedMail(
            sender=None, to=[], cc=[], reply_to=[], subject="", date=None, message_id=None,
            in_reply_to=None, references=[], auto_reply=False, text=text, html=None,
            new_text=split.new_text, signature=split.signature,
            quoted_text=split.quoted_text, new_html=None, defects=defects,
        )  # fmt: skip


def _read(msg: EmailMessage, defects: list[str]) -> ParsedMail:
    text, html, attachments = _bodies(msg, defects)
    if not text and html:
        text = _html_text(html)
    split = quotes.split_reply(text)
    new_html = sanitize_html(quotes.new_html(html), remote_images=True) if html else None
    for part in msg.walk():
        defects.extend(type(d).__name__ for d in part.defects)
    return ParsedMail(
        sender=next(iter(_mailboxes(msg, "From", defects)), None),
        to=_mailboxes(msg, "To", defects),
        cc=_mailboxes(msg, "Cc", defects),
        reply_to=_mailboxes(msg, "Reply-To", defects),
        subject=_header(msg, "Subject", defects),
        date=_date(msg, defects),
        message_id=next(iter(_ids(_header(msg, "Message-ID", defects))), None),
        in_reply_to=next(iter(_ids(_header(msg, "In-Reply-To", defects))), None),
        references=_references(_header(msg, "References", defects)),
        auto_reply=_auto_reply(msg, defects),
        text=text,
        html=sanitize_html(html, remote_images=True) if html else None,
        new_text=split.new_text,
        signature=split.signature,
        quoted_text=split.quoted_text,
        new_html=new_html,
        attachments=attachments,
        defects=list(dict.fromkeys(defects)),
    )


def _cap_parts(raw: bytes, defects: list[str]) -> bytes:
    """Cut the mail before its ``MAX_CONTENT_TYPES``-th part: the stdlib parser spends about a
    millisecond on each, so a mail of 20,000 empty parts would take seconds."""
    for count, found in enumerate(CONTENT_TYPE_LINE.finditer(raw), 1):
        if count > MAX_CONTENT_TYPES:
            defects.append("parts_dropped")
            return raw[: found.start()]
    return raw


def _cap_headers(raw: bytes, defects: list[str]) -> bytes:
    end = BLANK_LINE.search(raw, 0, MAX_HEADER_BYTES * 64)
    head, body = (raw[: end.start()], raw[end.start() :]) if end else (raw, b"")
    if len(head) <= MAX_HEADER_BYTES and head.count(b"\n") < MAX_HEADERS:
        return raw
    fields: list[bytes] = []
    for line in head.split(b"\n"):
        if fields and line[:1] in (b" ", b"\t"):
            fields[-1] += b"\n" + line
        else:
            fields.append(line)
    kept: list[bytes] = []
    size = 0
    for value in fields:
        if len(kept) >= MAX_HEADERS or size + min(len(value), MAX_FIELD_BYTES) > MAX_HEADER_BYTES:
            defects.append("headers_dropped")
            break
        if len(value) > MAX_FIELD_BYTES:
            value = value[:MAX_FIELD_BYTES]
            comma = value.rfind(b",")
            value = value[:comma] if comma > 0 else value
            defects.append("header_truncated")
        kept.append(value.rstrip(b"\r"))
        size += len(value)
    return b"\r\n".join(kept) + (body if end else b"\r\n\r\n")


def _prune(part: Message, defects: list[str], *, budget: list[int], depth: int) -> None:
    """Drop the parts past the caps before anything reads their (slowly parsed) headers."""
    for name, value in part.raw_items():
        if name.lower().startswith("content-"):
            if len(value) > MAX_MIME_FIELD_BYTES or len(value) > budget[1]:
                del part[name]
                defects.append("mime_header_dropped")
            else:
                budget[1] -= len(value)
    if not part.is_multipart():
        return  # get_payload() would decode a text part by its charset, which may raise
    payload = part.get_payload()
    if not isinstance(payload, list):
        return
    kept: list[Message] = []
    for child in payload:
        if not isinstance(child, Message):
            continue
        if budget[0] <= 0 or depth >= MAX_DEPTH:
            defects.append("parts_dropped")
            break
        budget[0] -= 1
        _prune(child, defects, budget=budget, depth=depth + 1)
        kept.append(child)
    payload[:] = kept


def _bodies(msg: EmailMessage, defects: list[str]) -> tuple[str, str | None, list[Attachment]]:
    plain = _body_part(msg, "plain")
    rich = _body_part(msg, "html")
    text = _decode(plain, defects) if plain is not None else ""
    html = _decode(rich, defects) if rich is not None else None
    attachments: list[Attachment] = []
    broken: list[str] = []
    for part in _leaves(msg):
        if part is plain or part is rich:
            continue
        if part.get_content_maintype() == "multipart":
            # A multipart whose boundary is missing or never found: its body is one string.
            broken.append(_decode(part, defects))
        elif not _is_alternative_text(part):
            attachments.append(_attachment(part, defects))
    if not text and not html and any(b.strip() for b in broken):
        defects.append("broken_multipart_read_as_text")
        text = "\n\n".join(b.strip() for b in broken if b.strip())
    return text, html, attachments


def _is_alternative_text(part: EmailMessage) -> bool:
    """A second text/plain or text/html part with no name is body, not a file."""
    try:
        named = bool(part.get_filename())
    except Exception:
        named = False
    return (
        part.get_content_type() in ("text/plain", "text/html")
        and not named
        and part.get_content_disposition() != "attachment"
    )


def _body_part(msg: EmailMessage, subtype: str) -> EmailMessage | None:
    try:
        part = msg.get_body(preferencelist=(subtype,))
    except Exception:
        return None
    return part if isinstance(part, EmailMessage) else None


def _leaves(msg: Message) -> list[EmailMessage]:
    """Every non-multipart part; an attached message is one leaf, not opened."""
    if msg.is_multipart() and msg.get_content_maintype() == "multipart":
        payload = msg.get_payload()
        parts = payload if isinstance(payload, list) else []
        return [leaf for part in parts if isinstance(part, Message) for leaf in _leaves(part)]
    return [cast(EmailMessage, msg)]


def _attachment(part: EmailMessage, defects: list[str]) -> Attachment:
    if part.get_content_maintype() == "message":
        inner = part.get_payload()
        try:
            first = inner[0] if isinstance(inner, list) and inner else None
            content = first.as_bytes() if isinstance(first, Message) else b""
        except Exception:
            content = b""
            defects.append("attached_message_unreadable")
    else:
        decoded = part.get_payload(decode=True)
        content = decoded if isinstance(decoded, bytes) else b""
    try:
        filename = part.get_filename()
    except Exception:
        filename = None
        defects.append("filename_unreadable")
    if filename:
        filename = _clean(filename).replace("\\", "/").rsplit("/", 1)[-1] or None
    content_id = next(iter(_ids(_header(part, "Content-ID", defects))), None)
    disposition = part.get_content_disposition()
    return Attachment(
        filename=filename,
        content_type=part.get_content_type(),
        content=content,
        content_id=content_id[1:-1] if content_id else None,
        inline=disposition == "inline" or (disposition is None and content_id is not None),
    )


def _decode(part: EmailMessage, defects: list[str]) -> str:
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    declared = (part.get_content_charset() or "us-ascii").strip().lower()
    charset = CHARSET_ALIASES.get(declared, declared)
    try:
        codecs.lookup(charset)
    except LookupError:
        defects.append(f"unknown_charset: {declared[:40]}")
        charset = "utf-8"
    for attempt in (charset, "utf-8"):
        try:
            return _clean(data.decode(attempt))
        except (ValueError, LookupError):  # UnicodeError, or a bytes-to-bytes codec ("zlib")
            continue
    defects.append(f"undecodable_text: {declared[:40]}")
    # Bytes that are not what they say: mislabelled 8-bit text is most often windows-1252.
    fallback = "windows-1252" if charset in ("us-ascii", "ascii", "utf-8") else charset
    try:
        return _clean(data.decode(fallback, "replace"))
    except (ValueError, LookupError):
        return _clean(data.decode("windows-1252", "replace"))


def _html_text(html: str) -> str:
    """The HTML's text, keeping its line and paragraph breaks (``html_to_text`` joins them)."""
    text: str = html_lib.unescape(nh3.clean(BLOCK_END.sub("\n", html), tags=set()))
    lines = [re.sub(r"[ \t\xa0]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _header(msg: Message, name: str, defects: list[str]) -> str:
    try:
        value = msg.get(name)
    except Exception:  # the stdlib's parser raises on some truncated headers
        defects.append(f"header_unreadable: {name}")
        return _raw(msg, name)
    return _clean(str(value)).strip() if value is not None else ""


def _raw(msg: Message, name: str) -> str:
    """A header's source text, unparsed and unfolded."""
    value = next((v for n, v in msg.raw_items() if n.lower() == name.lower()), "")
    return _clean(re.sub(r"\r?\n[ \t]+", " ", str(value))).strip()


def _mailboxes(msg: Message, name: str, defects: list[str]) -> list[Mailbox]:
    try:
        header = msg.get(name)
        found = [(a.display_name, a.addr_spec) for a in getattr(header, "addresses", ())]
        defects.extend(type(d).__name__ for d in getattr(header, "defects", ()))
    except Exception:
        # The stdlib's parser raises on some broken lists; its older one reads what it can.
        defects.append(f"header_unreadable: {name}")
        found = getaddresses([_raw(msg, name)])
    if len(found) > MAX_ADDRESSES:
        defects.append(f"addresses_dropped: {name}")
    return [
        Mailbox(name=_clean(display), address=_clean(address))
        for display, address in found[:MAX_ADDRESSES]
        if "@" in address
    ]


def _date(msg: Message, defects: list[str]) -> datetime | None:
    try:
        header = msg.get("Date")
        when = getattr(header, "datetime", None) if header else None
    except Exception:
        defects.append("header_unreadable: Date")
        return None
    defects.extend(type(d).__name__ for d in getattr(header, "defects", ()))
    if not isinstance(when, datetime):
        return None
    # "-0000" means "zone unknown" (RFC 5322 §3.3); UTC is the best guess.
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _ids(value: str) -> list[str]:
    found = [f"<{m}>" for m in MSG_ID.findall(value)]
    if not found and value.strip():
        found = [f"<{token.strip('<>')}>" for token in value.split() if token.strip("<>")]
    return found


def _references(value: str) -> list[str]:
    ids = list(dict.fromkeys(_ids(value)))
    return ids if len(ids) <= MAX_REFERENCES else ids[:1] + ids[-(MAX_REFERENCES - 1) :]


def _auto_reply(msg: Message, defects: list[str]) -> bool:
    submitted = _header(msg, "Auto-Submitted", defects).split(";")[0].strip().lower()
    precedence = _header(msg, "Precedence", defects).strip().lower()
    return (
        (submitted != "" and submitted != "no")
        or "X-Autoreply" in msg
        or "X-Autorespond" in msg
        or precedence in AUTO_PRECEDENCE
    )


def _clean(text: str) -> str:
    return text.replace("\x00", "")
