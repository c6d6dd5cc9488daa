"""Subject Access Requests: creating one and moving its statutory clock.

Every change recomputes the due date with casework.sar_clock and is audited.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from casework import audit, sar_clock
from casework.models import SarRequest, Ticket, TicketKind, TicketStatus
from casework.tickets import create_ticket, set_status


def today_uk() -> date:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Europe/London")).date()


def clock_of(sar: SarRequest) -> sar_clock.SarClock:
    return sar_clock.SarClock(
        received_on=sar.received_on,
        id_required=sar.id_required,
        id_received_on=sar.id_received_on,
        paused_days=sar.paused_days,
        extended=sar.extended,
    )


def _recompute(sar: SarRequest) -> None:
    sar.due_on = sar_clock.due_date(clock_of(sar))


def paused_days_so_far(sar: SarRequest, today: date | None = None) -> int:
    """Days the clock has been paused, counting a pause still running."""
    running = max(((today or today_uk()) - sar.paused_on).days, 0) if sar.paused_on else 0
    return sar.paused_days + running


def check_entered_date(sar: SarRequest, on: date, today: date | None = None) -> None:
    """A date staff type in: never in the future, never before the request arrived."""
    today = today or today_uk()
    if on > today:
        raise ValueError(f"{on:%d %B %Y} is in the future: give the day it happened")
    if on < sar.received_on:
        raise ValueError(
            f"{on:%d %B %Y} is before the request was received ({sar.received_on:%d %B %Y})"
        )


def create_sar(
    session: Session,
    *,
    org: str,
    channel: str,
    conversation_id: str | None,
    requester_name: str,
    contact: str | None,
    contact_method: str | None,
    records_locator: str | None,
    scope: str,
    on_behalf_of: bool = False,
    subject_name: str | None = None,
    received_on: date | None = None,
    transcript: list[dict[str, Any]] | None = None,
    details: dict[str, Any] | None = None,
) -> Ticket:
    """A SAR made to the assistant is received today (UK time); the clock runs from then
    until staff ask for ID, which stops it until the ID arrives."""
    who = (
        f"{requester_name} for {subject_name}" if on_behalf_of and subject_name else requester_name
    )
    ticket = create_ticket(
        session,
        kind=TicketKind.SAR,
        org=org,
        channel=channel,
        conversation_id=conversation_id,
        contact=contact,
        contact_method=contact_method,
        summary=f"Subject access request from {who}: {scope}",
        details=details,
        transcript=transcript,
    )
    sar = SarRequest(
        ticket=ticket,
        requester_name=requester_name,
        on_behalf_of=on_behalf_of,
        subject_name=subject_name,
        records_locator=records_locator,
        scope=scope,
        received_on=received_on or today_uk(),
        id_required=False,
        paused_days=0,
        extended=False,
    )
    _recompute(sar)
    session.add(sar)
    session.flush()
    audit.log(
        session,
        audit.ASSISTANT,
        "sar.received",
        ticket.reference,
        received_on=sar.received_on.isoformat(),
        due_on=sar.due_on.isoformat(),
    )
    return ticket


def request_id(session: Session, ticket: Ticket, actor: str, today: date | None = None) -> None:
    """Stop the clock until the requested ID arrives. Not once the response is overdue:
    asking for ID then would hide a missed deadline behind a stopped clock."""
    sar = _sar(ticket)
    today = today or today_uk()
    if sar.due_on is not None and today > sar.due_on:
        raise ValueError(
            f"too late to ask for ID: the response was due on {sar.due_on:%d %B %Y}. "
            "Respond now, or record why the request cannot be answered."
        )
    sar.id_required, sar.id_received_on = True, None
    _recompute(sar)
    set_status(session, ticket, TicketStatus.WAITING, actor)
    audit.log(session, actor, "sar.id_requested", ticket.reference)


def mark_id_received(
    session: Session, ticket: Ticket, on: date, actor: str, today: date | None = None
) -> None:
    """ID arrived. Only ID that staff asked for restarts the clock (from `on`); ID sent
    without a request is noted and the clock keeps running from receipt."""
    sar = _sar(ticket)
    check_entered_date(sar, on, today)
    if sar.id_required and sar.id_received_on is not None:
        # A second date would move the deadline: ask for ID again if more is needed.
        raise ValueError(f"ID was already recorded as received on {sar.id_received_on:%d %B %Y}")
    restarts = sar.id_required
    sar.id_received_on = on
    _recompute(sar)
    set_status(session, ticket, TicketStatus.IN_PROGRESS, actor)
    audit.log(
        session,
        actor,
        "sar.id_received",
        ticket.reference,
        on=on.isoformat(),
        clock_restarted=restarts,
        due_on=sar.due_on.isoformat() if sar.due_on else None,
    )


def pause(
    session: Session, ticket: Ticket, on: date, actor: str, reason: str, today: date | None = None
) -> None:
    """Waiting for clarification from the resident: the clock pauses. Not from a day past
    the due date: a paused SAR is shown as paused, and that must not hide a missed one."""
    sar = _sar(ticket)
    if sar.paused_on is not None:
        raise ValueError("the clock is already paused")
    check_entered_date(sar, on, today)
    if sar.due_on is not None and on > sar.due_on:
        raise ValueError(
            f"too late to pause: the response was due on {sar.due_on:%d %B %Y}. "
            "Respond now, or record why the request cannot be answered."
        )
    sar.paused_on = on
    set_status(session, ticket, TicketStatus.WAITING, actor)
    audit.log(session, actor, "sar.paused", ticket.reference, on=on.isoformat(), reason=reason)


def resume(
    session: Session, ticket: Ticket, on: date, actor: str, today: date | None = None
) -> None:
    sar = _sar(ticket)
    if sar.paused_on is None:
        raise ValueError("the clock is not paused")
    check_entered_date(sar, on, today)
    if on < sar.paused_on:
        raise ValueError(f"the clock was paused on {sar.paused_on:%d %B %Y}, after {on:%d %B %Y}")
    sar.paused_days += (on - sar.paused_on).days
    sar.paused_on = None
    _recompute(sar)
    set_status(session, ticket, TicketStatus.IN_PROGRESS, actor)
    audit.log(
        session,
        actor,
        "sar.resumed",
        ticket.reference,
        on=on.isoformat(),
        due_on=sar.due_on.isoformat() if sar.due_on else None,
    )


def extend(session: Session, ticket: Ticket, reason: str, actor: str, today: date) -> None:
    """Two further months for a complex or numerous request, told within the first month."""
    sar = _sar(ticket)
    if not reason.strip():
        raise ValueError("an extension needs a reason to give the resident")
    if sar.extended:
        raise ValueError("the request has already been extended")
    deadline = sar_clock.extension_deadline(clock_of(sar))
    if deadline is not None and today > deadline:
        raise ValueError(f"too late to extend: the resident had to be told by {deadline:%d %B %Y}")
    sar.extended, sar.extension_reason = True, reason.strip()
    _recompute(sar)
    audit.log(
        session,
        actor,
        "sar.extended",
        ticket.reference,
        reason=reason,
        due_on=sar.due_on.isoformat() if sar.due_on else None,
    )


def close(session: Session, ticket: Ticket, outcome: str, actor: str) -> None:
    ticket.outcome = outcome
    set_status(session, ticket, TicketStatus.RESOLVED, actor)
    audit.log(session, actor, "sar.closed", ticket.reference, outcome=outcome)


def _sar(ticket: Ticket) -> SarRequest:
    if ticket.sar is None:
        raise ValueError(f"{ticket.reference} is not a subject access request")
    return ticket.sar
