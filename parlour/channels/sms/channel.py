"""SMS as a channel: the company's SMS-enabled numbers to the contact's phones."""

from __future__ import annotations

from sqlalchemy import select

from parlour.accounts.models import Account
from parlour.channels.sms import ENDPOINT_NAMES, NAME, connections, statuses
from parlour.channels.sms.models import PhoneNumber
from parlour.channels.sms.provider import LooksUpSent, LooksUpStatus, OutgoingSms, SmsProvider
from parlour.contacts.models import Contact, ContactPhone
from parlour.conversations.channel import (
    Author,
    Draft,
    LastUsed,
    Outgoing,
    RecordStatus,
    StatusLookup,
    Why,
    configured,
    endpoint,
    no_copies,
    option,
    pick,
    sender_deleted,
)
from parlour.conversations.models import Conversation, Message
from parlour.conversations.schemas import ChannelOption
from parlour.db.tx import Tx
from parlour.errors import InvalidInput

MAX_BODY = 1600

NO_SMS_NUMBER = Why(
    "no_sms_number",
    "No company number can send SMS. Add an SMS-enabled number in Settings → Phone numbers.",
)
SMS_NOT_ENABLED = Why("sms_not_enabled", "SMS is not enabled on this number.")
NO_CONTACT_PHONE = Why("no_contact_phone", "This contact has no phone number.")
OPTED_OUT = Why("contact_opted_out", "The contact opted out of SMS (they texted STOP).")


def phone_blocked(phone: ContactPhone, *, scope: str, sender_e164: str | None) -> bool:
    if not phone.sms_opt_out:
        return False
    if scope == "number" and phone.sms_opt_out_number and sender_e164:
        return phone.sms_opt_out_number == sender_e164
    return True


class SmsChannel:
    name = NAME
    label = "SMS"
    endpoint_names = ENDPOINT_NAMES

    def __init__(self, providers: dict[str, SmsProvider], *, secret_key: str) -> None:
        # Keyed by the ``provider`` stored on a phone number.
        self.providers = providers
        self._secret_key = secret_key

    async def sender_ids(self, tx: Tx, *, account_id: int) -> set[int]:
        return set(
            await tx.session.scalars(
                select(PhoneNumber.id).where(PhoneNumber.account_id == account_id)
            )
        )

    async def option(
        self,
        tx: Tx,
        *,
        account_id: int,
        contact: Contact,
        thread: Conversation | None,
        last: LastUsed,
        sender_id: int | None,
    ) -> ChannelOption:
        """Opt-outs scoped per number are judged against ``sender_id``, the number the
        user chose, rather than against the default sender."""
        numbers = list(
            await tx.session.scalars(
                select(PhoneNumber)
                .where(PhoneNumber.account_id == account_id)
                .order_by(PhoneNumber.id)
            )
        )
        senders = [
            endpoint(
                id=n.id,
                address=n.e164,
                label=n.label,
                unavailable=None if n.sms_enabled else SMS_NOT_ENABLED,
            )
            for n in numbers
        ]
        sender_id = pick(senders, sender_id or last.sender_id)
        sender_e164 = next((n.e164 for n in numbers if n.id == sender_id), None)
        account = await tx.session.get(Account, account_id)
        scope = account.sms_opt_out_scope if account else ""
        recipients = [
            endpoint(
                id=p.id,
                address=p.e164,
                label=p.label,
                unavailable=OPTED_OUT
                if phone_blocked(p, scope=scope, sender_e164=sender_e164)
                else None,
            )
            for p in contact.phones
        ]
        recipient_id = pick(recipients, last.recipient_id)
        why = None
        if sender_id is None:
            why = NO_SMS_NUMBER
        elif not recipients:
            why = NO_CONTACT_PHONE
        elif recipient_id is None:
            why = OPTED_OUT
        return option(
            NAME,
            senders=senders,
            recipients=recipients,
            unavailable=why,
            default_sender=sender_id,
            default_recipient=recipient_id,
            recipient_problem=why is OPTED_OUT,
        )

    async def check(self, tx: Tx, *, thread: Conversation, draft: Draft) -> Draft:
        no_copies(draft, self.label)
        if draft.attachment_ids:
            # Outbound MMS needs media the provider can fetch from a public URL: not yet.
            raise InvalidInput(
                "Attachments can be sent by email or web chat, not by SMS.",
                code="sms_attachments_unsupported",
                details={"field": "attachment_ids"},
            )
        if len(draft.body) > MAX_BODY:
            raise InvalidInput(
                f"An SMS can be at most {MAX_BODY} characters.",
                code="body_too_long",
                details={"field": "body", "max": MAX_BODY},
            )
        return draft

    async def queued(self, tx: Tx, *, message: Message, author: Author, draft: Draft) -> None:
        return None

    async def outgoing(self, tx: Tx, *, message: Message) -> Outgoing:
        number = await tx.session.get(PhoneNumber, message.endpoint_id or 0)
        if (
            number is None
            or number.account_id != message.account_id
            or number.e164 != message.from_address
        ):
            raise sender_deleted("company number")
        sms = configured(self.providers, number.provider)
        out = OutgoingSms(
            from_number=message.from_address or "",
            to=message.to_address or "",
            body=message.body,
            message_id=message.id,
            credentials=await connections.credentials_for(
                tx,
                account_id=message.account_id,
                provider=number.provider,
                secret_key=self._secret_key,
            ),
            # When it was (re)queued: a retried message is looked up from its retry on.
            created_at=message.updated_at,
        )
        lookup = (lambda: sms.find_sent(out)) if isinstance(sms, LooksUpSent) else None
        return Outgoing(
            idempotent=sms.idempotent,
            send=lambda key: sms.send(out, idempotency_key=key),
            lookup=lookup,
        )

    async def failed(self, tx: Tx, *, message: Message, error_code: str) -> None:
        await statuses.record_provider_opt_out(tx, message=message, code=error_code)

    async def status_lookup(self, tx: Tx, *, message: Message) -> StatusLookup | None:
        """Asks the number's provider where the message is; what it says is applied as its
        status callback would be (``statuses.apply_status``)."""
        sid = message.provider_message_id
        number = await tx.session.get(PhoneNumber, message.endpoint_id or 0)
        if not sid or number is None or number.account_id != message.account_id:
            return None
        sms = self.providers.get(number.provider)
        if not isinstance(sms, LooksUpStatus):
            return None
        creds = await connections.credentials_for(
            tx,
            account_id=message.account_id,
            provider=number.provider,
            secret_key=self._secret_key,
        )

        async def lookup() -> RecordStatus:
            report = await sms.fetch_status(creds, sid)

            async def record(tx: Tx, message: Message) -> None:
                await statuses.apply_status(
                    tx, message=message, update=report.for_message(message.id)
                )

            return record

        return lookup
