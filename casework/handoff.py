"""Handing a conversation to staff and back.

While a conversation is in the STAFF state the web side routes the resident's
messages to the ticket thread instead of Rasa (and Rasa itself is paused), so the
bot stays silent while a person owns the conversation.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from casework import audit, conversations
from casework.models import ConversationState, Ticket, TicketKind
from casework.tickets import create_ticket, open_handoff_for, resolve


def open_handoff(
    session: Session,
    *,
    conversation_id: str,
    org: str,
    reason: str,
    contact: str | None = None,
    contact_method: str | None = None,
    transcript: list[dict[str, Any]] | None = None,
    urgent: bool = False,
) -> Ticket:
    """Create (or reuse) the open handoff ticket and give the conversation to staff."""
    conversation = conversations.get(session, conversation_id) or conversations.create(
        session, org, "rest", conversation_id
    )
    ticket = open_handoff_for(session, conversation_id)
    if ticket is None:
        ticket = create_ticket(
            session,
            kind=TicketKind.HANDOFF,
            org=org,
            channel=conversation.channel,
            conversation_id=conversation_id,
            contact=contact,
            contact_method=contact_method,
            summary=reason,
            details={"urgent": urgent, "reason": reason},
            transcript=transcript,
        )
    conversation.state = ConversationState.STAFF
    audit.log(session, audit.ASSISTANT, "conversation.handed_off", ticket.reference, urgent=urgent)
    return ticket


def hand_back(session: Session, ticket: Ticket, actor: str, outcome: str | None = None) -> None:
    """Staff resolved the handoff: the assistant answers this conversation again."""
    resolve(session, ticket, actor, outcome)
    if ticket.conversation_id:
        conversation = conversations.get(session, ticket.conversation_id)
        if conversation is not None and conversation.state == ConversationState.STAFF:
            conversation.state = ConversationState.BOT
    audit.log(session, actor, "conversation.handed_back", ticket.reference)
