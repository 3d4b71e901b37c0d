"""Outbound SMS through the local Twilio: connecting, importing numbers, sending from the
chosen number, status callbacks, refusals and opt-outs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from parlour.channels.sms.models import SmsProviderAccount
from parlour.db.tx import transaction
from parlour.outbox import service as outbox_service
from parlour.runtime import Runtime
from tests.channels.sms.conftest import Twilio, contact_phone, post_inbound, pump_callbacks
from tests.conftest import Tenant, wait_for
from tests.fakes.twilio import FakeTwilio, Outcome, inbound_params, new_number, sign


async def start_thread(client: httpx.AsyncClient, tenant: Tenant, phone: str) -> tuple[int, int]:
    made = await client.post(
        "/api/v1/contacts",
        json={"name": "Ada", "phones": [{"number": phone}]},
        headers=tenant.admin_headers,
    )
    assert made.status_code == 201, made.text
    conv = await client.post(
        f"/api/v1/contacts/{made.json()['id']}/conversation", headers=tenant.admin_headers
    )
    return conv.json()["id"], made.json()["phones"][0]["id"]


async def send(
    client: httpx.AsyncClient, tenant: Tenant, conv_id: int, number_id: int, body: str
) -> httpx.Response:
    return await client.post(
        f"/api/v1/conversations/{conv_id}/messages",
        json={"channel": "sms", "body": body, "phone_number_id": number_id},
        headers=tenant.agent_headers,
    )


async def message_when(
    client: httpx.AsyncClient, tenant: Tenant, conv_id: int, msg_id: int, status: str
) -> Any:
    async def check() -> Any:
        thread = await client.get(
            f"/api/v1/conversations/{conv_id}/messages", headers=tenant.agent_headers
        )
        m = next(x for x in thread.json()["items"] if x["id"] == msg_id)
        return m if m["status"] == status else None

    return await wait_for(check, within=10)


async def test_connecting_checks_the_credentials_and_never_shows_the_token(
    client: httpx.AsyncClient, tenant: Tenant, fake_twilio: FakeTwilio, runtime: Runtime
) -> None:
    acct = fake_twilio.add_account(numbers=[new_number()])
    bad = await client.put(
        "/api/v1/sms/providers/twilio",
        json={"account_sid": acct.sid, "auth_token": "f" * 32},
        headers=tenant.admin_headers,
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_credentials"
    listed = await client.get("/api/v1/sms/providers", headers=tenant.admin_headers)
    assert listed.json() == []

    malformed = await client.put(
        "/api/v1/sms/providers/twilio",
        json={"account_sid": "nope", "auth_token": acct.auth_token},
        headers=tenant.admin_headers,
    )
    assert malformed.status_code == 422
    assert malformed.json()["code"] == "validation_error"

    agent = await client.put(
        "/api/v1/sms/providers/twilio",
        json={"account_sid": acct.sid, "auth_token": acct.auth_token},
        headers=tenant.agent_headers,
    )
    assert agent.status_code == 403

    good = await client.put(
        "/api/v1/sms/providers/twilio",
        json={"account_sid": acct.sid, "auth_token": acct.auth_token},
        headers=tenant.admin_headers,
    )
    assert good.status_code == 200
    out = good.json()
    assert out["account_sid"] == acct.sid
    assert out["readable"] is True
    assert out["inbound_webhook_url"] == "http://test/webhooks/twilio/sms"
    assert out["status_callback_url"] == "http://test/webhooks/twilio/status"
    assert acct.auth_token not in good.text
    # At rest the token is sealed, not stored as typed.
    async with transaction(runtime.db, runtime.hub, write=False) as tx:
        row = await tx.session.scalar(
            select(SmsProviderAccount).where(SmsProviderAccount.account_id == tenant.account_id)
        )
        assert row is not None
        assert acct.auth_token not in row.secrets_sealed

    gone = await client.delete("/api/v1/sms/providers/twilio", headers=tenant.admin_headers)
    assert gone.status_code == 204
    assert (await client.get("/api/v1/sms/providers", headers=tenant.admin_headers)).json() == []


async def test_importing_numbers_from_twilio(
    client: httpx.AsyncClient, tenant: Tenant, fake_twilio: FakeTwilio
) -> None:
    a, b, voice_only = new_number(), new_number(), new_number()
    acct = fake_twilio.add_account(numbers=[a, b])
    acct.numbers[1].friendly_name = "Sales line"
    acct.numbers.append(
        acct.numbers[0].__class__(
            sid="PN" + "0" * 32, e164=voice_only, friendly_name="Fax", sms=False
        )
    )
    await client.put(
        "/api/v1/sms/providers/twilio",
        json={"account_sid": acct.sid, "auth_token": acct.auth_token},
        headers=tenant.admin_headers,
    )
    listed = await client.get("/api/v1/sms/providers/twilio/numbers", headers=tenant.admin_headers)
    assert [(n["e164"], n["sms"], n["imported"]) for n in listed.json()] == [
        (a, True, False),
        (b, True, False),
        (voice_only, False, False),
    ]
    refused = await client.post(
        "/api/v1/sms/providers/twilio/numbers/import",
        json={"numbers": [voice_only]},
        headers=tenant.admin_headers,
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "not_sms_capable"
    foreign = await client.post(
        "/api/v1/sms/providers/twilio/numbers/import",
        json={"numbers": [new_number()]},
        headers=tenant.admin_headers,
    )
    assert foreign.json()["code"] == "not_at_provider"

    done = await client.post(
        "/api/v1/sms/providers/twilio/numbers/import",
        json={"numbers": [b], "configure_webhooks": True},
        headers=tenant.admin_headers,
    )
    assert done.status_code == 201
    assert [
        (n["e164"], n["label"], n["provider"], n["sms_enabled"]) for n in done.json()["imported"]
    ] == [(b, "Sales line", "twilio", True)]
    assert acct.numbers[1].sms_url == "http://test/webhooks/twilio/sms"
    assert acct.numbers[0].sms_url == ""

    rest = await client.post(
        "/api/v1/sms/providers/twilio/numbers/import", json={}, headers=tenant.admin_headers
    )
    assert [n["e164"] for n in rest.json()["imported"]] == [a]
    assert rest.json()["already_present"] == [b]
    numbers = await client.get("/api/v1/phone-numbers", headers=tenant.agent_headers)
    assert {n["e164"] for n in numbers.json()} >= {a, b}


async def test_a_message_goes_out_from_the_chosen_number_and_its_status_follows(
    client: httpx.AsyncClient, tenant: Tenant, twilio: Twilio, fake_twilio: FakeTwilio
) -> None:
    phone = new_number()
    conv_id, _ = await start_thread(client, tenant, phone)
    posted = await send(client, tenant, conv_id, twilio.number_id, "Your table is ready")
    assert posted.status_code == 201
    msg_id = posted.json()["id"]
    m = await message_when(client, tenant, conv_id, msg_id, "sent")
    [sent] = fake_twilio.sent_to(phone)
    assert (sent.from_, sent.to, sent.body) == (twilio.number, phone, "Your table is ready")
    assert sent.status_callback == f"http://test/webhooks/twilio/status?message_id={msg_id}"
    assert (m["from_address"], m["to_address"], m["phone_number_id"]) == (
        twilio.number,
        phone,
        twilio.number_id,
    )
    assert m["sender"]["type"] == "user"

    assert await pump_callbacks(client, fake_twilio) == [204, 204]
    m = await message_when(client, tenant, conv_id, msg_id, "delivered")
    assert m["error_code"] is None


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (30003, "The recipient's phone is switched off or out of reach."),
        (30005, "The recipient's number does not exist or is no longer in service."),
        (30006, "The recipient's number is a landline or cannot receive SMS."),
        (30007, "The carrier filtered the message as spam or unregistered traffic."),
    ],
)
async def test_an_undelivered_message_shows_why_in_words(
    client: httpx.AsyncClient,
    tenant: Tenant,
    twilio: Twilio,
    fake_twilio: FakeTwilio,
    code: int,
    words: str,
) -> None:
    phone = new_number()
    fake_twilio.outcomes[phone] = Outcome(final="undelivered", error_code=code)
    conv_id, _ = await start_thread(client, tenant, phone)
    msg_id = (await send(client, tenant, conv_id, twilio.number_id, "Hello")).json()["id"]
    await message_when(client, tenant, conv_id, msg_id, "sent")
    await pump_callbacks(client, fake_twilio)
    m = await message_when(client, tenant, conv_id, msg_id, "failed")
    assert (m["error_code"], m["error_message"]) == (str(code), words)


async def test_an_invalid_number_fails_at_once_without_retries(
    client: httpx.AsyncClient, tenant: Tenant, twilio: Twilio, fake_twilio: FakeTwilio
) -> None:
    phone = new_number()
    fake_twilio.outcomes[phone] = Outcome(
        refuse=(400, 21614, f"'To' number {phone} is not a valid mobile number")
    )
    conv_id, _ = await start_thread(client, tenant, phone)
    msg_id = (await send(client, tenant, conv_id, twilio.number_id, "Hello")).json()["id"]
    m = await message_when(client, tenant, conv_id, msg_id, "failed")
    assert m["error_code"] == "21614"
    assert m["error_message"] == (
        "The recipient's number is not a mobile number, so it cannot receive SMS."
    )
    creates = [
        r for r in fake_twilio.requests if r[0] == "POST" and r[1].endswith("/Messages.json")
    ]
    assert len(creates) == 1


async def test_twilio_errors_5xx_and_429_are_retried_and_sent_once(
    client: httpx.AsyncClient,
    tenant: Tenant,
    twilio: Twilio,
    fake_twilio: FakeTwilio,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(outbox_service, "backoff", lambda attempts: timedelta(0))
    phone = new_number()
    fake_twilio.outcomes[phone] = Outcome(refuse=(429, 20429, "Too Many Requests"), refuse_times=2)
    conv_id, _ = await start_thread(client, tenant, phone)
    msg_id = (await send(client, tenant, conv_id, twilio.number_id, "Retry me")).json()["id"]
    await message_when(client, tenant, conv_id, msg_id, "sent")
    assert [m.body for m in fake_twilio.sent_to(phone)] == ["Retry me"]


async def test_twilio_21610_marks_the_opt_out_and_later_sends_are_refused(
    client: httpx.AsyncClient, tenant: Tenant, twilio: Twilio, fake_twilio: FakeTwilio
) -> None:
    phone = new_number()
    fake_twilio.outcomes[phone] = Outcome(
        refuse=(400, 21610, "Attempt to send to unsubscribed recipient")
    )
    conv_id, _ = await start_thread(client, tenant, phone)
    msg_id = (await send(client, tenant, conv_id, twilio.number_id, "Hello")).json()["id"]
    m = await message_when(client, tenant, conv_id, msg_id, "failed")
    assert m["error_code"] == "21610"
    opted = await contact_phone(client, tenant, phone)
    assert (opted["sms_opt_out"], opted["sms_opt_out_number"]) == (True, twilio.number)
    again = await send(client, tenant, conv_id, twilio.number_id, "Hello?")
    assert again.status_code == 422
    assert again.json()["code"] == "contact_opted_out"


async def test_opt_out_scope_account_blocks_every_number_and_number_scope_only_one(
    client: httpx.AsyncClient, tenant: Tenant, fake_twilio: FakeTwilio
) -> None:
    from tests.channels.sms.conftest import connect_twilio

    twilio = await connect_twilio(client, tenant, fake_twilio, numbers=2)
    numbers = await client.get("/api/v1/phone-numbers", headers=tenant.admin_headers)
    other_id = next(
        n["id"] for n in numbers.json() if n["provider"] == "twilio" and n["id"] != twilio.number_id
    )
    phone = new_number()
    conv_id, _ = await start_thread(client, tenant, phone)
    params = inbound_params(
        account_sid=twilio.account.sid, from_=phone, to=twilio.number, body="STOP"
    )
    assert (await post_inbound(client, params, twilio.account.auth_token)).status_code == 200

    for number_id in (twilio.number_id, other_id):
        refused = await send(client, tenant, conv_id, number_id, "Sale!")
        assert refused.status_code == 422
        assert refused.json()["code"] == "contact_opted_out"

    narrowed = await client.patch(
        "/api/v1/account", json={"sms_opt_out_scope": "number"}, headers=tenant.admin_headers
    )
    assert narrowed.status_code == 200
    still = await send(client, tenant, conv_id, twilio.number_id, "Sale!")
    assert still.status_code == 422
    other = await send(client, tenant, conv_id, other_id, "From the other line")
    assert other.status_code == 201


async def test_status_callbacks_are_verified_and_never_move_backwards(
    client: httpx.AsyncClient, tenant: Tenant, twilio: Twilio, fake_twilio: FakeTwilio
) -> None:
    phone = new_number()
    conv_id, _ = await start_thread(client, tenant, phone)
    msg_id = (await send(client, tenant, conv_id, twilio.number_id, "Hi")).json()["id"]
    await message_when(client, tenant, conv_id, msg_id, "sent")
    pending = fake_twilio.take_pending()
    url, sent_params, _ = pending[0]
    path = url.removeprefix("http://test")
    delivered = {**sent_params, "SmsStatus": "delivered", "MessageStatus": "delivered"}
    token = twilio.account.auth_token

    forged = await client.post(path, data=delivered, headers={"X-Twilio-Signature": "x"})
    assert forged.status_code == 403
    other_msg = f"/webhooks/twilio/status?message_id={msg_id + 100000}"
    unknown = await client.post(
        other_msg,
        data=delivered,
        headers={"X-Twilio-Signature": sign(token, "http://test" + other_msg, delivered)},
    )
    assert unknown.status_code == 404
    wrong_sid = {**delivered, "MessageSid": "SM" + "f" * 32, "SmsSid": "SM" + "f" * 32}
    mismatch = await client.post(
        path, data=wrong_sid, headers={"X-Twilio-Signature": sign(token, url, wrong_sid)}
    )
    assert mismatch.status_code == 409
    await message_when(client, tenant, conv_id, msg_id, "sent")

    # Out of order: "delivered" first, then a late "sent".
    ok = await client.post(
        path, data=delivered, headers={"X-Twilio-Signature": sign(token, url, delivered)}
    )
    assert ok.status_code == 204
    late = await client.post(
        path, data=sent_params, headers={"X-Twilio-Signature": sign(token, url, sent_params)}
    )
    assert late.status_code == 204
    await message_when(client, tenant, conv_id, msg_id, "delivered")


async def test_an_unsigned_status_callback_cannot_tell_which_message_ids_exist(
    client: httpx.AsyncClient, tenant: Tenant, twilio: Twilio, fake_twilio: FakeTwilio
) -> None:
    conv_id, _ = await start_thread(client, tenant, new_number())
    msg_id = (await send(client, tenant, conv_id, twilio.number_id, "Hi")).json()["id"]
    await message_when(client, tenant, conv_id, msg_id, "sent")
    _, params, _ = fake_twilio.take_pending()[0]
    delivered = {**params, "SmsStatus": "delivered", "MessageStatus": "delivered"}

    async def answers(message_id: int) -> list[tuple[int, str]]:
        path = f"/webhooks/twilio/status?message_id={message_id}"
        other_key = sign("another auth token", "http://test" + path, delivered)
        tries = [
            await client.post(path, data=delivered),
            await client.post(path, data=delivered, headers={"X-Twilio-Signature": "x"}),
            await client.post(path, data=delivered, headers={"X-Twilio-Signature": other_key}),
        ]
        return [(r.status_code, r.json()["code"]) for r in tries]

    refused = [(403, "missing_signature"), (403, "invalid_signature"), (403, "invalid_signature")]
    assert await answers(msg_id) == refused
    assert await answers(msg_id + 100000) == refused
    await message_when(client, tenant, conv_id, msg_id, "sent")


async def test_without_twilio_connected_a_twilio_number_fails_with_a_reason(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    number = await client.post(
        "/api/v1/phone-numbers",
        json={"number": new_number(), "provider": "twilio"},
        headers=tenant.admin_headers,
    )
    phone = new_number()
    conv_id, _ = await start_thread(client, tenant, phone)
    msg_id = (await send(client, tenant, conv_id, number.json()["id"], "Hi")).json()["id"]
    m = await message_when(client, tenant, conv_id, msg_id, "failed")
    assert m["error_code"] == "twilio_not_connected"


async def test_retrying_an_undelivered_message_follows_the_new_attempt(
    client: httpx.AsyncClient, tenant: Tenant, twilio: Twilio, fake_twilio: FakeTwilio
) -> None:
    phone = new_number()
    fake_twilio.outcomes[phone] = Outcome(final="undelivered", error_code=30003)
    conv_id, _ = await start_thread(client, tenant, phone)
    msg_id = (await send(client, tenant, conv_id, twilio.number_id, "Try again")).json()["id"]
    await message_when(client, tenant, conv_id, msg_id, "sent")
    await pump_callbacks(client, fake_twilio)
    await message_when(client, tenant, conv_id, msg_id, "failed")

    fake_twilio.outcomes[phone] = Outcome()  # the phone is back on
    retry = await client.post(
        f"/api/v1/conversations/{conv_id}/messages/{msg_id}/retry", headers=tenant.agent_headers
    )
    assert retry.status_code == 200
    await message_when(client, tenant, conv_id, msg_id, "sent")
    assert await pump_callbacks(client, fake_twilio) == [204, 204]
    m = await message_when(client, tenant, conv_id, msg_id, "delivered")
    assert m["error_code"] is None
    assert [t.body for t in fake_twilio.sent_to(phone)] == ["Try again", "Try again"]


async def test_an_api_key_is_used_for_rest_calls_when_given(
    client: httpx.AsyncClient, tenant: Tenant, fake_twilio: FakeTwilio
) -> None:
    acct = fake_twilio.add_account(numbers=[new_number()])
    key_sid, key_secret = "SK" + "a" * 32, "key-secret"
    acct.api_keys[key_sid] = key_secret
    half = await client.put(
        "/api/v1/sms/providers/twilio",
        json={"account_sid": acct.sid, "auth_token": acct.auth_token, "api_key_sid": key_sid},
        headers=tenant.admin_headers,
    )
    assert (half.status_code, half.json()["code"]) == (422, "incomplete_api_key")
    acct.auth_token = "rotated-away-" + "0" * 19  # REST must not depend on the auth token
    ok = await client.put(
        "/api/v1/sms/providers/twilio",
        json={
            "account_sid": acct.sid,
            "auth_token": "whatever-signs-webhooks",
            "api_key_sid": key_sid,
            "api_key_secret": key_secret,
        },
        headers=tenant.admin_headers,
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["api_key_sid"] == key_sid
    imported = await client.post(
        "/api/v1/sms/providers/twilio/numbers/import", json={}, headers=tenant.admin_headers
    )
    number_id = imported.json()["imported"][0]["id"]
    phone = new_number()
    conv_id, _ = await start_thread(client, tenant, phone)
    msg_id = (await send(client, tenant, conv_id, number_id, "Keyed")).json()["id"]
    await message_when(client, tenant, conv_id, msg_id, "sent")
    assert [m.body for m in fake_twilio.sent_to(phone)] == ["Keyed"]
