"""Segment counting as carriers count it, and the composer's counter endpoint."""

from __future__ import annotations

import httpx
import pytest

from parlour.channels.sms.keywords import keyword_of
from parlour.channels.sms.segments import count
from tests.conftest import Tenant


@pytest.mark.parametrize(
    ("body", "encoding", "segments", "units", "remaining"),
    [
        ("", "GSM-7", 0, 0, 160),
        ("a" * 160, "GSM-7", 1, 160, 0),
        ("a" * 161, "GSM-7", 2, 161, 145),
        ("a" * 306, "GSM-7", 2, 306, 0),
        ("a" * 307, "GSM-7", 3, 307, 152),
        # Extension characters cost two septets.
        ("€" * 80, "GSM-7", 1, 160, 0),
        # 81 braces = 162 septets: 76 fit in the first segment (152), 5 in the second.
        ("{" * 81, "GSM-7", 2, 162, 143),
        ("Ça coûte 5€ [promo]", "UCS-2", 1, 19, 51),
        ("é" * 160, "GSM-7", 1, 160, 0),  # é is in GSM-7; ê is not
        ("ê" * 70, "UCS-2", 1, 70, 0),
        ("ê" * 71, "UCS-2", 2, 71, 63),
        # An emoji is two UTF-16 units and is never split across segments.
        ("😀" * 35, "UCS-2", 1, 70, 0),
        ("😀" * 36, "UCS-2", 2, 72, 61),  # 33 fit in 67 units, 3 go on
        ("a" * 66 + "😀" + "b" * 3, "UCS-2", 2, 71, 62),
    ],
)
def test_segments(body: str, encoding: str, segments: int, units: int, remaining: int) -> None:
    info = count(body)
    assert (info.encoding, info.segments, info.units) == (encoding, segments, units)
    assert info.remaining == remaining


def test_an_escape_sequence_is_not_split_across_segments() -> None:
    # 152 plain septets then a two-septet "€": it cannot start at position 153.
    info = count("a" * 152 + "€" + "a" * 10)
    assert (info.segments, info.units) == (2, 164)
    assert info.remaining == 153 - 12


@pytest.mark.parametrize(
    ("body", "keyword"),
    [
        ("STOP", "stop"),
        ("  Stop!! ", "stop"),
        ("stop.", "stop"),
        ("Unsubscribe", "stop"),
        ("stopall", "stop"),
        ("stop please", None),
        ("please stop", None),
        ("STOPP", None),
        ("start", "start"),
        ("YES", "start"),
        ("unstop", "start"),
        ("help", "help"),
        ("Info?", "help"),
        ("", None),
    ],
)
def test_keywords(body: str, keyword: str | None) -> None:
    assert keyword_of(body) == keyword


async def test_the_composer_counter(client: httpx.AsyncClient, tenant: Tenant) -> None:
    r = await client.post(
        "/api/v1/sms/segments", json={"body": "Hi 😀 " * 20}, headers=tenant.agent_headers
    )
    assert r.status_code == 200
    assert r.json() == {
        "encoding": "UCS-2",
        "segments": 2,
        "characters": 100,
        "units": 120,
        "per_segment": 67,
        "remaining": 14,
        "max_characters": 1600,
        "too_long": False,
    }
    long = await client.post(
        "/api/v1/sms/segments", json={"body": "a" * 1601}, headers=tenant.agent_headers
    )
    assert long.json()["too_long"] is True
    assert long.json()["segments"] == 11
    anonymous = await client.post("/api/v1/sms/segments", json={"body": "x"})
    assert anonymous.status_code == 401
    bad = await client.post(
        "/api/v1/sms/segments", json={"text": "x"}, headers=tenant.agent_headers
    )
    assert bad.status_code == 422


async def test_bodies_over_1600_characters_are_refused(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    made = await client.post(
        "/api/v1/contacts",
        json={"name": "Long", "phones": [{"number": "+16505550177"}]},
        headers=tenant.admin_headers,
    )
    conv = await client.post(
        f"/api/v1/contacts/{made.json()['id']}/conversation", headers=tenant.admin_headers
    )
    r = await client.post(
        f"/api/v1/conversations/{conv.json()['id']}/messages",
        json={"channel": "sms", "body": "a" * 1601},
        headers=tenant.agent_headers,
    )
    assert r.status_code == 422
    assert r.json()["code"] == "body_too_long"
