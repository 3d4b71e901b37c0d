"""The inbound mail parser, on CPython's test mail and on hand-written replies."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from parlour.channels.email import mime
from parlour.channels.email.mime import Attachment, Mailbox, MailTooLarge, parse

CPYTHON = Path(__file__).parent / "data" / "cpython"


def mail(body: str | bytes, *, headers: str = "", content_type: str = "text/plain") -> bytes:
    head = (
        "From: Ada Lovelace <ada@example.com>\r\n"
        "To: support@parlour.test\r\n"
        "Subject: Hello\r\n"
        "Message-ID: <m1@example.com>\r\n"
        f"{headers}"
        "MIME-Version: 1.0\r\n"
        f"Content-Type: {content_type}\r\n"
        "\r\n"
    ).encode()
    return head + (body.encode() if isinstance(body, str) else body)


# --- replies: (body, the new text a person wrote) ------------------------------------------

REPLIES = {
    "gmail": (
        "Thanks, Tuesday works for me.\n\n"
        "On Mon, 3 Mar 2025 at 10:12, Ada Lovelace <ada@example.com> wrote:\n"
        "> Can we meet on Tuesday?\n>\n> Ada\n",
        "Thanks, Tuesday works for me.",
    ),
    "gmail_wrapped_attribution": (
        "Sounds good.\n\n"
        "On Mon, 3 Mar 2025 at 10:12, Ada Lovelace via Support <\n"
        "support@example.com> wrote:\n\n> Can we meet?\n",
        "Sounds good.",
    ),
    "outlook_original_message": (
        "Please send the invoice again.\n\nBest,\nBob\n\n"
        "-----Original Message-----\n"
        "From: Parlour Support <support@example.com>\n"
        "Sent: Monday, March 3, 2025 10:12 AM\n"
        "To: Bob <bob@example.com>\nSubject: Your invoice\n\nHere is your invoice.\n",
        "Please send the invoice again.\n\nBest,\nBob",
    ),
    "outlook_from_sent_block": (
        "Yes, that's fine.\n\n"
        "________________________________\n"
        "From: Parlour Support <support@example.com>\n"
        "Sent: Monday, March 3, 2025 10:12 AM\n"
        "To: Bob <bob@example.com>\nSubject: RE: Booking\n\nShall we book it?\n",
        "Yes, that's fine.",
    ),
    "apple_mail": (
        "I'll be there at 9.\n\nSent from my iPhone\n\n"
        "> On 3 Mar 2025, at 10:12, Ada Lovelace <ada@example.com> wrote:\n"
        "> \n> See you tomorrow?\n",
        "I'll be there at 9.",
    ),
    "thunderbird": (
        "Got it, thank you!\n\nOn 03/03/2025 10:12, Ada Lovelace wrote:\n"
        "> The parcel left this morning.\n",
        "Got it, thank you!",
    ),
    "french": (
        "Merci, c'est parfait.\n\n"
        "Le lun. 3 mars 2025 à 10:12, Ada Lovelace <ada@example.com> a écrit :\n"
        "> Voici le devis.\n",
        "Merci, c'est parfait.",
    ),
    "german": (
        "Danke, das passt.\n\n"
        "Am Mo., 3. März 2025 um 10:12 Uhr schrieb Ada Lovelace <ada@example.com>:\n"
        "> Hier ist das Angebot.\n",
        "Danke, das passt.",
    ),
    "inline_answers_stay": (
        "> Can you do Tuesday?\nYes.\n> And bring the forms?\nI will.\n",
        "> Can you do Tuesday?\nYes.\n> And bring the forms?\nI will.",
    ),
    "dash_dash_signature": (
        "Call me tomorrow.\n\n-- \nBob Smith\nAcme Ltd\n",
        "Call me tomorrow.",
    ),
    "no_quote": (
        "Hello, I have a question about my order #123.\n\nThanks\n",
        "Hello, I have a question about my order #123.\n\nThanks",
    ),
    "trailing_quote_only": (
        "Done.\n\n> Please reset my password.\n> Thanks\n",
        "Done.",
    ),
    "outlook_german": (
        "Passt, danke.\n\nVon: Parlour Support <support@example.com>\n"
        "Gesendet: Montag, 3. März 2025 10:12\nAn: Bob <bob@example.com>\n"
        "Betreff: Termin\n\nPasst Dienstag?\n",
        "Passt, danke.",
    ),
    "yahoo": (
        "See you then.\n\nSent from Yahoo Mail on Android\n\n"
        "  On Mon, 3 Mar 2025 at 10:12, Ada Lovelace<ada@example.com> wrote:   > Tuesday?\n",
        "See you then.",
    ),
    "outlook_mobile": (
        "OK!\n\nGet Outlook for iOS\n________________________________\n"
        "From: Ada <ada@example.com>\nSent: Monday, March 3, 2025 10:12:00 AM\nTo: Bob\n"
        "Subject: Plan\n\nPlan?\n",
        "OK!",
    ),
    "spanish": (
        "Perfecto, gracias.\n\n"
        "El lun, 3 mar 2025 a las 10:12, Ada Lovelace (<ada@example.com>) escribió:\n"
        "> ¿Martes?\n",
        "Perfecto, gracias.",
    ),
    "french_wrapped": (
        "D'accord.\n\nLe lun. 3 mars 2025 à 10:12, Ada Lovelace <ada@example.com> a\n"
        "écrit :\n\n> Voici.\n",
        "D'accord.",
    ),
    "forward": (
        "FYI, see below.\n\n---------- Forwarded message ---------\n"
        "From: Ada <ada@example.com>\nDate: Mon, 3 Mar 2025\nSubject: Plan\n\nThe plan.\n",
        "FYI, see below.",
    ),
    "signoff_kept": (
        "Thanks for the quick answer.\n\nBest regards,\nBob Smith\n\n"
        "On Mon, 3 Mar 2025 at 10:12, Ada <ada@example.com> wrote:\n> Done.\n",
        "Thanks for the quick answer.\n\nBest regards,\nBob Smith",
    ),
    "bottom_posted": (
        "On Mon, 3 Mar 2025 at 10:12, Ada <ada@example.com> wrote:\n> Tuesday?\n\nYes, Tuesday.\n",
        "Yes, Tuesday.",
    ),
    "nested_quotes": (
        "Agreed.\n\n> Me too.\n>\n>> Shall we?\n",
        "Agreed.",
    ),
}


@pytest.mark.parametrize("name", REPLIES)
def test_a_reply_is_separated_from_its_history_and_signature(name: str) -> None:
    body, new_text = REPLIES[name]
    parsed = parse(mail(body, content_type="text/plain; charset=utf-8"))
    assert parsed.new_text == new_text
    assert parsed.text == body
    if name not in ("inline_answers_stay", "no_quote", "dash_dash_signature"):
        assert parsed.quoted_text != ""
        assert parsed.new_text + parsed.quoted_text != body  # history is not new text


def test_the_signature_and_the_history_are_kept_apart() -> None:
    parsed = parse(mail(REPLIES["apple_mail"][0]))
    assert parsed.signature == "Sent from my iPhone"
    assert parsed.quoted_text == (
        "> On 3 Mar 2025, at 10:12, Ada Lovelace <ada@example.com> wrote:\n> \n> See you tomorrow?"
    )


def test_gmail_html_reply_keeps_only_the_new_part_in_new_html() -> None:
    html = (
        '<div dir="ltr">Works for me.</div><br><div class="gmail_quote">'
        '<div class="gmail_attr">On Mon, Ada wrote:</div><blockquote>Tuesday?</blockquote></div>'
    )
    parsed = parse(mail(html, content_type="text/html; charset=utf-8"))
    assert parsed.new_html == "<div>Works for me.</div><br>"
    assert "Tuesday?" in (parsed.html or "")
    assert parsed.text == "Works for me.\n\nOn Mon, Ada wrote:\nTuesday?"
    assert parsed.new_text == "Works for me."


def test_thunderbird_and_outlook_html_quotes_are_cut() -> None:
    thunderbird = (
        '<p>Yes</p><div class="moz-cite-prefix">On 3/3 Ada wrote:</div>'
        '<blockquote type="cite">x</blockquote>'
    )
    outlook = (
        '<div>Fine</div><div id="appendonsend"></div><hr><div id="divRplyFwdMsg">From: x</div>'
    )
    assert parse(mail(thunderbird, content_type="text/html")).new_html == "<p>Yes</p>"
    assert parse(mail(outlook, content_type="text/html")).new_html == "<div>Fine</div>"


# --- headers ---------------------------------------------------------------------------


def test_envelope_headers_are_decoded_and_normalised() -> None:
    raw = mail(
        "Hi",
        headers=(
            "Cc: =?utf-8?q?Zo=C3=AB?= <zoe@example.com>, bob@example.com\r\n"
            'Reply-To: "Ada (work)" <ada@work.example>\r\n'
            "Date: Mon, 03 Mar 2025 10:12:00 +0100\r\n"
            "In-Reply-To: <out-7@parlour.test>\r\n"
            "References: <root@parlour.test>\r\n <out-7@parlour.test>  <root@parlour.test>\r\n"
        ),
    ).replace(b"Subject: Hello", b"Subject: =?utf-8?q?Caf=C3=A9?= =?iso-8859-1?b?b3V2ZXJ0?=")
    parsed = parse(raw)
    assert parsed.sender == Mailbox(name="Ada Lovelace", address="ada@example.com")
    assert parsed.to == [Mailbox(name="", address="support@parlour.test")]
    assert parsed.cc == [
        Mailbox(name="Zoë", address="zoe@example.com"),
        Mailbox(name="", address="bob@example.com"),
    ]
    assert parsed.reply_to == [Mailbox(name="Ada (work)", address="ada@work.example")]
    assert parsed.subject == "Caféouvert"  # adjacent encoded words join (RFC 2047 §6.2)
    assert parsed.date == datetime(2025, 3, 3, 10, 12, tzinfo=timezone(timedelta(hours=1)))
    assert parsed.message_id == "<m1@example.com>"
    assert parsed.in_reply_to == "<out-7@parlour.test>"
    assert parsed.references == ["<root@parlour.test>", "<out-7@parlour.test>"]
    assert parsed.auto_reply is False
    assert parsed.defects == []


def test_a_subject_with_words_and_encoded_words_mixed() -> None:
    raw = mail("Hi").replace(
        b"Subject: Hello", b"Subject: Re: =?ISO-8859-1?Q?Pr=E9sentation?= du projet"
    )
    assert parse(raw).subject == "Re: Présentation du projet"


def test_ids_without_brackets_and_unknown_zones() -> None:
    raw = mail(
        "Hi", headers="Date: Mon, 03 Mar 2025 10:12:00 -0000\r\nIn-Reply-To: bare@id.test\r\n"
    ).replace(b"Message-ID: <m1@example.com>", b"Message-ID:   <spaced@x.test>  ")
    parsed = parse(raw)
    assert parsed.date == datetime(2025, 3, 3, 10, 12, tzinfo=UTC)
    assert parsed.in_reply_to == "<bare@id.test>"
    assert parsed.message_id == "<spaced@x.test>"


def test_a_bad_date_is_none_and_noted() -> None:
    parsed = parse(mail("Hi", headers="Date: sometime last week\r\n"))
    assert parsed.date is None
    assert "InvalidDateDefect" in parsed.defects


@pytest.mark.parametrize(
    ("header", "auto"),
    [
        ("Auto-Submitted: auto-replied\r\n", True),
        ("Auto-Submitted: auto-generated; owner-email=x@y.test\r\n", True),
        ("Auto-Submitted: no\r\n", False),
        ("X-Autoreply: yes\r\n", True),
        ("X-Autorespond: on vacation\r\n", True),
        ("Precedence: bulk\r\n", True),
        ("Precedence: auto_reply\r\n", True),
        ("Precedence: list\r\n", True),
        ("Precedence: junk\r\n", True),
        ("Precedence: first-class\r\n", False),
        ("", False),
    ],
)
def test_auto_replies_are_recognised(header: str, auto: bool) -> None:
    assert parse(mail("I am away.", headers=header)).auto_reply is auto


# --- bodies and charsets ---------------------------------------------------------------


def test_iso_2022_jp_body() -> None:
    text = "こんにちは、予約を確認しました。"
    raw = mail(
        text.encode("iso-2022-jp"),
        headers="Content-Transfer-Encoding: 7bit\r\n",
        content_type="text/plain; charset=ISO-2022-JP",
    )
    assert parse(raw).text == text


def test_windows_1252_body_and_latin1_that_is_really_windows_1252() -> None:
    text = "“Quoted” — 10 €"
    for charset in ("windows-1252", "iso-8859-1"):
        raw = mail(
            text.encode("windows-1252"),
            headers="Content-Transfer-Encoding: 8bit\r\n",
            content_type=f"text/plain; charset={charset}",
        )
        assert parse(raw).text == text


def test_an_unknown_charset_is_read_as_utf8_and_noted() -> None:
    raw = mail(
        "Grüße".encode(),
        headers="Content-Transfer-Encoding: 8bit\r\n",
        content_type="text/plain; charset=x-no-such-charset",
    )
    parsed = parse(raw)
    assert parsed.text == "Grüße"
    assert "unknown_charset: x-no-such-charset" in parsed.defects


def test_bytes_that_are_not_the_declared_charset_become_replacement_characters() -> None:
    raw = mail(
        b"caf\xe9 \x81",
        headers="Content-Transfer-Encoding: 8bit\r\n",
        content_type="text/plain; charset=utf-8",
    )
    parsed = parse(raw)
    assert parsed.text == "café \ufffd"
    assert "undecodable_text: utf-8" in parsed.defects


@pytest.mark.parametrize("charset", ["zlib", "idna", "utf-7", "x-\u00e9"])
def test_charsets_that_are_codecs_but_not_text_never_raise(charset: str) -> None:
    raw = mail(
        b"caf\xe9",
        headers="Content-Transfer-Encoding: 8bit\r\n",
        content_type=f"text/plain; charset={charset}",
    )
    assert parse(raw).text in ("caf\xe9", "caf\ufffd")


def test_html_only_mail_gets_text_and_its_html_is_sanitised() -> None:
    html = (
        "<p>Hello &amp; welcome</p><script>alert(1)</script>"
        '<p onclick="x()">Line<br>two <img src="https://track.example/p.gif"></p>'
    )
    parsed = parse(mail(html, content_type="text/html; charset=utf-8"))
    assert parsed.text == "Hello & welcome\nLine\ntwo"
    # Remote images are kept, for the agent to allow (the app blocks them until then).
    assert parsed.html == (
        '<p>Hello &amp; welcome</p><p>Line<br>two <img src="https://track.example/p.gif"></p>'
    )


def test_nul_bytes_are_removed_and_noted() -> None:
    parsed = parse(mail(b"Hel\x00lo\x00"))
    assert parsed.text == "Hello"
    assert parsed.defects == ["nul_bytes_removed"]


# --- attachments -----------------------------------------------------------------------


def test_an_inline_cid_image_and_a_named_attachment() -> None:
    raw = mail(
        "--OUT\r\n"
        'Content-Type: multipart/related; boundary="REL"\r\n\r\n'
        "--REL\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        '<p>Our logo: <img src="cid:logo@parlour.test"></p>\r\n'
        "--REL\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
        "Content-ID: <logo@parlour.test>\r\nContent-Disposition: inline\r\n\r\n"
        "iVBORw0KGgo=\r\n"
        "--REL--\r\n"
        "--OUT\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        "Content-Disposition: attachment; filename*=utf-8''Re%C3%A7u.pdf\r\n\r\n"
        "JVBERi0=\r\n"
        "--OUT--\r\n",
        content_type='multipart/mixed; boundary="OUT"',
    )
    parsed = parse(raw)
    assert parsed.html == '<p>Our logo: <img src="cid:logo@parlour.test"></p>'
    assert parsed.text == "Our logo:"
    assert parsed.attachments == [
        Attachment(
            filename=None,
            content_type="image/png",
            content=b"\x89PNG\r\n\x1a\n",
            content_id="logo@parlour.test",
            inline=True,
        ),
        Attachment(
            filename="Reçu.pdf",
            content_type="application/pdf",
            content=b"%PDF-",
            content_id=None,
            inline=False,
        ),
    ]


def test_an_attachment_name_cannot_carry_a_path() -> None:
    raw = mail(
        "--B\r\nContent-Type: text/plain\r\n\r\nsee file\r\n"
        "--B\r\nContent-Type: application/octet-stream\r\n"
        'Content-Disposition: attachment; filename="..\\\\..\\\\evil.exe"\r\n\r\nMZ\r\n'
        "--B--\r\n",
        content_type='multipart/mixed; boundary="B"',
    )
    assert [a.filename for a in parse(raw).attachments] == ["evil.exe"]


def test_cpython_gif_attachment() -> None:
    parsed = parse((CPYTHON / "msg_07.txt").read_bytes())
    assert parsed.sender == Mailbox(name="Barry", address="barry@digicool.com")
    assert parsed.subject == "Here is your dingus fish"
    assert parsed.text == "Hi there,\n\nThis is the dingus fish.\n"
    [gif] = parsed.attachments
    assert (gif.filename, gif.content_type, gif.inline) == ("dingusfish.gif", "image/gif", False)
    assert gif.content.startswith(b"GIF87a")


def test_cpython_digest_and_forwards_keep_attached_messages_whole() -> None:
    digest = parse((CPYTHON / "msg_02.txt").read_bytes())
    assert [a.content_type for a in digest.attachments] == ["message/rfc822"] * 5
    assert digest.text.startswith("Send Ppp mailing list submissions to")
    forwarded = parse((CPYTHON / "msg_46.txt").read_bytes())
    [inner] = forwarded.attachments
    assert inner.content_type == "message/rfc822"
    assert b"Subject:" in inner.content


def test_cpython_delivery_report() -> None:
    report = parse((CPYTHON / "msg_16.txt").read_bytes())
    assert report.sender == Mailbox(name="Internet Mail Delivery", address="postmaster@ucla.edu")
    assert report.text.startswith("This report relates to a message you sent")
    assert [a.content_type for a in report.attachments] == [
        "message/delivery-status",
        "message/rfc822",
    ]


# --- malformed -------------------------------------------------------------------------


def test_cpython_multipart_without_a_boundary_is_read_as_text() -> None:
    parsed = parse((CPYTHON / "msg_41.txt").read_bytes())
    assert parsed.text == "Blah blah blah"
    assert parsed.defects == [
        "broken_multipart_read_as_text",
        "NoBoundaryInMultipartDefect",
        "MultipartInvariantViolationDefect",
    ]


def test_cpython_boundary_never_found() -> None:
    parsed = parse((CPYTHON / "msg_31.txt").read_bytes())
    assert "message 1" in parsed.text
    assert "StartBoundaryNotFoundDefect" in parsed.defects
    assert parse((CPYTHON / "msg_15.txt").read_bytes()).text == "Some removed test. \n"


def test_a_boundary_that_never_closes() -> None:
    raw = mail(
        "--B\r\nContent-Type: text/plain\r\n\r\nThe part that arrived",
        content_type='multipart/mixed; boundary="B"',
    )
    parsed = parse(raw)
    assert parsed.text == "The part that arrived"
    assert "CloseBoundaryNotFoundDefect" in parsed.defects


def test_a_content_type_the_stdlib_parser_trips_on() -> None:
    parsed = parse(mail("Still here", content_type="text/plain; charset=utf-8; title*1*"))
    assert parsed.text == "Still here"
    assert parsed.subject == "Hello"
    assert "header_unparseable: Content-Type" in parsed.defects


def test_headers_the_stdlib_parser_raises_on_are_read_best_effort() -> None:
    raw = (
        b"From: Barry Warsaw <barry@python.org\r\nCc: Ada <ada@example.com>, ccc@\r\n"
        b"Message-ID: <15265.9482@python.org\r\n\r\nBody"
    )
    parsed = parse(raw)
    assert parsed.sender == Mailbox(name="Barry Warsaw", address="barry@python.org")
    assert parsed.cc == [Mailbox(name="Ada", address="ada@example.com")]
    assert parsed.message_id == "<15265.9482@python.org>"
    assert parsed.text == "Body"
    assert "header_unreadable: Cc" in parsed.defects


def test_garbage_never_raises() -> None:
    for raw in (b"", b"\xff\xfe\x00garbage", b"From:\r\n\r\n", b"Content-Type: multipart/x\r\n"):
        parsed = parse(raw)
        assert isinstance(parsed.text, str)


def test_mail_the_stdlib_cannot_parse_becomes_text(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise IndexError("pop from empty list")

    monkeypatch.setattr(mime.BytesParser, "parsebytes", broken)
    parsed = parse(b"Subject: x\r\n\r\nStill readable\n\nOn Mon, Ada wrote:\n> old\n")
    assert parsed.text == "Subject: x\r\n\r\nStill readable\n\nOn Mon, Ada wrote:\n> old\n"
    assert parsed.new_text == "Subject: x\n\nStill readable"
    assert parsed.defects == ["unparseable: IndexError"]


# --- limits ----------------------------------------------------------------------------


def test_mail_over_max_bytes_is_refused_with_a_code() -> None:
    with pytest.raises(MailTooLarge) as refused:
        parse(mail("x" * 2000), max_bytes=1000)
    assert refused.value.code == "mail_too_large"
    assert refused.value.status == 413


def test_huge_headers_are_capped() -> None:
    many = "".join(f"X-Filler-{i}: {'y' * 200}\r\n" for i in range(20_000))
    start = time.perf_counter()
    parsed = parse(mail("Body survives", headers=many))
    assert time.perf_counter() - start < 1
    assert parsed.text == "Body survives"
    assert parsed.subject == "Hello"
    assert "headers_dropped" in parsed.defects


def test_one_enormous_header_is_cut() -> None:
    parsed = parse(mail("Body", headers=f"X-Huge: {'z' * 5_000_000}\r\n"))
    assert parsed.text == "Body"
    assert "header_truncated" in parsed.defects


def test_a_hundred_thousand_recipients_parse_within_a_second() -> None:
    recipients = ", ".join(f"user{i}@example.com" for i in range(100_000))
    raw = mail("To all", headers=f"Cc: {recipients}\r\n")
    start = time.perf_counter()
    parsed = parse(raw)
    assert time.perf_counter() - start < 1
    assert parsed.text == "To all"
    assert parsed.cc[0] == Mailbox(name="", address="user0@example.com")
    assert len(parsed.cc) == mime.MAX_ADDRESSES
    assert "header_truncated" in parsed.defects
    assert "addresses_dropped: Cc" in parsed.defects


def within_a_second(raw: bytes) -> mime.ParsedMail:
    start = time.perf_counter()
    parsed = parse(raw)
    assert time.perf_counter() - start < 1
    return parsed


def test_a_part_header_too_long_to_parse_quickly_keeps_only_its_value() -> None:
    params = "; ".join(f"p{i}=v{i}" for i in range(100_000))
    raw = mail(
        f"--B\r\nContent-Type: text/plain; {params}\r\n\r\nhi\r\n--B--\r\n",
        content_type="multipart/mixed; boundary=B",
    )
    parsed = within_a_second(raw)
    assert parsed.text == "hi"
    assert "mime_header_truncated" in parsed.defects


def test_twenty_thousand_parts_are_cut_to_the_caps() -> None:
    parts = "".join(
        f"--B\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Disposition: attachment; filename=f{i}\r\n\r\nx\r\n"
        for i in range(20_000)
    )
    raw = mail(parts + "--B--\r\n", content_type="multipart/mixed; boundary=B")
    parsed = within_a_second(raw)
    assert [a.filename for a in parsed.attachments] == [f"f{i}" for i in range(mime.MAX_PARTS)]
    assert "parts_dropped" in parsed.defects


def test_multiparts_nested_five_thousand_deep() -> None:
    nest = "--B\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n" * 5000
    parsed = within_a_second(mail(nest, content_type="multipart/mixed; boundary=B"))
    assert parsed.text == ""
    assert "parts_dropped" in parsed.defects


def test_a_long_text_of_lines_that_look_like_attributions_splits_quickly() -> None:
    body = "On and on the road goes, ever on\n" * 100_000 + "On Mon, Ada wrote:\n> old\n"
    parsed = within_a_second(mail(body))
    assert parsed.new_text == body.rstrip("\n").removesuffix("\n> old").strip()
    assert parsed.quoted_text == "> old"
