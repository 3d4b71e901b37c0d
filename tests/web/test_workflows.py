"""The demo's workflows in the agent app: a text with a keyword is answered by the bot,
live, on the right with the robot avatar and the workflow's name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.server import Api, DemoServer, inbound_sms


@pytest.fixture
def demo_with_workflows(tmp_path: Path, web_app_built: None) -> Iterator[DemoServer]:
    server = DemoServer(tmp_path).start()  # as shipped: its three workflows on
    try:
        yield server
    finally:
        server.stop()


def test_a_texted_keyword_is_answered_by_the_bot_live(
    new_app: Any, demo_with_workflows: DemoServer
) -> None:
    demo = demo_with_workflows
    api = Api(demo.url)
    try:
        api.connect_twilio()
        names = [w["name"] for w in api.get("/workflows")]  # type: ignore[union-attr]
        assert names == ["Away message", "Opening hours", "Nobody answered"]
        conv = api.conversation_of("Ethan Brown")
        contact = api.get(f"/contacts/{conv['contact']['id']}")  # type: ignore[index]
        assert isinstance(contact, dict)
        phone = contact["phones"][0]["e164"]
    finally:
        api.close()
    app = new_app(demo.url).login()
    log = app.open("Ethan Brown")
    inbound_sms(demo.url, from_=phone, to="+14155550100", body="what are your hours?")
    reply = log.get_by_role("listitem").filter(has_text="Northwind Coffee, 12 Harbour Lane")
    expect(reply).to_be_visible()
    expect(reply).to_have_accessible_name("Sent by Opening hours (automation) by SMS")
    expect(reply).to_contain_text("Opening hours")
    expect(reply.get_by_text("Workflow", exact=True)).to_be_visible()
    expect(reply.get_by_role("img", name="SMS")).to_be_visible()
    bubble = log.get_by_text("Northwind Coffee, 12 Harbour Lane", exact=False)
    assert _center_x(bubble) > _center_x(log) > _center_x(log.get_by_text("what are your hours?"))


def _center_x(locator: Any) -> float:
    box = locator.bounding_box()
    assert box is not None
    return float(box["x"] + box["width"] / 2)
