"""The records both the action server and the web side use. One schema, one place.

Residents are known by pseudonymous conversation ids; the only raw contact detail
kept is what a flow needs to reach the person (the SMS number of an SMS
conversation, or a contact a resident gave for their request).
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _enum(kind: type[enum.Enum]) -> Enum:
    """Stored as the lower-case value ("sar"), readable in SQL and stable across renames."""
    return Enum(kind, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class TicketKind(enum.StrEnum):
    SAR = "sar"
    MARKETING_OPT_OUT = "marketing_opt_out"
    CONSENT_WITHDRAWAL = "consent_withdrawal"
    HANDOFF = "handoff"


class TicketStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"  # on the resident: ID, clarification
    RESOLVED = "resolved"


class ConversationState(enum.StrEnum):
    BOT = "bot"  # the assistant answers
    STAFF = "staff"  # handed off: the bot stays silent, messages go to the ticket thread
    # "End and delete this chat" deletes the conversation; there is no "ended" state.


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # also Rasa's sender id
    org: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))  # web | sms | rest
    # HMAC of the phone number: finds "one conversation per phone" without a raw lookup key.
    sender_key: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    # Needed to reply by SMS; never logged.
    address: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[ConversationState] = mapped_column(
        _enum(ConversationState), default=ConversationState.BOT
    )
    sms_blocked: Mapped[bool] = mapped_column(Boolean, default=False)  # the resident texted STOP
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)

    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", order_by="Message.id", cascade="all, delete-orphan"
    )


class Message(Base):
    """Every message in or out of a conversation. Inbound ones are stored before processing."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the widget's polling cursor
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    author: Mapped[str] = mapped_column(String(16))  # resident | bot | staff | system
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    # Twilio MessageSid of an inbound SMS: retries of the same webhook are dropped.
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Inbound: claimed_at = a worker took it (renewed while its turn runs); processed_at = it
    # was answered. A claim not renewed for webhook.frontdoor.CLAIM_TIMEOUT belongs to a
    # dead worker.
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    kind: Mapped[TicketKind] = mapped_column(_enum(TicketKind))
    status: Mapped[TicketStatus] = mapped_column(
        _enum(TicketStatus), default=TicketStatus.OPEN, index=True
    )
    org: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    contact: Mapped[str | None] = mapped_column(String(255))  # what the resident asked us to use
    contact_method: Mapped[str | None] = mapped_column(String(16))  # email|phone|sms|post|chat
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    transcript: Mapped[list[Any]] = mapped_column(JSON, default=list)
    sms_unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    outcome: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)

    sar: Mapped[SarRequest | None] = relationship(
        back_populates="ticket", uselist=False, cascade="all, delete-orphan"
    )
    notes: Mapped[list[TicketNote]] = relationship(
        back_populates="ticket", order_by="TicketNote.id", cascade="all, delete-orphan"
    )
    assignee: Mapped[StaffUser | None] = relationship()


class SarRequest(Base):
    """The request details and its statutory clock (see casework.sar_clock)."""

    __tablename__ = "sar_requests"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    requester_name: Mapped[str] = mapped_column(String(200))
    on_behalf_of: Mapped[bool] = mapped_column(Boolean, default=False)
    subject_name: Mapped[str | None] = mapped_column(String(200))
    records_locator: Mapped[str | None] = mapped_column(String(255))  # address or tenancy ref
    scope: Mapped[str] = mapped_column(Text, default="everything")
    received_on: Mapped[date] = mapped_column(Date)
    id_required: Mapped[bool] = mapped_column(Boolean, default=True)
    id_received_on: Mapped[date | None] = mapped_column(Date)
    paused_on: Mapped[date | None] = mapped_column(Date)  # waiting for clarification since
    paused_days: Mapped[int] = mapped_column(Integer, default=0)
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    due_on: Mapped[date | None] = mapped_column(Date, index=True)

    ticket: Mapped[Ticket] = relationship(back_populates="sar")


class ConsentEvent(Base):
    """Append-only consent / preference ledger: rows are added, never changed."""

    __tablename__ = "consent_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_key: Mapped[str] = mapped_column(String(64), index=True)  # pseudonymous
    org: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(32))  # marketing | photos | recordings | ...
    channel: Mapped[str | None] = mapped_column(String(16))  # email | sms | phone | post
    decision: Mapped[str] = mapped_column(String(16))  # opt_out | withdrawn | opt_in
    source: Mapped[str] = mapped_column(String(32))  # chat | sms | sms_keyword | staff
    source_conversation: Mapped[str | None] = mapped_column(String(64))
    ticket_reference: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AuditEvent(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(255))  # staff email, "assistant" or "system"
    action: Mapped[str] = mapped_column(String(64))
    ticket_reference: Mapped[str | None] = mapped_column(String(32), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default="agent")  # agent | admin
    password_hash: Mapped[str] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of every inbox session cookie: signing out (or a new password) bumps it, so a
    # copied cookie stops working on the server, not just in the browser that signed out.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    tokens: Mapped[list[StaffToken]] = relationship(
        back_populates="user", order_by="StaffToken.id", cascade="all, delete-orphan"
    )


class StaffToken(Base):
    """An API bearer token (`privacybot staff token`): only its hash is kept; it expires
    and can be revoked (`privacybot staff revoke`)."""

    __tablename__ = "staff_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the id staff revoke by
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[StaffUser] = relationship(back_populates="tokens")


class TicketNote(Base):
    """Internal notes (staff only) and replies to the resident, on a ticket."""

    __tablename__ = "ticket_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    visibility: Mapped[str] = mapped_column(String(16))  # internal | resident
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="notes")
    author: Mapped[StaffUser | None] = relationship()


class OutboundMessage(Base):
    """Outbox for SMS (and e-mail): sent with retries; delivery status from Twilio callbacks."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # sms | email
    to: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True)  # Twilio SID
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


@event.listens_for(ConsentEvent, "before_update")
@event.listens_for(ConsentEvent, "before_delete")
@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _append_only(mapper: Any, connection: Any, target: Any) -> None:
    raise PermissionError(f"{type(target).__name__} rows are append-only")
