"""Web chat: the JSON API the widget speaks (DESIGN.md contract) and the demo page."""

from __future__ import annotations

import logging
import re
from concurrent.futures import Future
from typing import Any

from flask import Blueprint, abort, jsonify, render_template, request
from sqlalchemy.exc import OperationalError

from casework import conversations, retention
from casework.models import Conversation, ConversationState, Message
from webhook import frontdoor
from webhook.errors import error_response
from webhook.rasa_client import RasaUnavailable
from webhook.state import state

bp = Blueprint("chat", __name__)
api_bp = Blueprint("chat_api", __name__, url_prefix="/api/chat")

MAX_TEXT = 1000  # characters; a resident's message, not a document
# The store could not take a message (SQLite busy past its busy timeout, PostgreSQL down):
# nothing was accepted, so the widget sends it again after this many seconds.
BUSY_RETRY_AFTER = 2
BUSY_TEXT = (
    "Sorry, we are very busy just now and could not take your message yet. "
    "It will be sent again in a moment; there is no need to type it again."
)
log = logging.getLogger(__name__)
_ID = re.compile(r"^[0-9a-f]{32}$")
# Half of a surrogate pair: JSON may carry one (a browser cutting a message at maxlength
# can split an emoji), UTF-8 cannot, so storing it failed with a 500.
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def message_to_dict(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "author": message.author,
        "direction": message.direction,
        "text": message.text,
        "buttons": message.buttons or [],
        "at": message.created_at.isoformat(timespec="seconds") + "Z",
    }


def _live_conversation(session: Any, conversation_id: str) -> Conversation:
    if not _ID.match(conversation_id):
        abort(404)
    conversation = conversations.get(session, conversation_id)
    if conversation is None or conversation.channel != "web":
        abort(404)
    return conversation


@bp.get("/")
def demo_page() -> str:
    """A page of the landlord's website with the widget embedded by one script tag."""
    return render_template("demo.html", org=state().org)


@api_bp.get("/config")
def widget_config() -> Any:
    st = state()
    return jsonify(
        {
            "org": st.org.name,
            "contact_team": st.org.contact_team,
            "contact_line": st.org.contact_line(),
            "retention_days": st.settings.transcript_retention_days,
            "poll_ms": 1500,
            "max_length": MAX_TEXT,
        }
    )


@api_bp.post("")
def post_message() -> Any:
    if not request.is_json:
        return error_response(415)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return error_response(400, "Please send a JSON object with your message.")
    text, conversation_id = data.get("text"), data.get("conversation_id")
    if not isinstance(text, str) or not text.strip():
        return error_response(400, "Please type a message before sending.")
    if len(text) > MAX_TEXT:
        return error_response(400, f"Please keep messages under {MAX_TEXT} characters.")
    if conversation_id is not None and not isinstance(conversation_id, str):
        return error_response(400, "That conversation id is not valid.")
    text = _LONE_SURROGATE.sub("\ufffd", text.strip())
    st = state()
    try:
        with st.db() as session:
            if conversation_id:
                conversation = _live_conversation(session, conversation_id)
            else:
                conversation = conversations.create(session, st.org.id, "web")
            inbound = conversations.record_inbound(session, conversation, text, claimed=True)
            assert inbound is not None
            conversation_id, inbound_id = conversation.id, inbound.id
    except OperationalError:
        log.warning("casework database busy: web message not taken, the widget retries")
        return error_response(503, BUSY_TEXT, retry_after=BUSY_RETRY_AFTER)
    turn = st.turns.submit(frontdoor.process, st, inbound_id, True)
    try:
        # Slower than this (default 2.5 s, below 3 s with room for the request's own
        # work; a normal turn takes 0.1-0.5 s): the holding reply, the answer by polling.
        outcome = turn.result(timeout=st.settings.holding_reply_after)
    except RasaUnavailable as error:
        # Stored, not answered yet: the resident is told at once; the retry loop answers
        # once Rasa and the action server are back, and the widget's polling shows it.
        log.warning("web message %d held: %s", inbound_id, error)
        return _holding(st, conversation_id, inbound_id)
    except TimeoutError:  # slow: the turn goes on and its answer is polled for
        turn.add_done_callback(_log_late_failure)
        return _holding(st, conversation_id, inbound_id)
    except OperationalError:  # stored, but the store is too busy to claim or answer it
        return _holding(st, conversation_id, inbound_id)
    if outcome.already_processed:
        # Answered elsewhere (its claim went stale on a stalled machine): what was stored
        # after it, or the holding reply while that answer is still coming. Never nothing.
        log.warning("web message %d was answered by another thread", inbound_id)
        return _stored_answer(st, conversation_id, inbound_id)
    replies = [message_to_dict(m) for m in outcome.replies]
    return jsonify(
        {
            "conversation_id": conversation_id,
            "message_id": inbound_id,
            "messages": replies,
            "with_staff": outcome.with_staff,
            "cursor": max([inbound_id, *(m["id"] for m in replies)]),
        }
    )


