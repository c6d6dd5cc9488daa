"""Transcript retention: chats are personal data, so they are kept only as long as needed.

A conversation idle for longer than the retention period is deleted with its messages,
unless a ticket is still open for it; resolved tickets keep their record but lose the
copy of the transcript after the same period.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, inspect, select, text
from sqlalchemy.orm import Session

from casework import audit
from casework.models import Conversation, Ticket, TicketStatus, utcnow


def purge_expired(
    session: Session, retention_days: int, now: datetime | None = None
) -> dict[str, Any]:
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
    session.info["purged_conversation_ids"] = [c.id for c in stale]
    audit.log(
        session, audit.SYSTEM, "retention.purge", None, retention_days=retention_days, **result
    )
    return result


def delete_conversation(session: Session, conversation: Conversation) -> None:
    """The resident's "end and delete this chat": messages go; open tickets keep their copy
    because staff still need it to act on the request."""
    audit.log(session, "resident", "conversation.deleted", None, conversation=conversation.id)
    session.delete(conversation)


def forget_tracker(tracker_url: str | None, conversation_ids: Iterable[str]) -> int:
    """Rasa keeps its own copy of every turn in its tracker store (table `events`, keyed
    by sender id): a deleted or expired conversation must go from there too."""
    ids = list(conversation_ids)
    if not tracker_url or not ids:
        return 0
    from casework.db import get_engine

    engine = get_engine(tracker_url)
    if not inspect(engine).has_table("events"):
        return 0
    delete = text("DELETE FROM events WHERE sender_id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    with engine.begin() as connection:
        return int(connection.execute(delete, {"ids": ids}).rowcount or 0)
