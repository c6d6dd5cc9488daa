"""Twilio SMS: the inbound messaging webhook and the delivery status callback.

Every request must carry a valid X-Twilio-Signature, computed over the URL Twilio
called (PUBLIC_BASE_URL + path, so it also works behind a proxy) and the form fields.
Design choice: the inbound webhook never waits for Rasa. It stores the message,
answers an empty TwiML document at once (Twilio gives up after 15 s) and a background
job asks Rasa and sends the reply through the outbox and the REST API. Only keyword
replies (STOP, START, HELP) are given inline in the TwiML, as they need no Rasa.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, abort, request
from sqlalchemy.exc import IntegrityError, OperationalError
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from casework import audit, conversations, ledger, tickets
from casework.models import Conversation, TicketKind, TicketStatus, utcnow
from casework.pseudonym import mask_phone
from webhook import frontdoor, outbox, spool
from webhook.state import AppState, state

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__, url_prefix="/sms")

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
START_WORDS = {"START", "UNSTOP"}
HELP_WORDS = {"HELP", "INFO"}
_SID = re.compile(r"^(SM|MM|SMS)[0-9a-fA-F]{32}$")
_PHONE = re.compile(r"^\+?[0-9]{6,15}$")
MAX_BODY = 1600  # Twilio's own limit for one inbound message


def public_url() -> str:
    """The URL as Twilio saw it: our public base URL, not the proxy-facing host."""
    query = request.query_string.decode()
    return state().settings.public_base_url + request.path + (f"?{query}" if query else "")


def has_valid_signature() -> bool:
    """Twilio signed this request (over the public URL and the form fields)."""
    validator = RequestValidator(state().settings.twilio_auth_token)
    signature = request.headers.get("X-Twilio-Signature", "")
    return bool(signature) and validator.validate(public_url(), request.form.to_dict(), signature)


def signed(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        st = state()
        if not has_valid_signature():
            log.warning("rejected an SMS webhook with a bad signature")
            abort(403)
        sid = st.settings.twilio_account_sid
        if sid and request.form.get("AccountSid") not in (None, sid):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def twiml(*messages: str) -> Response:
    response = MessagingResponse()
    for text in messages:
        response.message(text)
    return Response(str(response), mimetype="text/xml")


@bp.post("/inbound")
@signed
def inbound() -> Any:
    st = state()
    phone, body = request.form.get("From", ""), request.form.get("Body", "")
    sid = request.form.get("MessageSid") or request.form.get("SmsMessageSid") or ""
    if not _PHONE.match(phone.strip()) or not _SID.match(sid):
        abort(400)
    if len(body) > MAX_BODY:
        abort(413)
    try:
        result = _store_with_retry(st, phone, body, sid)
    except OperationalError:
        # The store is busy beyond its busy timeout (or down): keep the SMS on disk, as
        # Twilio would not send it again, and tell the resident once that it is kept.
        holding = _spooled_holding(st, phone)
        spool.put(st.settings.data_dir, request.form.to_dict(), held=bool(holding))
        log.warning("casework database busy: SMS %s spooled to disk", sid)
        return twiml(*holding)
    if isinstance(result, Response):
        return result
    st.submit(_answer, st, result)
    return twiml()


def _store_with_retry(
    st: AppState, phone: str, body: str, sid: str, inline: bool = True, held: bool = False
) -> Response | int:
    keyword = body.strip().upper().rstrip(".!")
    for attempt in range(3):
        try:
            return _store_inbound(st, phone, body, sid, keyword, inline, held)
        except IntegrityError:
            # Two first messages from one phone at once both tried to create its
            # conversation; the transaction rolled back whole, so try again.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _spooled_holding(st: AppState, phone: str) -> list[str]:
    """The holding reply for a spooled SMS: once per phone while the store is busy."""
    with st.spool_lock:
        if phone in st.spool_held:
            return []
        st.spool_held.add(phone)
    return [st.org.holding_reply]


def ingest_spool(st: AppState) -> int:
    """Store the SMS kept on disk while the database was busy, oldest first, and answer
    them; returns how many were stored. Stops at the first database error."""
    files = spool.pending(st.settings.data_dir)
    stored = 0
    for path in files:
        form = spool.read(path)
        if form is None:
            continue
        phone, body = form.get("From", ""), form.get("Body", "")
        sid = form.get("MessageSid") or form.get("SmsMessageSid") or ""
        try:
            held = bool(form.get(spool.HELD))
            result = _store_with_retry(st, phone, body, sid, inline=False, held=held)
        except OperationalError:
            return stored
        spool.done(path)
        stored += 1
        if not isinstance(result, Response):
            _answer(st, result)  # here, one by one: a resident's texts answered in order
    if files and not spool.pending(st.settings.data_dir):
        with st.spool_lock:
            st.spool_held.clear()
    if stored:
        log.info("stored %d spooled SMS", stored)
    return stored


def _store_inbound(
    st: AppState,
    phone: str,
    body: str,
    sid: str,
    keyword: str,
    inline: bool = True,
    held: bool = False,
) -> Response | int:
    """Store first. A TwiML response when the message is answered here (keywords,
    duplicates), else the id of the stored message for the background job. Not `inline`
    (a spooled SMS, whose webhook was answered long ago): such replies go by the outbox;
    `held`: that webhook's answer was the holding reply, recorded here after the fact."""
    with st.db() as session:
        conversation = conversations.get_or_create_sms(
            session, phone, st.org.id, st.settings.pseudonym_key
        )
        message = conversations.record_inbound(
            session, conversation, body.strip() or "(empty)", external_id=sid
        )
        if message is None:  # Twilio retried a webhook we already have
            return twiml()
        log.info("SMS %s from %s", sid, mask_phone(phone))
        if held and st.org.holding_reply:
            # What the webhook's TwiML told the resident, for staff and the one-per-outage rule.
            conversations.record_outbound(
                session, conversation, st.org.holding_reply, author="system"
            )
        reply = _keyword(st, session, conversation, keyword)
        if reply is None and not body.strip():
            reply = "Sorry, we can only read text. Please type your question."
        if reply is not None:
            # Answered here: marked processed in the same transaction as the reply, so the
            # retry loop never sends it to Rasa and texts a second answer.
            message.claimed_at = message.processed_at = utcnow()
            conversations.record_outbound(session, conversation, reply, author="system")
            if not inline:
                outbox.enqueue(
                    session,
                    conversation_id=conversation.id,
                    to=conversation.address or phone,
                    body=reply,
                    blocked=conversation.sms_blocked,
                )
                return twiml()
            outbox.record_inline(
                session,
                conversation_id=conversation.id,
                to=conversation.address or phone,
                body=reply,
            )
            return twiml(reply)
        return message.id


