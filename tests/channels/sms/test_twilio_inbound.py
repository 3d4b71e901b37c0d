"""Twilio's inbound-message webhook: signed as Twilio signs it, every field Twilio sends."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from parlour.app import create_app
from parlour.channels.registry import Providers
from parlour.channels.sms import media
from parlour.config import Settings
from tests.channels.sms.conftest import (
    Twilio,
    contact_phone,
    post_inbound,
    thread_of,
)
from tests.conftest import Tenant, wait_for
from tests.fakes.twilio import FakeTwilio, inbound_params, new_number, sign

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


async def test_a_signed_text_appears_in_the_thread_once(
    client: httpx.AsyncClient, tenant: Tenant, twilio: Twilio
) -> None:
    sender = new_number()
    params = inbound_params(
        account_sid=twilio.account.sid, from_=sender, to=twilio.number, body="Hi, is it open?"
    )
    first = await post_inbound(client, params, twilio.account.auth_token)
    assert first.status_code == 200
    assert first.text == EMPTY_TWIML
    assert first.headers["content-type"].startswith("text/xml")
    # Twilio retries when it saw no answer in time: the same MessageSid stores nothing new.
    again = await post_inbound(client, params, twilio.account.auth_token)
    assert again.status_code == 200

    thread = await thread_of(client, tenant, sender)
    assert [(m["direction"], m["channel"], m["body"]) for m in thread] == [
        ("in", "sms", "Hi, is it open?")
    ]
    msg = thread[0]
    assert (msg["from_address"], msg["to_address"]) == (sender, twilio.number)
    assert msg["phone_number_id"] == twilio.number_id
    assert msg["sender"]["type"] == "contact"
    assert msg["status"] == "received"

    panel = await client.get(
        "/api/v1/conversations", params={"view": "sms"}, headers=tenant.agent_headers
    )
    previews = [c["last_message_preview"] for c in panel.json()["items"]]
    assert "Hi, is it open?" in previews


async def test_a_known_contact_gets_the_text_in_their_thread(
    client: httpx.AsyncClient, tenant: Tenant, twilio: Twilio
) -> None:
    sender = new_number()
    made = await client.post(
        "/api/v1/contacts",
        json={"name": "Grace Hopper", "phones": [{"number": sender}]},
        headers=tenant.admin_headers,
    )
    params = inbound_params(
        account_sid=twilio.account.sid, from_=sender, to=twilio.number, body="It's Grace"
    )
    assert (await post_inbound(client, params, twilio.account.auth_token)).status_code == 200
    found = await client.get(
        "/api/v1/contacts", params={"q": sender.lstrip("+")}, headers=tenant.admin_headers
    )
    assert [c["id"] for c in found.json()["items"]] == [made.json()["id"]]


@pytest.mark.parametrize(
    "tamper",
    ["unsigned", "wrong_token", "changed_body", "added_field", "other_url", "garbage"],
)
async def test_forged_or_altered_webhooks_are_refused_and_store_nothing(
    client: httpx.AsyncClient, tenant: Tenant, twilio: Twilio, tamper: str
) -> None:
    sender = new_number()
    params = inbound_params(
        account_sid=twilio.account.sid, from_=sender, to=twilio.number, body="Original"
    )
    url = "http://test/webhooks/twilio/sms"
    good = sign(twilio.account.auth_token, url, params)
    headers: dict[str, str] = {"X-Twilio-Signature": good}
    sent = dict(params)
    if tamper == "unsigned":
        headers = {}
    elif tamper == "wrong_token":
        headers["X-Twilio-Signature"] = sign("0" * 32, url, params)
    elif tamper == "changed_body":
        sent["Body"] = "Altered"
    elif tamper == "added_field":
        sent["MediaUrl0"] = "https://evil.example/x.jpg"
        sent["NumMedia"] = "1"
    elif tamper == "other_url":
        headers["X-Twilio-Signature"] = sign(
            twilio.account.auth_token, "http://test/webhooks/twilio/status", params
        )
    else:
        headers["X-Twilio-Signature"] = "not-a-signature"
    resp = await client.post("/webhooks/twilio/sms", data=sent, headers=headers)
    assert resp.status_code == 403
    assert resp.json()["code"] == (
        "missing_signature" if tamper == "unsigned" else "invalid_signature"
    )
    assert await thread_of(client, tenant, sender) == []


async def test_a_webhook_for_another_twilio_account_is_refused(
    client: httpx.AsyncClient,
    tenant: Tenant,
    other_tenant: Tenant,
    twilio: Twilio,
    fake_twilio: FakeTwilio,
) -> None:
    from tests.channels.sms.conftest import connect_twilio

    other = await connect_twilio(client, other_tenant, fake_twilio)
    sender = new_number()
    # Signed with the other account's token, addressed to this tenant's number.
    params = inbound_params(
        account_sid=other.account.sid, from_=sender, to=twilio.number, body="Sneaky"
    )
    resp = await post_inbound(client, params, other.account.auth_token)
    assert resp.status_code == 403
    assert await thread_of(client, tenant, sender) == []


async def test_unknown_and_disabled_numbers_are_rejected_clearly(
    client: httpx.AsyncClient, tenant: Tenant, twilio: Twilio
) -> None:
    sender = new_number()
    unknown = inbound_params(
        account_sid=twilio.account.sid, from_=sender, to=new_number(), body="Hello?"
    )
    resp = await post_inbound(client, unknown, twilio.account.auth_token)
    assert resp.status_code == 404
    assert resp.json()["code"] == "unknown_number"

    off = await client.patch(
        f"/api/v1/phone-numbers/{twilio.number_id}",
        json={"sms_enabled": False},
        headers=tenant.admin_headers,
    )
    assert off.status_code == 200
    params = inbound_params(
        account_sid=twilio.account.sid, from_=sender, to=twilio.number, body="Hello?"
    )
    resp = await post_inbound(client, params, twilio.account.auth_token)
    assert resp.status_code == 422
    assert resp.json()["code"] == "sms_not_enabled"
    assert await thread_of(client, tenant, sender) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"MessageSid": "not-a-sid", "SmsMessageSid": "x", "SmsSid": "x"}, "MessageSid"),
        ({"NumMedia": "lots"}, "NumMedia"),
        ({"NumMedia": "1"}, "MediaUrl0"),
        ({"From": "not a phone"}, "From"),
        (
            {"NumMedia": "1", "MediaUrl0": "https://m.example/1", "MediaContentType0": "a\x00"},
            "MediaContentType0",
        ),
    ],
)
async def test_malformed_webhooks_get_a_4xx_and_store_nothing(
    client: httpx.AsyncClient,
    tenant: Tenant,
    twilio: Twilio,
    change: dict[str, str],
    field: str,
) -> None:
    sender = new_number()
    params = inbound_params(
        account_sid=twilio.account.sid, from_=sender, to=twilio.number, body="Broken"
    )
    params.update(change)
    resp = await post_inbound(client, params, twilio.account.auth_token)
    assert resp.status_code == 422
    assert resp.json()["code"] == "invalid_webhook"
    assert resp.json()["details"]["field"] == field
    assert await thread_of(client, tenant, sender) == []


async def test_repeated_fields_and_non_form_bodies_are_refused(
    client: httpx.AsyncClient, tenant: Tenant, twilio: Twilio
) -> None:
    sender = new_number()
    params = inbound_params(
        account_sid=twilio.account.sid, from_=sender, to=twilio.number, body="Once"
    )
    signature = sign(twilio.account.auth_token, "http://test/webhooks/twilio/sms", params)
    items = [*params.items(), ("Body", "Twice")]
    resp = await client.post(
        "/webhooks/twilio/sms",
        content=httpx.QueryParams(items).__str__(),
        headers={
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert resp.status_code == 422
    assert resp.json()["code"] == "invalid_webhook"
    as_json = await client.post(
        "/webhooks/twilio/sms", json=params, headers={"X-Twilio-Signature": signature}
    )
    assert as_json.status_code == 422
    assert await thread_of(client, tenant, sender) == []


@pytest.mark.parametrize(
    "body", ["STOP", " stop ", "Stop.", "unsubscribe!", "QUIT", "end", "CANCEL", "stopall"]
)
async def test_stop_keywords_opt_the_phone_out(
    client: httpx.AsyncClient, tenant: Tenant, twilio: Twilio, body: str
) -> None:
    sender = new_number()
    params = inbound_params(
        account_sid=twilio.account.sid, from_=sender, to=twilio.number, body=body
    )
    assert (await post_inbound(client, params, twilio.account.auth_token)).status_code == 200
    phone = await contact_phone(client, tenant, sender)
    assert phone["sms_opt_out"] is True
    assert phone["sms_opt_out_number"] == twilio.number
    assert phone["sms_opt_out_at"] is not None
    # The STOP itself is kept in the thread, as a person would expect to see it.
    assert [m["body"] for m in await thread_of(client, tenant, sender)] == [body]


async def test_stop_inside_a_sentence_is_an_ordinary_message_and_start_opts_back_in(
    client: httpx.AsyncClient, tenant: Tenant, twilio: Twilio
) -> None:
    sender = new_number()
    token = twilio.account.auth_token

    async def text(body: str) -> None:
        params = inbound_params(
            account_sid=twilio.account.sid, from_=sender, to=twilio.number, body=body
        )
        assert (await post_inbound(client, params, token)).status_code == 200

    await text("stop please")
    assert (await contact_phone(client, tenant, sender))["sms_opt_out"] is False
    await text("STOP")
    assert (await contact_phone(client, tenant, sender))["sms_opt_out"] is True
    await text("Start")
    phone = await contact_phone(client, tenant, sender)
    assert (phone["sms_opt_out"], phone["sms_opt_out_number"]) == (False, None)
    await text("HELP")
    assert (await contact_phone(client, tenant, sender))["sms_opt_out"] is False


async def test_mms_media_is_downloaded_with_the_account_credentials_after_answering(
    client: httpx.AsyncClient, tenant: Tenant, twilio: Twilio, fake_twilio: FakeTwilio
) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"photo-bytes" * 100
    url = fake_twilio.add_media(twilio.account, jpeg, "image/jpeg")
    fake_twilio.media_failures = 2  # the CDN hiccups twice; the download retries
    sender = new_number()
    params = inbound_params(
        account_sid=twilio.account.sid,
        from_=sender,
        to=twilio.number,
        body="",
        media=[(url, "image/jpeg")],
    )
    resp = await post_inbound(client, params, twilio.account.auth_token)
    assert resp.status_code == 200

    async def downloaded() -> object:
        thread = await thread_of(client, tenant, sender)
        atts = thread[0]["attachments"] if thread else []
        return atts if atts and atts[0]["url"].startswith("/api/v1/attachments/") else None

    atts = await wait_for(downloaded, within=10)
    assert [(a["content_type"], a["size"], a["filename"]) for a in atts] == [
        ("image/jpeg", len(jpeg), "media-1.jpg")
    ]
    got = await client.get(atts[0]["url"], headers=tenant.agent_headers)
    assert got.status_code == 200
    assert got.content == jpeg
    assert fake_twilio.media_fetches == 3
    panel = await client.get(
        "/api/v1/conversations", params={"q": sender.lstrip("+")}, headers=tenant.agent_headers
    )
    assert panel.json()["items"][0]["last_message_preview"].startswith("📎")
    await asyncio.sleep(0)


async def test_texts_arriving_together_from_a_new_contact_are_all_kept(
    client: httpx.AsyncClient, tenant: Tenant, twilio: Twilio
) -> None:
    # Twilio does not resend a webhook that got an error: a race lost is a message lost.
    sender = new_number()
    texts = [f"part {i}" for i in range(6)]
    answers = await asyncio.gather(
        *(
            post_inbound(
                client,
                inbound_params(
                    account_sid=twilio.account.sid, from_=sender, to=twilio.number, body=t
                ),
                twilio.account.auth_token,
            )
            for t in texts
        )
    )
    assert [a.status_code for a in answers] == [200] * 6
    thread = await thread_of(client, tenant, sender)
    assert sorted(m["body"] for m in thread) == texts
    found = await client.get(
        "/api/v1/contacts", params={"q": sender.lstrip("+")}, headers=tenant.admin_headers
    )
    assert len(found.json()["items"]) == 1


async def test_media_not_fetched_before_a_restart_is_fetched_after_it(
    client: httpx.AsyncClient,
    tenant: Tenant,
    twilio: Twilio,
    fake_twilio: FakeTwilio,
    settings: Settings,
    providers: Providers,
) -> None:
    gif = b"GIF89a" + b"frames" * 20
    url = fake_twilio.add_media(twilio.account, gif, "image/gif")
    fake_twilio.media_failures = 10**6  # Twilio's CDN is down for now
    sender = new_number()
    params = inbound_params(
        account_sid=twilio.account.sid,
        from_=sender,
        to=twilio.number,
        body="see",
        media=[(url, "image/gif")],
    )
    assert (await post_inbound(client, params, twilio.account.auth_token)).status_code == 200
    await media.stop()  # the process stops before the download succeeded
    [msg] = await thread_of(client, tenant, sender)
    assert msg["attachments"][0]["url"] == url

    fake_twilio.media_failures = 0
    restarted = create_app(settings, providers=providers)
    async with restarted.router.lifespan_context(restarted):

        async def stored() -> object:
            [m] = await thread_of(client, tenant, sender)
            return m["attachments"][0]["url"].startswith("/api/v1/") or None

        await wait_for(stored, within=10)
