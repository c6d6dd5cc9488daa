"""Queueing written confirmations (opt-outs, withdrawals) in the outbox.

Every row names its channel, and each of the web side's senders takes only its own:
the SMS sender (webhook.outbox) "sms" rows, the e-mail sender (webhook.mailer, only
when SMTP_URL is set) "email" rows, so nothing meant for an inbox is ever texted.
Without an e-mail sender an "email" row stays pending and says why (NO_EMAIL_SENDER):
staff see it on the ticket and send it themselves."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.models import Conversation, OutboundMessage
from casework.pseudonym import contact_key

SMS = "sms"
EMAIL = "email"
CHANNELS = (SMS, EMAIL)
PENDING = "pending"  # webhook.outbox.PENDING: a sender of the row's channel picks it up
BLOCKED = "blocked"  # kept for the record, never sent
STOPPED = "recipient texted STOP"
NO_EMAIL_SENDER = "waiting for an e-mail sender: none is configured, so staff send it"


def sms_blocked(session: Session, number: str, secret: str) -> bool:
    """Has this number texted STOP (Twilio would refuse anything we send it)?"""
    query = select(Conversation.sms_blocked).where(
        Conversation.sender_key == contact_key(number, secret)
    )
    return bool(session.scalar(query))


def queue(
    session: Session,
    *,
    channel: str,
    conversation_id: str | None,
    to: str,
    body: str,
    secret: str,
    email_sender: bool = False,
) -> str:
    """Put a confirmation in the outbox; returns its status ('pending', or 'blocked' for
    a number that texted STOP: kept, never sent). `email_sender`: an SMTP sender is
    configured (Settings.smtp_configured), so an e-mail row goes out by itself."""
    if channel not in CHANNELS:
        raise ValueError(f"outbox channel must be one of: {', '.join(CHANNELS)}")
    blocked = channel == SMS and sms_blocked(session, to, secret)
    row = OutboundMessage(
        conversation_id=conversation_id,
        channel=channel,
        to=to,
        body=body,
        status=BLOCKED if blocked else PENDING,
        last_error=STOPPED if blocked else _waiting_reason(channel, email_sender),
    )
    session.add(row)
    session.flush()
    return row.status


def _waiting_reason(channel: str, email_sender: bool) -> str | None:
    return NO_EMAIL_SENDER if channel == EMAIL and not email_sender else None