def _answer(st: AppState, message_id: int) -> None:
    from casework.models import Message
    from webhook.rasa_client import RasaUnavailable

    try:
        frontdoor.process(st, message_id)
    except RasaUnavailable:
        log.warning("Rasa unavailable; SMS message %d will be retried", message_id)
        with st.db() as session:
            message = session.get(Message, message_id)
            conversation_id = message.conversation_id if message else None
        if conversation_id:
            frontdoor.hold(st, conversation_id)  # one holding text per outage


def _keyword(st: AppState, session: Any, conversation: Conversation, keyword: str) -> str | None:
    org = st.org
    if keyword in STOP_WORDS:
        sms_opt_out(st, session, conversation)
        return (
            f"You have been unsubscribed and will get no more texts from {org.name}, including "
            f"updates on your requests; {org.contact_team} will use another way to reach you. "
            "Reply START to get texts again."
        )
    if keyword in START_WORDS or (keyword == "YES" and conversation.sms_blocked):
        sms_opt_in(st, session, conversation)
        return (
            f"Texts from {org.name} are switched back on. You are still opted out of "
            "marketing texts. Reply HELP for help or STOP to stop."
        )
    if keyword in HELP_WORDS:
        phone = org.contact.get("phone", "")
        return (
            f"{org.name} privacy help: text your question about your personal data. "
            f"To talk to {org.contact_team}, text 'talk to a person' or call {phone} "
            f"({org.office_hours.text}). "
            "Reply STOP to stop texts."
        )
    return None


