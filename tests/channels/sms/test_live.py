"""A text that arrives shows up live in the agent app (its WebSocket)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from parlour.app import create_app
from parlour.channels.registry import Providers
from parlour.config import Settings
from tests.channels.sms.conftest import PUBLIC_URL, _tenant
from tests.fakes.twilio import FakeTwilio, inbound_params, new_number, sign


def test_an_inbound_text_reaches_the_agents_socket(
    settings: Settings, providers: Providers, fake_twilio: FakeTwilio
) -> None:
    app = create_app(settings, providers=providers)
    with TestClient(app, base_url=PUBLIC_URL) as tc:
        me = tc.portal.call(_tenant, app.state.runtime)  # type: ignore[union-attr]
        acct = fake_twilio.add_account(numbers=[new_number()])
        h = me.admin_headers
        assert (
            tc.put(
                "/api/v1/sms/providers/twilio",
                json={"account_sid": acct.sid, "auth_token": acct.auth_token},
                headers=h,
            ).status_code
            == 200
        )
        tc.post("/api/v1/sms/providers/twilio/numbers/import", json={}, headers=h)
        token = h["Authorization"].split()[1]
        sender = new_number()
        params = inbound_params(
            account_sid=acct.sid, from_=sender, to=acct.numbers[0].e164, body="Live?"
        )
        signature = sign(acct.auth_token, f"{PUBLIC_URL}/webhooks/twilio/sms", params)
        with tc.websocket_connect(f"/api/v1/ws?token={token}") as ws:
            assert ws.receive_json()["type"] == "hello"
            r = tc.post(
                "/webhooks/twilio/sms", data=params, headers={"X-Twilio-Signature": signature}
            )
            assert r.status_code == 200
            seen = []
            while True:
                event = ws.receive_json()
                seen.append(event["type"])
                if event["type"] == "message.created":
                    break
            msg = event["data"]["message"]
            assert (msg["body"], msg["direction"], msg["channel"], msg["from_address"]) == (
                "Live?",
                "in",
                "sms",
                sender,
            )
            assert event["data"]["conversation"]["last_message_preview"] == "Live?"
            assert seen == ["contact.updated", "message.created"]
