"""Normalising what people type: phone numbers to E.164, emails, and search text."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from parlour.errors import InvalidInput

_PHONEISH = re.compile(r"^[\d\s\-+().]+$")


def to_e164(raw: str, *, region: str) -> str:
    """E.164 form of a phone number, or ``InvalidInput`` (code ``invalid_phone``)."""
    try:
        parsed = phonenumbers.parse(raw, region.upper())
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(
            f"'{raw}' is not a phone number.", code="invalid_phone", details={"phone": raw}
        ) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(
            f"'{raw}' is not a valid phone number.",
            code="invalid_phone",
            details={"phone": raw},
        )
    e164: str = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return e164


def national_digits(e164: str) -> str:
    try:
        parsed = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return ""
    return str(parsed.national_number)


def normalize_email(raw: str) -> str:
    return raw.strip().lower()


def fold(text: str) -> str:
    """Lower-case and strip accents: 'Zoë Ólafsdóttir' -> 'zoe olafsdottir'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def search_text(*, name: str, company: str, emails: list[str], phones: list[str]) -> str:
    parts = [fold(name), fold(company), *emails]
    for e164 in phones:
        parts.append(e164.lstrip("+"))
        parts.append(national_digits(e164))
    return " | ".join(p for p in parts if p)


def search_needle(query: str) -> str:
    """What to look for in ``search_text``: digits alone when the query looks like a phone."""
    q = query.strip()
    if _PHONEISH.match(q) and sum(c.isdigit() for c in q) >= 3:
        return "".join(c for c in q if c.isdigit())
    return fold(q)