def sms_opt_out(st: AppState, session: Any, conversation: Conversation) -> None:
    """Twilio's STOP blocks every message from our number: record an SMS marketing opt-out
    and an SMS service opt-out, flag the resident's tickets and give staff a task."""
    key = conversation.sender_key or conversation.id
    ledger.record_marketing_opt_out(
        session,
        subject_key=key,
        org=st.org.id,
        channels=["sms"],
        source="sms_keyword",
        source_conversation=conversation.id,
    )
    ledger.record(
        session,
        subject_key=key,
        org=st.org.id,
        purpose=ledger.SMS_SERVICE,
        decision="opt_out",
        channel="sms",
        source="sms_keyword",
        source_conversation=conversation.id,
    )
    conversation.sms_blocked = True
    tickets.flag_sms_unreachable(session, conversation.id, True)
    outbox.cancel_pending(session, conversation.address or "")
    if not _open_ticket(session, conversation.id, TicketKind.MARKETING_OPT_OUT):
        tickets.create_ticket(
            session,
            kind=TicketKind.MARKETING_OPT_OUT,
            org=st.org.id,
            channel="sms",
            conversation_id=conversation.id,
            contact=conversation.address,
            contact_method="sms",
            summary="Texted STOP: no more SMS of any kind (marketing and service). "
            "Suppress SMS marketing and use another channel for case updates.",
            details={"channels": ["sms"], "source": "sms_keyword", "sms_service": "opt_out"},
        )
    audit.log(session, audit.SYSTEM, "sms.stop", None, conversation=conversation.id)


def sms_opt_in(st: AppState, session: Any, conversation: Conversation) -> None:
    """START re-enables service texts only: marketing stays opted out (PECR needs a
    fresh, specific consent for that)."""
    ledger.record(
        session,
        subject_key=conversation.sender_key or conversation.id,
        org=st.org.id,
        purpose=ledger.SMS_SERVICE,
        decision="opt_in",
        channel="sms",
        source="sms_keyword",
        source_conversation=conversation.id,
    )
    conversation.sms_blocked = False
    tickets.flag_sms_unreachable(session, conversation.id, False)
    audit.log(session, audit.SYSTEM, "sms.start", None, conversation=conversation.id)


def _open_ticket(session: Any, conversation_id: str, kind: TicketKind) -> bool:
    from sqlalchemy import select

    from casework.models import Ticket

    query = select(Ticket.id).where(
        Ticket.conversation_id == conversation_id,
        Ticket.kind == kind,
        Ticket.status != TicketStatus.RESOLVED,
    )
    return session.scalar(query) is not None


# Callbacks name their outbox row (`?ref=`, set by the outbox, covered by the signature), so
# one that arrives before the outbox committed Twilio's sid still finds its message. A
# callback without it (a message sent before refs existed) is looked up by sid, again for
# up to 1.5 s in case that commit is still on its way; only Twilio can call this endpoint
# (signed), so the wait cannot be used to tie up workers.
STATUS_RETRY_DELAYS = (0.1, 0.2, 0.4, 0.8)


@bp.post("/status")
@signed
def status() -> Any:
    sid = request.form.get("MessageSid") or request.form.get("SmsSid") or ""
    message_status = request.form.get("MessageStatus") or request.form.get("SmsStatus") or ""
    ref = request.args.get("ref", "")
    if (
        not _SID.match(sid)
        or not re.fullmatch(r"[a-z_]{2,20}", message_status)
        or not re.fullmatch(r"\d{0,18}", ref)
    ):
        abort(400)
    row_id = int(ref) if ref else None
    retries = STATUS_RETRY_DELAYS if row_id is None else ()  # a named row needs no wait
    known = False
    for delay in (0.0, *retries):
        time.sleep(delay)
        with state().db() as session:
            known = outbox.record_status(
                session, sid, message_status, request.form.get("ErrorCode"), row_id
            )
        if known:
            break
    # Twilio only needs a 2xx; an unknown message changes nothing.
    return Response("", status=204 if known else 200)
