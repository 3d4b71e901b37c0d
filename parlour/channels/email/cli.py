"""`parlour mailbox ...`: add a mailbox and its outgoing relay from a script."""

from __future__ import annotations

from typing import Annotated

import typer

from parlour.channels.commands import fail, run_with_database
from parlour.config import Settings

mailbox_app = typer.Typer(help="Manage mailboxes and their mail servers.", no_args_is_help=True)


@mailbox_app.command("add")
def add(
    account: Annotated[str, typer.Option("--account", help="The Parlour account (its name).")],
    address: Annotated[str, typer.Option(help="The address mail is sent from.")],
    name: Annotated[str, typer.Option(help="The name shown beside the address.")] = "",
    smtp_host: Annotated[
        str | None, typer.Option(help="The outgoing mail server; without one, nothing is sent.")
    ] = None,
    smtp_port: Annotated[
        int | None, typer.Option(help="Its port (587 STARTTLS, 465 TLS, 25 none).")
    ] = None,
    smtp_security: Annotated[
        str, typer.Option(help="starttls, tls (implicit) or none (a local relay).")
    ] = "starttls",
    smtp_username: Annotated[str | None, typer.Option(help="The login, if it needs one.")] = None,
    smtp_password: Annotated[
        str | None,
        typer.Option(
            envvar="PARLOUR_SMTP_PASSWORD", help="Its password (or $PARLOUR_SMTP_PASSWORD)."
        ),
    ] = None,
) -> None:
    """Add a mailbox, with its outgoing SMTP relay (the password stored encrypted)."""
    from pydantic import ValidationError
    from sqlalchemy import select

    from parlour.accounts.models import Account
    from parlour.channels.email import service
    from parlour.channels.email.schemas import MailboxIn
    from parlour.db.tx import transaction
    from parlour.errors import ParlourError

    try:
        data = MailboxIn.model_validate(
            {
                "address": address,
                "name": name,
                "smtp_host": smtp_host,
                "smtp_port": smtp_port,
                "smtp_security": smtp_security,
                "smtp_username": smtp_username,
                "smtp_password": smtp_password,
            }
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"--{'-'.join(str(p) for p in e['loc']).replace('_', '-')}: {e['msg']}"
            for e in exc.errors()
        )
        raise fail(problems) from exc
    settings = Settings()

    async def go(db, hub) -> tuple[int, str]:  # type: ignore[no-untyped-def]
        async with transaction(db, hub) as tx:
            account_id = await tx.session.scalar(select(Account.id).where(Account.name == account))
            if account_id is None:
                raise fail(f"no account named {account!r}")
            try:
                box = await service.add_mailbox(
                    tx, account_id=account_id, data=data, secret_key=settings.secret_key
                )
            except ParlourError as exc:
                raise fail(exc.message) from exc
            await tx.commit()
            return box.id, box.provider

    box_id, provider = run_with_database(settings, go)
    via = f"through {data.smtp_host}" if provider == "smtp" else "nowhere (console provider)"
    typer.echo(f"Added mailbox {box_id} {data.address.lower()} to '{account}', sending {via}.")
