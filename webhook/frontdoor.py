"""One front door for every channel: a stored inbound message goes to Rasa or, while
staff own the conversation, to the ticket thread; replies go back over its channel.

Messages are claimed before processing (claimed_at set by a conditional UPDATE), so
the request thread, the SMS job pool and the retry loop of several web workers never
answer one message twice; a failed Rasa call releases the claim for a later retry, and a
claim whose worker died (no answer after CLAIM_TIMEOUT) may be taken again. processed_at
is set in the same transaction that stores the answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from casework import audit, conversations, tickets
from casework.models import Conversation, ConversationState, Message, utcnow
from webhook import outbox, sms_format
from webhook.rasa_client import BotMessage, RasaUnavailable
from webhook.state import AppState

log = logging.getLogger(__name__)

# Longer than a Rasa turn can take (rasa_client timeout 25 s, plus the action server's
# own calls): a claim this old without an answer belongs to a worker that died.
CLAIM_TIMEOUT = timedelta(minutes=2)


@dataclass
class Outcome:
    replies: list[Message] = field(default_factory=list)
    with_staff: bool = False
    already_processed: bool = False


def offered_buttons(session: Session, conversation_id: str) -> list[dict[str, str]]:
    """The quick replies of the bot's latest message (the only '/payloads' we pass on)."""
    query = (
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.direction == "out")
        .order_by(Message.id.desc())
        .limit(1)
    )
    last = session.scalar(query)
    return list(last.buttons or []) if last is not None and last.author == "bot" else []


def text_for_rasa(text: str, offered: list[dict[str, str]], channel: str) -> str:
    """What Rasa may see. A leading '/' is Rasa's intent-injection syntax: only payloads of
    buttons the bot itself just offered pass; anything else loses its slashes."""
    stripped = text.strip()
    payloads = {b["payload"] for b in offered}
    if stripped in payloads:
        return stripped
    if channel == "sms" and stripped.isdigit() and 1 <= int(stripped) <= len(offered):
        return offered[int(stripped) - 1]["payload"]  # SMS quick replies are numbered
    for button in offered:  # typing a button's title counts as pressing it
        if stripped.casefold() == button["title"].strip().casefold():
            return button["payload"]
    return stripped.lstrip("/").strip() or "hello"


def claimable(now: datetime | None = None) -> ColumnElement[bool]:
    """Unanswered, and either unclaimed or claimed by a worker that has since died."""
    stale = (now or utcnow()) - CLAIM_TIMEOUT
    return Message.processed_at.is_(None) & or_(
        Message.claimed_at.is_(None), Message.claimed_at < stale
    )


def claim(session: Session, message_id: int) -> bool:
    now = utcnow()
    result = session.execute(
        update(Message)
        .where(Message.id == message_id, claimable(now))
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release(state: AppState, message_id: int) -> None:
    with state.db() as session:
        session.execute(update(Message).where(Message.id == message_id).values(claimed_at=None))


def _staff_ack(state: AppState) -> str:
    team = state.org.contact_team
    return (
        f"Thank you. A member of the {team} team has this conversation and will reply here. "
        f"They aim to reply within {state.org.handoff_reply_working_days} working days "
        f"({state.org.office_hours.text})."
    )


def route_to_staff(
    state: AppState, session: Session, conversation: Conversation, message: Message
) -> list[Message]:
    """The bot stays silent: the message joins the handoff ticket's thread; the resident is
    told once that a person has it."""
    ticket = tickets.open_handoff_for(session, conversation.id)
    replies: list[Message] = []
    if ticket is None:
        return replies
    entry = {
        "author": "resident",
        "text": message.text,
        "at": message.created_at.isoformat(timespec="seconds"),
    }
    ticket.transcript = [*(ticket.transcript or []), entry]
    ticket.updated_at = utcnow()
    audit.log(
        session, "resident", "ticket.resident_message", ticket.reference, message_id=message.id
    )
    if not (ticket.details or {}).get("resident_acknowledged"):
        ticket.details = {**(ticket.details or {}), "resident_acknowledged": True}
        replies.append(
            conversations.record_outbound(session, conversation, _staff_ack(state), author="system")
        )
    return replies


def deliver(
    state: AppState, session: Session, conversation: Conversation, replies: list[Message]
) -> None:
    """Web replies are stored messages the widget fetches; SMS replies go through the outbox."""
    if conversation.channel != "sms" or not replies or not conversation.address:
        return
    buttons = next((m.buttons for m in reversed(replies) if m.buttons), None) or []
    body = sms_format.format_reply([m.text for m in replies], buttons)
    if body:
        outbox.enqueue(
            session,
            conversation_id=conversation.id,
            to=conversation.address,
            body=body,
            blocked=conversation.sms_blocked,
        )
        state.outbox.wake.set()


def process(state: AppState, message_id: int) -> Outcome:
    """Answer one stored inbound message. Raises RasaUnavailable (claim released)."""
    with state.db() as session:
        if not claim(session, message_id):
            return Outcome(already_processed=True)
        message = session.get(Message, message_id)
        assert message is not None
        conversation = message.conversation
        if conversation.state == ConversationState.STAFF:
            message.processed_at = utcnow()
            replies = route_to_staff(state, session, conversation, message)
            deliver(state, session, conversation, replies)
            return Outcome(replies=replies, with_staff=True)
        if conversation.state == ConversationState.ENDED:
            message.processed_at = utcnow()
            return Outcome()
        rasa_text = text_for_rasa(
            message.text, offered_buttons(session, conversation.id), conversation.channel
        )
        conversation_id = conversation.id
    try:
        bot = state.rasa.send(conversation_id, rasa_text)
    except RasaUnavailable:
        release(state, message_id)
        raise
    with state.db() as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:  # deleted by the resident while Rasa was thinking
            return Outcome()
        session.execute(
            update(Message).where(Message.id == message_id).values(processed_at=utcnow())
        )
        replies = store_bot_replies(session, conversation, bot)
        deliver(state, session, conversation, replies)
        # A handoff action may have given the conversation to staff during this turn.
        return Outcome(replies=replies, with_staff=conversation.state == ConversationState.STAFF)


def store_bot_replies(
    session: Session, conversation: Conversation, bot: list[BotMessage]
) -> list[Message]:
    return [
        conversations.record_outbound(
            session, conversation, m.text, author="bot", buttons=m.buttons
        )
        for m in bot
    ]


def replay_unprocessed(
    state: AppState, older_than: timedelta = timedelta(seconds=30), limit: int = 20
) -> int:
    """Answer messages stored while Rasa was down (or whose worker died). Stops at the first
    Rasa failure; the next round tries again."""
    cutoff = utcnow() - older_than
    with state.db() as session:
        ids = session.scalars(
            select(Message.id)
            .join(Conversation)
            .where(
                Message.direction == "in",
                claimable(),
                Message.created_at <= cutoff,
                Conversation.channel.in_(("web", "sms")),
            )
            .order_by(Message.id)
            .limit(limit)
        ).all()
    done = 0
    for message_id in ids:
        try:
            outcome = process(state, message_id)
        except RasaUnavailable:
            break
        done += 0 if outcome.already_processed else 1
    if done:
        log.info("answered %d stored message(s) after a delay", done)
    return done
