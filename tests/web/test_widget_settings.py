"""Settings → Web chat: when the widget asks for an email instead of a chat, and the
identity secret, as an admin sets them in the browser."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import App
from tests.web.server import Api, DemoServer

pytestmark = pytest.mark.browser


def test_office_hours_are_set_in_settings_and_kept(new_app: Any, fresh_demo: DemoServer) -> None:
    app: App = new_app(fresh_demo.url)
    app.login()
    page = app.page
    page.goto(f"{fresh_demo.url}/settings/web-chat")
    form = page.get_by_role("form", name="When nobody answers on northwind.example")
    form.get_by_label("When nobody answers").select_option("office_hours")
    form.get_by_label("Open on Monday").check()
    form.get_by_label("Monday opens at").fill("09:00")
    form.get_by_label("Monday closes at").fill("17:00")
    form.get_by_label("Open on Friday").check()
    form.get_by_label("Friday opens at").fill("18:00")
    form.get_by_label("Friday closes at").fill("02:00")
    expect(form).to_contain_text("until the next morning")
    form.get_by_label("Time zone").fill("Europe/Paris")
    form.get_by_role("button", name="Save availability").click()
    expect(form.get_by_role("status")).to_have_text("Saved")

    api = Api(fresh_demo.url)
    try:
        widget = api.get("/widgets")[0]
    finally:
        api.close()
    assert widget["offline_mode"] == "office_hours"
    assert widget["office_hours"] == {"mon": ["09:00", "17:00"], "fri": ["18:00", "02:00"]}
    assert widget["timezone"] == "Europe/Paris"

    page.reload()
    form = page.get_by_role("form", name="When nobody answers on northwind.example")
    expect(form.get_by_label("When nobody answers")).to_have_value("office_hours")
    expect(form.get_by_label("Open on Monday")).to_be_checked()
    expect(form.get_by_label("Open on Tuesday")).not_to_be_checked()
    expect(form.get_by_label("Friday closes at")).to_have_value("02:00")

    # The same hours cannot start and end at once: said before anything is sent.
    form.get_by_label("Monday closes at").fill("09:00")
    form.get_by_role("button", name="Save availability").click()
    expect(form.get_by_role("alert")).to_contain_text("Monday")


def test_the_identity_secret_is_shown_and_rotated(new_app: Any, fresh_demo: DemoServer) -> None:
    app: App = new_app(fresh_demo.url)
    app.login()
    page = app.page
    page.goto(f"{fresh_demo.url}/settings/web-chat")
    panel = page.get_by_role("region", name="Identity verification for northwind.example")
    panel.get_by_role("button", name="Show secret").click()
    shown = panel.get_by_label("Identity secret")
    api = Api(fresh_demo.url)
    try:
        widget_id = api.get("/widgets")[0]["id"]
        secret = api.get(f"/widgets/{widget_id}/identity-secret")["identity_secret"]
        expect(shown).to_have_value(secret)
        page.once("dialog", lambda dialog: dialog.accept())
        panel.get_by_role("button", name="Rotate secret").click()
        expect(shown).not_to_have_value(secret)
        rotated = api.get(f"/widgets/{widget_id}/identity-secret")["identity_secret"]
        expect(shown).to_have_value(rotated)
    finally:
        api.close()
