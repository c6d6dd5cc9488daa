"""The staff handoff inbox: sign-in, the queue, a ticket page with its actions, CSV export.

Every form posts a CSRF token (Flask-WTF's CSRFProtect covers the whole blueprint);
every view of a ticket and every change goes into the audit log.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import (
    session as flask_session,
)
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from casework import audit, conversations, handoff, sar, staff, tickets
from casework.models import (
    ConversationState,
    StaffUser,
    Ticket,
    TicketKind,
    TicketNote,
    TicketStatus,
    utcnow,
)
from webhook import outbox, queue, sms_format
from webhook.auth import StaffPrincipal, admin_required, login_manager, sign_out
from webhook.rasa_client import RasaUnavailable
from webhook.state import state

bp = Blueprint("inbox", __name__, url_prefix="/inbox")
bp.record_once(lambda setup: login_manager.init_app(setup.app))

MAX_NOTE = 4000


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=255)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


def me() -> StaffPrincipal:
    return current_user  # type: ignore[return-value]


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if form.validate_on_submit():
        with state().db() as session:
            user = staff.authenticate(session, form.email.data or "", form.password.data or "")
            principal = StaffPrincipal.of(user) if user else None
        if principal is None:
            flash(
                "Email or password not recognised. After 5 failed attempts an account is "
                "locked for 15 minutes.",
                "error",
            )
            return render_template("inbox/login.html", form=form), 401
        flask_session.clear()  # a fresh session on sign-in (no fixation)
        login_user(principal)
        return redirect(url_for("inbox.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("inbox/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout() -> Any:
    sign_out(me())
    logout_user()
    flask_session.clear()
    return redirect(url_for("inbox.login"))


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
        events = audit.events_for(session, t.reference)
        due = t.sar.due_on if t.sar else None
        html = render_template(
            "inbox/ticket.html",
            t=t,
            conversation=conversation,
            live=live,
            sms_log=sms_log,
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
    if conversation.state == ConversationState.ENDED:
        return "The resident ended this chat: use the contact details."
    if conversation.channel == "sms" and conversation.sms_blocked:
        return "The resident texted STOP: no SMS can be sent. Use another channel."
    return None


# --- ticket actions -------------------------------------------------------------------------

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
    sar.mark_id_received(session, t, _date(form), user.email)
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


# --- export -----------------------------------------------------------------------------------

CSV_FIELDS = [
    "reference",
    "kind",
    "status",
    "channel",
    "created_at",
    "due_date",
    "resolved_at",
    "assignee",
    "sms_unreachable",
    "summary",
    "outcome",
]


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # Spreadsheet formula injection: a cell must not start with = + - @.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/export.csv")
@login_required
@admin_required
def export_csv() -> Response:
    filters = queue.Filters.from_args(request.args)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIELDS)
    with state().db() as session:
        rows = queue.queue(session, filters, me().id, limit=100_000)
        for t in rows:
            writer.writerow(
                [
                    _cell(v)
                    for v in (
                        t.reference,
                        t.kind.value,
                        t.status.value,
                        t.channel,
                        t.created_at.isoformat(timespec="seconds"),
                        t.sar.due_on.isoformat() if t.sar and t.sar.due_on else "",
                        t.resolved_at.isoformat(timespec="seconds") if t.resolved_at else "",
                        t.assignee.email if t.assignee else "",
                        t.sms_unreachable,
                        t.summary,
                        t.outcome,
                    )
                ]
            )
        audit.log(session, me().email, "tickets.exported", None, count=len(rows))
    name = f"requests-{sar.today_uk().isoformat()}.csv"
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )
