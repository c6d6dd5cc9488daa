"""Transcript retention: chats are personal data, so they are kept only as long as needed.

A conversation idle for longer than the retention period is deleted with its messages,
unless a ticket is still open for it; resolved tickets keep their record but lose the
copy of the transcript after the same period.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import audit
from casework.models import Conversation, Ticket, TicketStatus, utcnow


def purge_expired(
    session: Session, retention_days: int, now: datetime | None = None
) -> dict[str, int]:
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    open_conversations = select(Ticket.conversation_id).where(
        Ticket.status != TicketStatus.RESOLVED, Ticket.conversation_id.is_not(None)
    )
    stale = session.scalars(
        select(Conversation).where(
            Conversation.last_activity_at < cutoff, Conversation.id.not_in(open_conversations)
        )
    ).all()
    for conversation in stale:
        session.delete(conversation)
    old_tickets = session.scalars(
        select(Ticket).where(Ticket.status == TicketStatus.RESOLVED, Ticket.resolved_at < cutoff)
    ).all()
    scrubbed = 0
    for ticket in old_tickets:
        if ticket.transcript:
            ticket.transcript = []
            scrubbed += 1
    result = {"conversations_deleted": len(stale), "transcripts_scrubbed": scrubbed}
    audit.log(
        session, audit.SYSTEM, "retention.purge", None, retention_days=retention_days, **result
    )
    return result


def delete_conversation(session: Session, conversation: Conversation) -> None:
    """The resident's "end and delete this chat": messages go; open tickets keep their copy
    because staff still need it to act on the request."""
    audit.log(session, "resident", "conversation.deleted", None, conversation=conversation.id)
    session.delete(conversation)
