"""Tickets: the unit of work staff see in the inbox, one per request or handoff."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import audit, contacts
from casework.models import Conversation, Ticket, TicketKind, TicketStatus, utcnow

PREFIXES = {
    TicketKind.SAR: "SAR",
    TicketKind.MARKETING_OPT_OUT: "MKT",
    TicketKind.CONSENT_WITHDRAWAL: "CON",
    TicketKind.HANDOFF: "HLP",
}
# No 0/O, 1/I/L: references are read out over the phone and typed on phones.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_reference(session: Session, kind: TicketKind) -> str:
    """A short random reference such as SAR-7KQ4MX (random, so it does not leak volumes)."""
    while True:
        code = "".join(secrets.choice(_ALPHABET) for _ in range(6))
        reference = f"{PREFIXES[kind]}-{code}"
        if session.scalar(select(Ticket.id).where(Ticket.reference == reference)) is None:
            return reference


def create_ticket(
    session: Session,
    *,
    kind: TicketKind,
    org: str,
    channel: str,
    summary: str,
    conversation_id: str | None = None,
    contact: str | None = None,
    contact_method: str | None = None,
    details: dict[str, Any] | None = None,
    transcript: list[dict[str, Any]] | None = None,
    actor: str = audit.ASSISTANT,
) -> Ticket:
    ticket = Ticket(
        reference=new_reference(session, kind),
        kind=kind,
        status=TicketStatus.OPEN,
        org=org,
        channel=channel,
        conversation_id=conversation_id,
        contact=contact,
        contact_method=contact_method,
        summary=summary,
        details=details or {},
        transcript=transcript or [],
    )
    if conversation_id:
        conversation = session.get(Conversation, conversation_id)
        ticket.sms_unreachable = bool(conversation and conversation.sms_blocked)
    session.add(ticket)
    session.flush()
    audit.log(session, actor, "ticket.created", ticket.reference, kind=kind.value, channel=channel)
    return ticket


def get_ticket(session: Session, reference: str) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.reference == reference.strip().upper()))


def open_handoff_for(session: Session, conversation_id: str) -> Ticket | None:
    query = select(Ticket).where(
        Ticket.conversation_id == conversation_id,
        Ticket.kind == TicketKind.HANDOFF,
        Ticket.status != TicketStatus.RESOLVED,
    )
    return session.scalar(query.order_by(Ticket.id.desc()))


def set_status(session: Session, ticket: Ticket, status: TicketStatus, actor: str) -> None:
    previous = ticket.status
    ticket.status = status
    ticket.resolved_at = utcnow() if status == TicketStatus.RESOLVED else None
    audit.log(
        session, actor, "ticket.status", ticket.reference, old=previous.value, new=status.value
    )


def resolve(session: Session, ticket: Ticket, actor: str, outcome: str | None = None) -> None:
    ticket.outcome = outcome or ticket.outcome
    set_status(session, ticket, TicketStatus.RESOLVED, actor)


def flag_sms_unreachable(session: Session, conversation_id: str, unreachable: bool) -> int:
    """After STOP, staff must use another channel for this resident's case updates."""
    tickets = session.scalars(select(Ticket).where(Ticket.conversation_id == conversation_id))
    count = 0
    for ticket in tickets:
        ticket.sms_unreachable = unreachable
        audit.log(
            session,
            audit.SYSTEM,
            "ticket.sms_reachability",
            ticket.reference,
            unreachable=unreachable,
        )
        count += 1
    return count


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def masked_contact(contact: str | None) -> str | None:
    """Enough of a contact to recognise it in a list, not to use or harvest it:
    'k…@example.org', '***987', a postal address by its postcode district only."""
    if not contact:
        return None
    if "@" in contact:
        return contacts.mask_email(contact)
    postcode = contacts.parse_postcode(contact)
    if postcode:
        return f"… {postcode.split()[0]}"
    digits = contacts.last_digits(contact)
    return f"***{digits}" if digits else "***"


def ticket_to_dict(ticket: Ticket) -> dict[str, Any]:
    """The API shape of a ticket (DESIGN.md: GET /api/tickets/<reference>)."""
    data: dict[str, Any] = {
        "reference": ticket.reference,
        "kind": ticket.kind.value,
        "status": ticket.status.value,
        "channel": ticket.channel,
        "conversation_id": ticket.conversation_id,  # the conversation the record came from
        "org": ticket.org,
        "created_at": ticket.created_at.isoformat(timespec="seconds") + "Z",
        "updated_at": ticket.updated_at.isoformat(timespec="seconds") + "Z",
        "due_date": _iso(ticket.sar.due_on) if ticket.sar else None,
        "contact": ticket.contact,
        "contact_method": ticket.contact_method,
        "summary": ticket.summary,
        "details": ticket.details,
        "transcript": ticket.transcript,
        "sms_unreachable": ticket.sms_unreachable,
        "assignee": ticket.assignee.email if ticket.assignee else None,
        "outcome": ticket.outcome,
    }
    if ticket.sar:
        sar = ticket.sar
        data["sar"] = {
            "requester_name": sar.requester_name,
            "on_behalf_of": sar.on_behalf_of,
            "subject_name": sar.subject_name,
            "records_locator": sar.records_locator,
            "scope": sar.scope,
            "received_on": _iso(sar.received_on),
            "id_required": sar.id_required,
            "id_received_on": _iso(sar.id_received_on),
            "paused_on": _iso(sar.paused_on),
            "paused_days": sar.paused_days,
            "extended": sar.extended,
            "extension_reason": sar.extension_reason,
            "due_on": _iso(sar.due_on),
        }
    return data
