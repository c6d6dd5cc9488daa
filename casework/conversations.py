"""Conversations and their messages, as every channel stores them.

An inbound message is stored before anything processes it, so a crash between
receipt and reply loses nothing: unprocessed messages can be found and replayed.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from casework.models import Conversation, Message, utcnow
from casework.pseudonym import normalise_phone, subject_key


def new_conversation_id() -> str:
    return uuid.uuid4().hex


def get(session: Session, conversation_id: str) -> Conversation | None:
    return session.get(Conversation, conversation_id)


def create(
    session: Session, org: str, channel: str, conversation_id: str | None = None
) -> Conversation:
    conversation = Conversation(
        id=conversation_id or new_conversation_id(), org=org, channel=channel
    )
    session.add(conversation)
    session.flush()
    return conversation


def get_or_create_sms(session: Session, phone: str, org: str, secret: str) -> Conversation:
    """One conversation per phone number, continued across days."""
    key = subject_key(phone, secret)
    conversation = session.scalar(select(Conversation).where(Conversation.sender_key == key))
    if conversation is None:
        conversation = Conversation(
            id=new_conversation_id(),
            org=org,
            channel="sms",
            sender_key=key,
            address=normalise_phone(phone),
        )
        session.add(conversation)
        session.flush()
    return conversation


def channel_of(session: Session, conversation_id: str) -> str:
    """The channel a Rasa sender id talks on; 'rest' for conversations the web side never saw."""
    conversation = get(session, conversation_id)
    return conversation.channel if conversation else "rest"


def record_inbound(
    session: Session,
    conversation: Conversation,
    text: str,
    external_id: str | None = None,
    claimed: bool = False,
) -> Message | None:
    """Store a resident's message. Returns None for a duplicate (a retried Twilio webhook).
    `claimed`: stored already claimed by the request that will answer it, so no retry
    round can take it between the commit and that request's turn."""
    if external_id and session.scalar(select(Message.id).where(Message.external_id == external_id)):
        return None
    message = Message(
        conversation_id=conversation.id,
        direction="in",
        author="resident",
        text=text,
        external_id=external_id,
        claimed_at=utcnow() if claimed else None,
    )
    conversation.last_activity_at = utcnow()
    session.add(message)
    if external_id is None:  # nothing to collide with: no savepoint round trips
        session.flush()
        return message
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # the same MessageSid arrived concurrently
        return None
    return message


def record_outbound(
    session: Session,
    conversation: Conversation,
    text: str,
    author: str = "bot",
    buttons: list[dict[str, Any]] | None = None,
) -> Message:
    message = Message(
        conversation_id=conversation.id,
        direction="out",
        author=author,
        text=text,
        buttons=buttons or None,
        processed_at=utcnow(),
    )
    conversation.last_activity_at = utcnow()
    session.add(message)
    session.flush()
    return message


def messages_after(session: Session, conversation_id: str, after: int = 0) -> list[Message]:
    query = select(Message).where(Message.conversation_id == conversation_id, Message.id > after)
    return list(session.scalars(query.order_by(Message.id)))


def transcript(session: Session, conversation_id: str) -> list[dict[str, str]]:
    return [
        {"author": m.author, "text": m.text, "at": m.created_at.isoformat(timespec="seconds")}
        for m in messages_after(session, conversation_id)
    ]