def _stored_answer(st: Any, conversation_id: str, inbound_id: int) -> Any:
    with st.db() as session:
        later = conversations.messages_after(session, conversation_id, inbound_id)
        replies = [message_to_dict(m) for m in later if m.direction == "out"]
        conversation = conversations.get(session, conversation_id)
        with_staff = conversation is not None and conversation.state == ConversationState.STAFF
    if not replies:
        return _holding(st, conversation_id, inbound_id)
    return jsonify(
        {
            "conversation_id": conversation_id,
            "message_id": inbound_id,
            "messages": replies,
            "with_staff": with_staff,
            "cursor": max([inbound_id, *(m["id"] for m in replies)]),
        }
    )


def _holding(st: Any, conversation_id: str, inbound_id: int) -> Any:
    try:
        reply = frontdoor.hold(st, conversation_id)
        messages = [message_to_dict(reply)] if reply else []
    except OperationalError:  # too busy to store the holding reply: say it all the same
        messages = [_unstored(st.org.holding_reply)]
    return jsonify(
        {
            "conversation_id": conversation_id,
            "message_id": inbound_id,
            "messages": messages,
            "with_staff": False,
            "pending": True,  # the answer comes later, through GET .../messages
            # Not past the holding reply: a slow turn's answer may be stored just before it.
            "cursor": inbound_id,
        }
    )


def _unstored(text: str) -> dict[str, Any]:
    """A system message the widget shows once; no id, as it is not in the store."""
    return {
        "id": None,
        "author": "system",
        "direction": "out",
        "text": text,
        "buttons": [],
        "at": None,
    }


def _log_late_failure(turn: Future[Any]) -> None:
    if isinstance(turn.exception(), RasaUnavailable):
        log.warning("a slow turn failed; its message is kept for the retry loop")


@api_bp.get("/<conversation_id>/messages")
def get_messages(conversation_id: str) -> Any:
    after = request.args.get("after", "0")
    if not after.isdigit():
        return error_response(400, "The cursor must be a message number.")
    with state().db() as session:
        conversation = _live_conversation(session, conversation_id)
        messages = conversations.messages_after(session, conversation.id, int(after))
        items = [message_to_dict(m) for m in messages]
        with_staff = conversation.state == ConversationState.STAFF
    cursor = items[-1]["id"] if items else int(after)
    return jsonify(
        {
            "conversation_id": conversation_id,
            "messages": items,
            "cursor": cursor,
            "with_staff": with_staff,
        }
    )


@api_bp.delete("/<conversation_id>")
@api_bp.post("/<conversation_id>/end")
def end_conversation(conversation_id: str) -> Any:
    """'End and delete this chat': the messages go; open requests keep their own copy."""
    st = state()
    with st.db() as session:
        conversation = _live_conversation(session, conversation_id)
        retention.delete_conversation(session, conversation)
    try:  # the assistant forgets what it was collecting; best effort
        st.rasa.restart(conversation_id)
    except RasaUnavailable:
        pass
    # ...and Rasa's own copy of the turns goes too (after the restart, which adds events).
    retention.forget_tracker(st.settings.tracker_store_url, [conversation_id])
    return jsonify({"deleted": True, "conversation_id": conversation_id})
