"""The queue and a ticket's page. Every view of a ticket goes into the audit log."""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import audit, conversations, sar, tickets
from casework.models import StaffUser, Ticket, TicketStatus
from webhook import outbox, queue
from webhook.inbox.blueprint import bp, me
from webhook.state import state


def _staff_choices(session: Session) -> list[tuple[int, str]]:
    rows = session.execute(select(StaffUser.id, StaffUser.name).where(StaffUser.active)).all()
    return [(row.id, row.name) for row in rows]


@bp.get("")
@bp.get("/")
@login_required
def index() -> Any:
    filters = queue.Filters.from_args(request.args)
    with state().db() as session:
        if filters.q:
            exact = tickets.get_ticket(session, filters.q)
            if exact is not None:
                return redirect(url_for("inbox.ticket", reference=exact.reference))
        rows = [queue.summary_row(t) for t in queue.queue(session, filters, me().id)]
        staff_list = _staff_choices(session)
    return render_template(
        "inbox/queue.html",
        rows=rows,
        filters=filters,
        staff_list=staff_list,
        kinds=queue.KINDS,
        statuses=queue.STATUSES,
        channels=queue.CHANNELS,
    )


@bp.get("/queue.json")
@login_required
def queue_json() -> Any:
    """Polled by inbox.js so new handoffs appear without a reload."""
    filters = queue.Filters.from_args(request.args)
    with state().db() as session:
        rows = [queue.summary_row(t) for t in queue.queue(session, filters, me().id)]
    open_handoffs = [r["reference"] for r in rows if r["kind"] == "handoff"]
    return jsonify({"tickets": rows, "open_handoffs": open_handoffs})


def _load(session: Session, reference: str) -> Ticket:
    ticket = tickets.get_ticket(session, reference)
    if ticket is None:
        abort(404)
    return ticket


@bp.get("/tickets/<reference>")
@login_required
def ticket(reference: str) -> Any:
    st = state()
    with st.db() as session:
        t = _load(session, reference)
        audit.log(session, me().email, "ticket.viewed", t.reference)
        conversation = conversations.get(session, t.conversation_id) if t.conversation_id else None
        live = conversations.messages_after(session, conversation.id) if conversation else []
        sms_log = (
            outbox.for_address(session, conversation.address)
            if conversation and conversation.channel == "sms" and conversation.address
            else []
        )
        # Confirmations queued for a contact the resident gave (an e-mail row waits for
        # staff when no e-mail sender is configured); SMS replies are in sms_log already.
        in_sms_log = {r.id for r in sms_log}
        confirmations = [
            r
            for r in (
                outbox.for_conversation(session, t.conversation_id) if t.conversation_id else []
            )
            if r.id not in in_sms_log
        ]
        events = audit.events_for(session, t.reference)
        due = t.sar.due_on if t.sar else None
        html = render_template(
            "inbox/ticket.html",
            t=t,
            conversation=conversation,
            live=live,
            sms_log=sms_log,
            confirmations=confirmations,
            events=events,
            notes=list(t.notes),
            due_flag=queue.due_flag(due, t.status, paused=bool(t.sar and t.sar.paused_on)),
            paused_days=sar.paused_days_so_far(t.sar) if t.sar else 0,
            today=sar.today_uk().isoformat(),
            can_reply=_reply_blocker(conversation) is None,
            reply_blocker=_reply_blocker(conversation),
            statuses=[s.value for s in TicketStatus if s != TicketStatus.RESOLVED],
        )
    return html


def _reply_blocker(conversation: Any) -> str | None:
    if conversation is None:
        return "This request has no conversation to reply in: use the contact details."
    if conversation.channel == "sms" and conversation.sms_blocked:
        return "The resident texted STOP: no SMS can be sent. Use another channel."
    return None
