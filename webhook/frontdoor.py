"""One front door for every channel: a stored inbound message goes to Rasa or, while
staff own the conversation, to the ticket thread; replies go back over its channel.

Messages are claimed before processing (claimed_at set by a conditional UPDATE), so
the request thread, the SMS job pool and the retry loop of several web workers never
answer one message twice; a failed Rasa call releases the claim for a later retry. A
live worker renews its claims (`renew_claims`, every CLAIM_RENEW_EVERY); a claim not
renewed for CLAIM_TIMEOUT belongs to a worker that died and may be taken again. The
worker that takes it first asks Rasa's tracker whether the dead one's turn happened (our
message id rides in the turn's metadata): if so its answer is taken from there, so the
message never reaches Rasa twice. processed_at is set (once, conditionally) in the same
transaction that stores the answer.

While Rasa or the action server is down (or a web turn is slow) the resident gets the
organisation's holding reply at once (`hold`); the message stays stored and unanswered,
and is answered once when the part is back (`replay_round`). A conversation's messages
are answered in the order they came: a held one goes before any later one.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, or_, select, update
from sqlalchemy.orm import Session, joinedload

from casework import audit, conversations, tickets
from casework.models import Conversation, ConversationState, Message, utcnow
from webhook import outbox, sms_format
from webhook.rasa_client import BotMessage, RasaTimedOut, RasaUnavailable
from webhook.state import AppState

log = logging.getLogger(__name__)
# Two texts failing at the same moment must not both see "no holding reply yet" and both
# send one: the check and the send run one at a time in this process.
_holding_lock = threading.Lock()

# A worker renews the claims of the turns it is running this often (a Rasa turn may take
# up to the client's 25 s timeout); one not renewed for CLAIM_TIMEOUT (three missed
# renewals and more) belongs to a worker that died.
CLAIM_RENEW_EVERY = 4.0
CLAIM_TIMEOUT = timedelta(seconds=15)


@dataclass
class Outcome:
    replies: list[Message] = field(default_factory=list)
    with_staff: bool = False
    already_processed: bool = False


def offered_buttons(
    session: Session, conversation_id: str, before: int | None = None
) -> list[dict[str, str]]:
    """The quick replies of the bot's latest message before the resident's message
    `before` (the only '/payloads' we pass on): a holding reply sent after it does not
    take away the buttons the resident was answering."""
    query = select(Message).where(
        Message.conversation_id == conversation_id, Message.direction == "out"
    )
    if before is not None:
        query = query.where(Message.id < before)
    query = query.order_by(Message.id.desc()).limit(1)
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
    return _claim(session, message_id) is not None


def _claim(session: Session, message_id: int) -> bool | None:
    """None: someone else has it (or it is answered). Else whether the claim was taken
    over from a worker that died, perhaps after Rasa took the turn."""
    before = session.scalar(select(Message.claimed_at).where(Message.id == message_id))
    now = utcnow()
    result = session.execute(
        update(Message)
        .where(Message.id == message_id, claimable(now))
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return None
    return before is not None


def _still_ours(message: Message) -> bool:
    """A message stored claimed by this process (its claim renewed since): ours unless it
    was answered or released meanwhile. Read, not written: one write transaction fewer
    per web turn, and SQLite has one writer at a time."""
    return message.processed_at is None and message.claimed_at is not None


def renew_claims(state: AppState) -> int:
    """The heartbeat: keep this process's claims fresh while their turns run."""
    ids = state.in_flight_ids()
    if not ids:
        return 0
    with state.db() as session:
        result = session.execute(
            update(Message)
            .where(
                Message.id.in_(ids),
                Message.processed_at.is_(None),
                Message.claimed_at.is_not(None),  # released meanwhile: not ours any more
            )
            .values(claimed_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


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


def process(state: AppState, message_id: int, claimed: bool = False) -> Outcome:
    """Answer one stored inbound message, after any earlier unanswered message of its
    conversation (held during an outage). Raises RasaUnavailable (claims released).
    `claimed`: it was stored claimed by this process (a web request answering its own
    message); its claim is renewed from here on, through the earlier messages' turns."""
    if not claimed:
        for earlier in _earlier_unanswered(state, message_id):
            _process_one(state, earlier)
        return _process_one(state, message_id)
    with state.running(message_id):
        try:
            for earlier in _earlier_unanswered(state, message_id):
                _process_one(state, earlier)
        except RasaUnavailable:
            release(state, message_id)  # held with the earlier one, for the retry loop
            raise
        return _process_one(state, message_id, claimed=True)


def _earlier_unanswered(state: AppState, message_id: int) -> list[int]:
    conversation_id = (
        select(Message.conversation_id).where(Message.id == message_id).scalar_subquery()
    )
    with state.db() as session:  # one round trip: this runs before every turn
        return list(
            session.scalars(
                select(Message.id)
                .where(
                    Message.conversation_id == conversation_id,
                    Message.direction == "in",
                    Message.id < message_id,
                    claimable(),
                )
                .order_by(Message.id)
            )
        )


def _process_one(state: AppState, message_id: int, claimed: bool = False) -> Outcome:
    with state.db() as session:
        taken_over = False if claimed else _claim(session, message_id)
        if taken_over is None:
            return Outcome(already_processed=True)
        message = session.get(Message, message_id, options=[joinedload(Message.conversation)])
        if message is None or (claimed and not _still_ours(message)):
            return Outcome(already_processed=True)
        conversation = message.conversation
        if conversation.state == ConversationState.STAFF:
            message.processed_at = utcnow()
            replies = route_to_staff(state, session, conversation, message)
            deliver(state, session, conversation, replies)
            return Outcome(replies=replies, with_staff=True)
        rasa_text = text_for_rasa(
            message.text,
            offered_buttons(session, conversation.id, before=message_id),
            conversation.channel,
        )
        conversation_id = conversation.id
    with state.running(message_id):
        return _answer_claimed(state, conversation_id, message_id, rasa_text, taken_over)


def _answer_claimed(
    state: AppState, conversation_id: str, message_id: int, rasa_text: str, taken_over: bool
) -> Outcome:
    try:
        bot = state.rasa.answer_in_tracker(conversation_id, message_id) if taken_over else None
        if taken_over:
            log.warning(
                "message %d: taken over from a worker that died; %s",
                message_id,
                "Rasa's tracker has its turn, that answer is kept"
                if bot is not None
                else "Rasa never took its turn, sending it now",
            )
        if bot is None:
            bot = _turn(state, conversation_id, rasa_text, message_id)
    except RasaTimedOut:
        # Rasa may still take the turn: the claim is left to go stale (no heartbeat now),
        # and whoever takes it asks the tracker first, so the turn is never run twice.
        log.warning("message %d: Rasa did not answer in time; kept for a take-over", message_id)
        state.holding.set()
        raise
    except RasaUnavailable:
        release(state, message_id)
        state.holding.set()
        raise
    with state.db() as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:  # deleted by the resident while Rasa was thinking
            return Outcome()
        marked = session.execute(
            update(Message)
            .where(Message.id == message_id, Message.processed_at.is_(None))
            .values(processed_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if not marked.rowcount:  # type: ignore[attr-defined]
            # A worker thought dead (stalled past CLAIM_TIMEOUT) and the one that took its
            # claim both finished: the first answer stands, the second is dropped.
            return Outcome(already_processed=True)
        replies = store_bot_replies(session, conversation, bot)
        deliver(state, session, conversation, replies)
        # A handoff action may have given the conversation to staff during this turn.
        return Outcome(replies=replies, with_staff=conversation.state == ConversationState.STAFF)


def _turn(
    state: AppState, conversation_id: str, text: str, message_id: int | None = None
) -> list[BotMessage]:
    """One Rasa turn, only while Rasa and the action server are both up: with the action
    server down Rasa still answers HTTP 200, having lost the turn's actions (silence, or
    half an answer). An empty answer is checked again: the part may have died mid-turn."""
    if not state.health.dialogue_up():
        raise RasaUnavailable("Rasa or the action server is down")
    try:
        bot = state.rasa.send(conversation_id, text, message_id=message_id)
    except RasaUnavailable:
        state.health.forget()
        raise
    if bot:
        state.health.proved_alive()  # the next check need not ask a busy Rasa for /status
        return bot
    state.health.forget()
    if not state.health.dialogue_up():
        raise RasaUnavailable("the action server went down during the turn")
    # Both parts are up and the turn still said nothing (an action that failed or
    # timed out inside Rasa): the resident is told so rather than left in silence.
    log.warning("Rasa answered a turn with nothing; sending the no-answer apology")
    return [BotMessage(state.org.no_reply)]


def is_holding_reply(state: AppState, message: Message) -> bool:
    return message.author == "system" and message.text == state.org.holding_reply


def hold(state: AppState, conversation_id: str) -> Message | None:
    """Tell the resident their message is kept: the organisation's holding reply, stored
    (the widget shows it; a reload keeps it) and, for SMS, texted. An SMS conversation
    gets one per outage: not again while its latest message out is still the holding
    reply. Returns the stored reply, or None when none was due."""
    with _holding_lock, state.db() as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None or conversation.state != ConversationState.BOT:
            return None
        if conversation.channel == "sms":
            last = session.scalar(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.direction == "out")
                .order_by(Message.id.desc())
                .limit(1)
            )
            if last is not None and is_holding_reply(state, last):
                return None
        reply = conversations.record_outbound(
            session, conversation, state.org.holding_reply, author="system"
        )
        deliver(state, session, conversation, [reply])
        log.info("holding reply sent; message kept for later")
        return reply


def store_bot_replies(
    session: Session, conversation: Conversation, bot: list[BotMessage]
) -> list[Message]:
    return [
        conversations.record_outbound(
            session, conversation, m.text, author="bot", buttons=m.buttons
        )
        for m in bot
    ]


def _unanswered() -> Select[tuple[int]]:
    """Inbound messages of the channels we answer, neither answered nor being answered."""
    return (
        select(Message.id)
        .join(Conversation)
        .where(
            Message.direction == "in",
            claimable(),
            Conversation.channel.in_(("web", "sms")),
        )
    )


def replay_unprocessed(
    state: AppState, older_than: timedelta = timedelta(seconds=10), limit: int = 20
) -> int:
    """Answer messages stored while Rasa was down, or left by a worker that died: unclaimed
    ones `older_than` (a live request thread claims its own within milliseconds, or gives
    the holding reply within 3 s) and any stale claim. Stops at the first Rasa failure;
    the next round tries again."""
    cutoff = utcnow() - older_than
    with state.db() as session:
        ids = session.scalars(
            _unanswered()
            .where(or_(Message.created_at <= cutoff, Message.claimed_at.is_not(None)))
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


# A held message is replayed once it is this old: its own request thread claims it within
# milliseconds, so a replay round never takes a fresh message from under it.
HELD_REPLAY_AFTER = timedelta(seconds=1)


def replay_round(state: AppState) -> int:
    """The retry loop's round. While this process holds messages (`state.holding`) they
    are replayed as soon as Rasa and the action server answer again; otherwise only
    messages left by a worker that died (unclaimed for 10 s, or a stale claim)."""
    if not state.holding.is_set():
        return replay_unprocessed(state)
    if not state.health.dialogue_up():
        return 0
    state.holding.clear()  # a failure during the round sets it again
    done = replay_unprocessed(state, older_than=HELD_REPLAY_AFTER, limit=200)
    with state.db() as session:
        left = session.scalar(_unanswered().limit(1))
    if left is not None:
        state.holding.set()
    return done
