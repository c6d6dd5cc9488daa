"""What staff do on a ticket: assign, status, notes, replies over the resident's channel,
the SAR clock, close and hand back to the assistant. A rule that says no raises
ValueError: nothing is written and the reason is shown."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_login import login_required
from sqlalchemy.orm import Session

from casework import audit, conversations, handoff, sar, tickets
from casework.models import Ticket, TicketKind, TicketNote, TicketStatus, utcnow
from webhook import outbox, sms_format
from webhook.auth import StaffPrincipal
from webhook.inbox.blueprint import bp, me
from webhook.inbox.views import _load, _reply_blocker
from webhook.rasa_client import RasaUnavailable
from webhook.state import state

MAX_NOTE = 4000

Action = Callable[[Session, Ticket, StaffPrincipal, dict[str, str]], str | None]
ACTIONS: dict[str, Action] = {}


def action(name: str) -> Callable[[Action], Action]:
    def register(fn: Action) -> Action:
        ACTIONS[name] = fn
        return fn

    return register


def _date(form: dict[str, str], name: str = "on") -> date:
    value = form.get(name, "").strip()
    try:
        return date.fromisoformat(value) if value else sar.today_uk()
    except ValueError:
        raise ValueError("Please give the date as YYYY-MM-DD.") from None


def _text(form: dict[str, str], name: str, label: str) -> str:
    value = form.get(name, "").strip()
    if not value:
        raise ValueError(f"Please give {label}.")
    if len(value) > MAX_NOTE:
        raise ValueError(f"{label.capitalize()} is too long (at most {MAX_NOTE} characters).")
    return value


@action("assign")
def _assign(session: Session, t: Ticket, user: StaffPrincipal, form: dict[str, str]) -> str:
    previous = t.assignee.email if t.assignee else None
    t.assignee_id = user.id
    audit.log(session, user.email, "ticket.assigned", t.reference, old=previous, new=user.email)
    if t.status == TicketStatus.OPEN:
        tickets.set_status(session, t, TicketStatus.IN_PROGRESS, user.email)
    return "Assigned to you."


@action("status")
def _status(session: Session, t: Ticket, user: StaffPrincipal, form: dict[str, str]) -> str:
    value = form.get("status", "")
    if value not in ("open", "in_progress", "waiting"):
        raise ValueError("Choose a status.")
    tickets.set_status(session, t, TicketStatus(value), user.email)
    return "Status changed."


@action("note")
def _note(session: Session, t: Ticket, user: StaffPrincipal, form: dict[str, str]) -> str:
    text = _text(form, "text", "the note")
    session.add(TicketNote(ticket=t, author_id=user.id, visibility="internal", text=text))
    audit.log(session, user.email, "ticket.note_added", t.reference, visibility="internal")
    return "Internal note saved (the resident does not see it)."


@action("reply")
def _reply(session: Session, t: Ticket, user: StaffPrincipal, form: dict[str, str]) -> str:
    """A reply to the resident over the channel the conversation came from."""
    text = _text(form, "text", "a reply")
    conversation = conversations.get(session, t.conversation_id) if t.conversation_id else None
    blocker = _reply_blocker(conversation)
    if blocker or conversation is None:
        raise ValueError(blocker or "No conversation.")
    if conversation.channel == "sms":
        body = sms_format.normalise(text)
        count = sms_format.segments(body)
        if count > sms_format.MAX_SEGMENTS:
            raise ValueError(
                f"That is {count} SMS segments; please keep SMS replies to "
                f"{sms_format.MAX_SEGMENTS} (about 450 characters)."
            )
        outbox.enqueue(
            session, conversation_id=conversation.id, to=conversation.address or "", body=body
        )
        state().outbox.wake.set()
    conversations.record_outbound(session, conversation, text, author="staff")
    session.add(TicketNote(ticket=t, author_id=user.id, visibility="resident", text=text))
    entry = {"author": "staff", "text": text, "at": utcnow().isoformat(timespec="seconds")}
    t.transcript = [*(t.transcript or []), entry]
    audit.log(session, user.email, "ticket.replied", t.reference, channel=conversation.channel)
    return f"Reply sent to the resident by {conversation.channel}."


@action("request_id")
def _request_id(session: Session, t: Ticket, user: StaffPrincipal, form: dict[str, str]) -> str:
    sar.request_id(session, t, user.email)
    return "ID requested: the clock stops until it arrives."


@action("id_received")
def _id_received(session: Session, t: Ticket, user: StaffPrincipal, form: dict[str, str]) -> str:
    asked = t.sar is not None and t.sar.id_required
    sar.mark_id_received(session, t, _date(form), user.email)
    if not asked:
        return "ID noted. No ID was asked for, so the clock keeps running from receipt."
    return "ID marked as received; the due date is recalculated."


@action("pause")
def _pause(session: Session, t: Ticket, user: StaffPrincipal, form: dict[str, str]) -> str:
    sar.pause(session, t, _date(form), user.email, _text(form, "reason", "a reason"))
    return "Clock paused while waiting for clarification."


@action("resume")
def _resume(session: Session, t: Ticket, user: StaffPrincipal, form: dict[str, str]) -> str:
    sar.resume(session, t, _date(form), user.email)
    return "Clock resumed."


@action("extend")
def _extend(session: Session, t: Ticket, user: StaffPrincipal, form: dict[str, str]) -> str:
    reason = _text(form, "reason", "the reason to tell the resident")
    sar.extend(session, t, reason, user.email, sar.today_uk())
    return "Extended by two months. Tell the resident, with the reason, within the first month."


@action("close")
def _close(session: Session, t: Ticket, user: StaffPrincipal, form: dict[str, str]) -> str:
    outcome = _text(form, "outcome", "the outcome")
    if t.kind == TicketKind.SAR:
        sar.close(session, t, outcome, user.email)
    elif t.kind == TicketKind.HANDOFF:
        handoff.hand_back(session, t, user.email, outcome)
        conversation = conversations.get(session, t.conversation_id) if t.conversation_id else None
        if conversation is not None and conversation.channel == "web":
            conversations.record_outbound(
                session,
                conversation,
                f"The {state().org.contact_team} team has finished here. The assistant can "
                "help you again; you can also ask for a person at any time.",
                author="system",
            )
        return "Resolved and handed back to the assistant."
    else:
        tickets.resolve(session, t, user.email, outcome)
    return "Resolved."


@bp.post("/tickets/<reference>/<name>")
@login_required
def ticket_action(reference: str, name: str) -> Any:
    fn = ACTIONS.get(name)
    if fn is None:
        abort(404)
    st = state()
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    try:
        with st.db() as session:
            t = _load(session, reference)
            message = fn(session, t, me(), form)
            conversation_id = t.conversation_id
            handed_back = name == "close" and t.kind == TicketKind.HANDOFF
    except ValueError as error:  # a rule said no: nothing was written
        flash(str(error), "error")
        return redirect(url_for("inbox.ticket", reference=reference)), 303
    if handed_back and conversation_id:
        message = _resume_bot(conversation_id, reference) or message
    flash(message or "Done.", "success")
    return redirect(url_for("inbox.ticket", reference=reference)), 303


def _resume_bot(conversation_id: str, reference: str) -> str | None:
    """ConversationResumed in Rasa; the casework side is already handed back."""
    st = state()
    try:
        st.rasa.resume(conversation_id)
    except RasaUnavailable:
        with st.db() as session:
            audit.log(session, me().email, "conversation.resume_failed", reference)
        return (
            "Resolved, but the assistant could not be reached to resume the conversation. "
            "Use 'Resume the assistant' again shortly."
        )
    with st.db() as session:
        audit.log(session, me().email, "conversation.resumed", reference)
    return None


@bp.post("/tickets/<reference>/resume-bot")
@login_required
def resume_bot(reference: str) -> Any:
    with state().db() as session:
        t = _load(session, reference)
        conversation_id = t.conversation_id
    if conversation_id:
        problem = _resume_bot(conversation_id, reference)
        flash(
            problem or "The assistant answers this conversation again.",
            "error" if problem else "success",
        )
    return redirect(url_for("inbox.ticket", reference=reference)), 303
