"""`parlour twilio ...`: connect a Twilio account and import its numbers from a script."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from parlour.channels.commands import fail, run_with_database
from parlour.config import Settings

if TYPE_CHECKING:
    from parlour.channels.sms.provider import SmsCredentials

twilio_app = typer.Typer(help="Connect Twilio and import its numbers.", no_args_is_help=True)

AccountOpt = Annotated[str, typer.Option("--account", help="The Parlour account (its name).")]


async def _account_id(db, hub, name: str) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from parlour.accounts.models import Account
    from parlour.db.tx import transaction

    async with transaction(db, hub, write=False) as tx:
        found = await tx.session.scalar(select(Account.id).where(Account.name == name))
    if found is None:
        raise fail(f"no account named {name!r}")
    return int(found)


def _credentials(
    account_sid: str, auth_token: str, api_key_sid: str | None, api_key_secret: str | None
) -> SmsCredentials:
    """The options as credentials, checked as the API checks them."""
    from pydantic import ValidationError

    from parlour.channels.sms.provider import SmsCredentials
    from parlour.channels.sms.schemas import TwilioConnectIn

    try:
        body = TwilioConnectIn(
            account_sid=account_sid,
            auth_token=auth_token,
            api_key_sid=api_key_sid,
            api_key_secret=api_key_secret,
        )
    except ValidationError as exc:
        raise fail(str(exc.errors()[0]["msg"])) from exc
    return SmsCredentials(
        account_sid=body.account_sid,
        auth_token=body.auth_token,
        api_key_sid=body.api_key_sid,
        api_key_secret=body.api_key_secret,
    )


@twilio_app.command("connect")
def connect(
    account: AccountOpt,
    account_sid: Annotated[str, typer.Option(help="Twilio Account SID (AC…).")],
    auth_token: Annotated[
        str, typer.Option(envvar="TWILIO_AUTH_TOKEN", help="Auth token (or $TWILIO_AUTH_TOKEN).")
    ],
    api_key_sid: Annotated[str | None, typer.Option(help="Optional API key SID (SK…).")] = None,
    api_key_secret: Annotated[
        str | None, typer.Option(envvar="TWILIO_API_KEY_SECRET", help="Its secret.")
    ] = None,
    verify: Annotated[bool, typer.Option(help="Check the credentials with Twilio.")] = True,
) -> None:
    """Store (encrypted) an account's Twilio credentials."""
    from parlour.channels.sms import connections
    from parlour.channels.sms.providers import account_api, make_sms_providers
    from parlour.db.tx import transaction
    from parlour.outbox.delivery import DeliveryError

    settings = Settings()
    creds = _credentials(account_sid, auth_token, api_key_sid, api_key_secret)
    twilio = account_api(make_sms_providers(settings), "twilio")

    async def go(db, hub) -> None:  # type: ignore[no-untyped-def]
        account_id = await _account_id(db, hub, account)
        if verify:
            try:
                await twilio.check_credentials(creds)
            except DeliveryError as exc:
                raise fail(f"Twilio refused: {exc.message}") from exc
        async with transaction(db, hub) as tx:
            await connections.save(
                tx,
                account_id=account_id,
                provider="twilio",
                secret_key=settings.secret_key,
                creds=creds,
            )
            await tx.commit()

    run_with_database(settings, go)
    typer.echo(f"Connected Twilio {creds.account_sid} to '{account}'.")
    typer.echo(f"  A message comes in (webhook, POST): {twilio.webhook_urls().inbound}")


async def _import(  # type: ignore[no-untyped-def]
    db,
    hub,
    settings: Settings,
    *,
    account: str,
    wanted: list[str] | None,
    configure_webhooks: bool,
) -> tuple[list[str], list[str]]:
    """Imports the numbers; the numbers added, and those already there."""
    from parlour.channels.sms import connections, service
    from parlour.channels.sms.providers import make_sms_providers, number_lister
    from parlour.db.tx import transaction
    from parlour.errors import ParlourError
    from parlour.outbox.delivery import DeliveryError

    twilio = number_lister(make_sms_providers(settings), "twilio")
    account_id = await _account_id(db, hub, account)
    async with transaction(db, hub, write=False) as tx:
        creds = await connections.credentials_for(
            tx, account_id=account_id, provider="twilio", secret_key=settings.secret_key
        )
    if creds is None:
        raise fail("Twilio is not connected; run `parlour twilio connect` first")
    region = settings.default_region
    try:
        found = await twilio.list_numbers(creds)
        available = [(n.e164, n.friendly_name, n.sms) for n in found]
        async with transaction(db, hub, write=False) as tx:
            planned, _ = await service.plan_import(
                tx,
                account_id=account_id,
                provider="twilio",
                available=available,
                wanted=wanted,
                region=region,
            )
        if configure_webhooks:
            for n in found:
                if n.e164 in planned:
                    await twilio.point_webhooks(creds, number_sid=n.sid)
        async with transaction(db, hub) as tx:
            added, present = await service.import_numbers(
                tx,
                account_id=account_id,
                provider="twilio",
                available=available,
                wanted=wanted,
                region=region,
            )
            await tx.commit()
    except DeliveryError as exc:
        raise fail(f"Twilio: {exc.message}") from exc
    except ParlourError as exc:
        raise fail(f"{exc.message} ({exc.code})") from exc
    return [n.e164 for n in added], present


@twilio_app.command("import-numbers")
def import_numbers(
    account: AccountOpt,
    number: Annotated[
        list[str] | None, typer.Option("--number", help="Only this number (repeatable).")
    ] = None,
    configure_webhooks: Annotated[
        bool, typer.Option(help="Point each number's incoming-message webhook at Parlour.")
    ] = False,
) -> None:
    """Add the Twilio account's SMS-capable numbers as company phone numbers."""
    settings = Settings()

    async def go(db, hub) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
        return await _import(
            db,
            hub,
            settings,
            account=account,
            wanted=number or None,
            configure_webhooks=configure_webhooks,
        )

    added, present = run_with_database(settings, go)
    for e164 in added:
        typer.echo(f"Imported {e164}")
    for e164 in present:
        typer.echo(f"Already there: {e164}")
    if not added and not present:
        typer.echo("No SMS-capable numbers to import.")
