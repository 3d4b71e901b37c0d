"""Which channels a contact can be reached on, from which company endpoints, and why not.

One function answers both the composer ("show SMS disabled: contact opted out") and the
send path (refuse with the same reason), so the two can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from parlour.accounts.models import Account
from parlour.channels.email.models import Mailbox
from parlour.channels.sms.models import PhoneNumber
from parlour.channels.webchat.models import Widget
from parlour.contacts.models import Contact, ContactPhone
from parlour.conversations.models import Conversation, Message
from parlour.conversations.schemas import ChannelOption, EndpointOption
from parlour.db.tx import Tx


@dataclass(frozen=True)
class Why:
    code: str
    text: str


NO_SMS_NUMBER = Why(
    "no_sms_number",
    "No company number can send SMS. Add an SMS-enabled number in Settings → Phone numbers.",
)
SMS_NOT_ENABLED = Why("sms_not_enabled", "SMS is not enabled on this number.")
NO_CONTACT_PHONE = Why("no_contact_phone", "This contact has no phone number.")
OPTED_OUT = Why("contact_opted_out", "The contact opted out of SMS (they texted STOP).")
NO_MAILBOX = Why("no_mailbox", "No mailbox is set up. Add one in Settings → Mailboxes.")
MAILBOX_DISABLED = Why("mailbox_disabled", "This mailbox is disabled.")
NO_CONTACT_EMAIL = Why("no_contact_email", "This contact has no email address.")
BOUNCED = Why("email_bounced", "Mail to this address bounced.")
WEBCHAT_DISABLED = Why(
    "webchat_disabled", "The web-chat widget is not enabled. Enable it in Settings → Web chat."
)
NO_VISITOR = Why("no_webchat_visitor", "This contact has never chatted on the website.")


def phone_blocked(phone: ContactPhone, *, scope: str, sender_e164: str | None) -> bool:
    if not phone.sms_opt_out:
        return False
    if scope == "number" and phone.sms_opt_out_number and sender_e164:
        return phone.sms_opt_out_number == sender_e164
    return True


async def _last_used(tx: Tx, conv: Conversation | None, channel: str) -> Message | None:
    if conv is None:
        return None
    found: Message | None = await tx.session.scalar(
        select(Message)
        .where(
            Message.conversation_id == conv.id,
            Message.account_id == conv.account_id,
            Message.channel == channel,
        )
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    return found


def _pick(options: list[EndpointOption], preferred: int | None) -> int | None:
    usable = [o.id for o in options if o.usable]
    if preferred in usable:
        return preferred
    return usable[0] if usable else None


def _option(
    channel: str,
    senders: list[EndpointOption],
    recipients: list[EndpointOption],
    why: Why | None,
    default_sender: int | None,
    default_recipient: int | None,
) -> ChannelOption:
    return ChannelOption(
        channel=channel,
        available=why is None,
        reason=why.text if why else None,
        reason_code=why.code if why else None,
        senders=senders,
        recipients=recipients,
        default_sender_id=default_sender,
        default_recipient_id=default_recipient,
    )


async def sms_option(
    tx: Tx,
    *,
    account: Account,
    contact: Contact,
    conv: Conversation | None,
    sender_id: int | None = None,
) -> ChannelOption:
    """``sender_id``: the company number the user chose; opt-outs scoped per number are
    judged against it rather than against the default sender."""
    numbers = list(
        await tx.session.scalars(
            select(PhoneNumber).where(PhoneNumber.account_id == account.id).order_by(PhoneNumber.id)
        )
    )
    senders = [
        EndpointOption(
            id=n.id,
            address=n.e164,
            label=n.label,
            usable=n.sms_enabled,
            reason=None if n.sms_enabled else SMS_NOT_ENABLED.text,
            reason_code=None if n.sms_enabled else SMS_NOT_ENABLED.code,
        )
        for n in numbers
    ]
    last = await _last_used(tx, conv, "sms")
    sender_id = _pick(senders, sender_id or (last.phone_number_id if last else None))
    sender_e164 = next((n.e164 for n in numbers if n.id == sender_id), None)
    recipients = []
    for p in contact.phones:
        blocked = phone_blocked(p, scope=account.sms_opt_out_scope, sender_e164=sender_e164)
        recipients.append(
            EndpointOption(
                id=p.id,
                address=p.e164,
                label=p.label,
                usable=not blocked,
                reason=OPTED_OUT.text if blocked else None,
                reason_code=OPTED_OUT.code if blocked else None,
            )
        )
    recipient_id = _pick(recipients, last.contact_phone_id if last else None)
    why = None
    if sender_id is None:
        why = NO_SMS_NUMBER
    elif not recipients:
        why = NO_CONTACT_PHONE
    elif recipient_id is None:
        why = OPTED_OUT
    return _option("sms", senders, recipients, why, sender_id, recipient_id)


async def email_option(
    tx: Tx, *, account: Account, contact: Contact, conv: Conversation | None
) -> ChannelOption:
    mailboxes = list(
        await tx.session.scalars(
            select(Mailbox).where(Mailbox.account_id == account.id).order_by(Mailbox.id)
        )
    )
    senders = [
        EndpointOption(
            id=m.id,
            address=m.address,
            label=m.name,
            usable=m.enabled,
            reason=None if m.enabled else MAILBOX_DISABLED.text,
            reason_code=None if m.enabled else MAILBOX_DISABLED.code,
        )
        for m in mailboxes
    ]
    recipients = [
        EndpointOption(
            id=e.id,
            address=e.address,
            label=e.label,
            usable=not e.bounced,
            reason=BOUNCED.text if e.bounced else None,
            reason_code=BOUNCED.code if e.bounced else None,
        )
        for e in contact.emails
    ]
    last = await _last_used(tx, conv, "email")
    sender_id = _pick(senders, last.mailbox_id if last else None)
    recipient_id = _pick(recipients, last.contact_email_id if last else None)
    why = None
    if sender_id is None:
        why = NO_MAILBOX
    elif not recipients:
        why = NO_CONTACT_EMAIL
    elif recipient_id is None:
        why = BOUNCED
    return _option("email", senders, recipients, why, sender_id, recipient_id)


async def webchat_option(
    tx: Tx, *, account: Account, contact: Contact, conv: Conversation | None
) -> ChannelOption:
    widgets = list(
        await tx.session.scalars(
            select(Widget).where(Widget.account_id == account.id).order_by(Widget.id)
        )
    )
    senders = [
        EndpointOption(
            id=w.id,
            address=w.name,
            label=w.name,
            usable=w.enabled,
            reason=None if w.enabled else WEBCHAT_DISABLED.text,
            reason_code=None if w.enabled else WEBCHAT_DISABLED.code,
        )
        for w in widgets
    ]
    last = await _last_used(tx, conv, "webchat")
    sender_id = _pick(senders, last.widget_id if last else None)
    why = None
    if sender_id is None:
        why = WEBCHAT_DISABLED
    elif conv is None or not conv.has_webchat:
        why = NO_VISITOR
    return _option("webchat", senders, [], why, sender_id, None)
