"""Queueing written confirmations (opt-outs, withdrawals) in the outbox.

Every row names its channel. The web side's SMS sender (webhook.outbox) takes only
"sms" rows; an "email" row stays pending for an e-mail sender (there is none yet:
staff see it on the ticket, and the row says why it has not gone), so nothing meant
for an inbox is ever texted."""

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
) -> str:
    """Put a confirmation in the outbox; returns its status ('pending', or 'blocked' for
    a number that texted STOP: kept, never sent)."""
    if channel not in CHANNELS:
        raise ValueError(f"outbox channel must be one of: {', '.join(CHANNELS)}")
    blocked = channel == SMS and sms_blocked(session, to, secret)
    row = OutboundMessage(
        conversation_id=conversation_id,
        channel=channel,
        to=to,
        body=body,
        status=BLOCKED if blocked else PENDING,
        last_error=STOPPED if blocked else NO_EMAIL_SENDER if channel == EMAIL else None,
    )
    session.add(row)
    session.flush()
    return row.status
