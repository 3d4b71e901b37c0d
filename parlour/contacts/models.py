"""Contacts and their endpoints: many phones and many emails each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from parlour.db.base import Base, BigId, UtcDateTime, utcnow

# Characters of a contact's search text kept in its search head (migration 0006). The
# contacts with a longer text are listed by a partial index of their own (migration 0007).
SEARCH_HEAD_CHARS = 400
_LONG_TEXT = text(f"length(search_text) > {SEARCH_HEAD_CHARS}")


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (
        # The contacts list, by name. The search head ends each entry, so that a search can
        # walk the index in name order without reading rows (contacts/search.py).
        Index("ix_contacts_account_name", "account_id", "name", "id", "search_head"),
        # The few contacts whose search text is longer than its head: a walk tests them
        # against their whole text (contacts/search.py, migration 0007).
        Index(
            "ix_contacts_long_text",
            "account_id",
            "id",
            sqlite_where=_LONG_TEXT,
            postgresql_where=_LONG_TEXT,
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    avatar_blob_id: Mapped[int | None] = mapped_column(ForeignKey("blobs.id", ondelete="SET NULL"))
    preferred_channel: Mapped[str | None] = mapped_column(String(10))
    # Accent-folded, lower-cased name, company, emails and phone digits. The database's
    # trigram index (FTS5 on SQLite, pg_trgm on PostgreSQL) is built over this column.
    search_text: Mapped[str] = mapped_column(Text, default="")
    # Its first HEAD characters, kept by database triggers (migration 0006) and never written
    # here: short enough for an index entry. Deferred, since only searches read it.
    search_head: Mapped[str] = mapped_column(Text, server_default="", deferred=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    phones: Mapped[list[ContactPhone]] = relationship(
        back_populates="contact",
        order_by="ContactPhone.id",
        cascade="all, delete-orphan",
        lazy="selectin",
    )
    emails: Mapped[list[ContactEmail]] = relationship(
        back_populates="contact",
        order_by="ContactEmail.id",
        cascade="all, delete-orphan",
        lazy="selectin",
    )
    tags: Mapped[list[ContactTag]] = relationship(
        order_by="ContactTag.tag", cascade="all, delete-orphan", lazy="selectin"
    )


class ContactPhone(Base):
    __tablename__ = "contact_phones"
    __table_args__ = (UniqueConstraint("account_id", "e164"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    e164: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(40), default="")
    sms_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    sms_opt_out_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The company number that received the STOP (used when opt-outs are per number).
    sms_opt_out_number: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    contact: Mapped[Contact] = relationship(back_populates="phones")


class ContactEmail(Base):
    __tablename__ = "contact_emails"
    __table_args__ = (UniqueConstraint("account_id", "address"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    address: Mapped[str] = mapped_column(String(320))
    label: Mapped[str] = mapped_column(String(40), default="")
    bounced: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    contact: Mapped[Contact] = relationship(back_populates="emails")


class ContactTag(Base):
    __tablename__ = "contact_tags"
    __table_args__ = (Index("ix_contact_tags_account_tag", "account_id", "tag"),)

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(50), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))


class ContactNote(Base):
    __tablename__ = "contact_notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
