"""The marketing suppression list: who must not get marketing, by which channel (and,
in the same lookup, which uses the contact has withdrawn consent for).

Each opt-out is a ledger row (casework.ledger, append-only) keyed on an HMAC of the
normalised contact, not on the conversation it came from: the same e-mail address
typed in two chats, or a number that texted STOP and later opted out in the web chat,
is one suppression, and staff can look a contact up (`GET /api/suppressions`,
`privacybot suppressions check`) without the ledger holding the contact itself. The
raw contact lives on the ticket, where staff need it to update their mailing systems.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import contacts, ledger
from casework.models import (
    ConsentEvent,
    Conversation,
    Ticket,
    TicketKind,
)
from casework.pseudonym import contact_key

CHANNELS = ledger.MARKETING_CHANNELS


class InvalidContact(ValueError):
    """The contact is not a valid one for the channel (the message says which)."""


def key_for(channel: str, contact: str, secret: str) -> str:
    if channel not in CHANNELS:
        raise InvalidContact(f"channel must be one of: {', '.join(CHANNELS)}")
    normalised = contacts.normalise(channel, contact)
    if normalised is None:
        raise InvalidContact(f"that is not a valid contact for {channel}")
    return contact_key(normalised, secret)


def record_opt_out(
    session: Session,
    *,
    org: str,
    channel: str,
    contact: str,
    secret: str,
    source: str,
    source_conversation: str | None = None,
    ticket_reference: str | None = None,
) -> ConsentEvent:
    """One channel's opt-out for one contact (UK GDPR Art. 21(3): absolute, never deleted)."""
    return ledger.record(
        session,
        subject_key=key_for(channel, contact, secret),
        org=org,
        purpose=ledger.MARKETING,
        decision="opt_out",
        channel=channel,
        source=source,
        source_conversation=source_conversation,
        ticket_reference=ticket_reference,
    )


def _entries(
    session: Session,
    org: str,
    keys: Iterable[str] | None = None,
    purposes: Iterable[str] = (ledger.MARKETING, ledger.SMS_SERVICE),
) -> list[ConsentEvent]:
    query = select(ConsentEvent).where(
        ConsentEvent.org == org, ConsentEvent.purpose.in_(list(purposes))
    )
    if keys is not None:
        query = query.where(ConsentEvent.subject_key.in_(list(keys)))
    return list(session.scalars(query.order_by(ConsentEvent.id)))


def _current_streak(rows: list[ConsentEvent]) -> list[ConsentEvent]:
    """The opt-outs since the last opt-in, oldest first; [] if the latest is not an opt-out."""
    streak: list[ConsentEvent] = []
    for row in reversed(rows):
        if row.decision != "opt_out":
            break
        streak.insert(0, row)
    return streak


def _reference(session: Session, row: ConsentEvent) -> str | None:
    """The ticket of an opt-out. A Twilio STOP is recorded before its ticket is made, so
    that row names only its conversation: the conversation's opt-out ticket is the one."""
    if row.ticket_reference or not row.source_conversation:
        return row.ticket_reference
    query = select(Ticket.reference).where(
        Ticket.conversation_id == row.source_conversation,
        Ticket.kind == TicketKind.MARKETING_OPT_OUT,
    )
    return session.scalar(query.order_by(Ticket.id))


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds") + "Z"


def status(
    session: Session, *, org: str, channel: str, contact: str, secret: str
) -> dict[str, Any]:
    """Is this contact suppressed for this channel? Since when, under which reference."""
    key = key_for(channel, contact, secret)
    rows = _entries(session, org, [key])
    marketing = [r for r in rows if r.purpose == ledger.MARKETING and r.channel == channel]
    streak = _current_streak(marketing)
    result: dict[str, Any] = {
        "org": org,
        "channel": channel,
        "suppressed": bool(streak),
        "since": _iso(streak[0].created_at) if streak else None,
        "reference": _reference(session, streak[0]) if streak else None,
        "source": streak[0].source if streak else None,
        "opt_outs": len(streak),
    }
    if channel == "sms":  # Twilio STOP blocks every text, not only marketing
        service = [r for r in rows if r.purpose == ledger.SMS_SERVICE and r.channel == "sms"]
        result["all_texts_blocked"] = bool(_current_streak(service))
    result["consent_withdrawn"] = withdrawals(session, org=org, key=key)
    return result


def withdrawals(session: Session, *, org: str, key: str) -> list[dict[str, Any]]:
    """The uses this contact has withdrawn consent for and not given it again (latest
    ledger entry per use), so the one lookup shows staff everything to honour."""
    latest = {row.purpose: row for row in _entries(session, org, [key], ledger.CONSENT_PURPOSES)}
    return [
        {"purpose": purpose, "since": _iso(row.created_at), "reference": row.ticket_reference}
        for purpose, row in sorted(latest.items())
        if row.decision == "withdrawn"
    ]


def current(session: Session, org: str) -> list[dict[str, Any]]:
    """Every contact suppressed now, oldest suppression first, with the contact staff
    need to find it in their mailing systems (from the ticket, or the STOP number)."""
    by_contact: dict[tuple[str, str | None], list[ConsentEvent]] = {}
    for row in _entries(session, org):
        if row.purpose == ledger.MARKETING:
            by_contact.setdefault((row.subject_key, row.channel), []).append(row)
    found = []
    for (key, channel), rows in by_contact.items():
        streak = _current_streak(rows)
        if not streak:
            continue
        first = streak[0]
        reference = _reference(session, first)
        found.append(
            {
                "channel": channel,
                "contact": _raw_contact(session, reference, channel, first),
                "contact_key": key,
                "since": _iso(first.created_at),
                "reference": reference,
                "source": first.source,
            }
        )
    return sorted(found, key=lambda r: r["since"])


def _raw_contact(
    session: Session, reference: str | None, channel: str | None, row: ConsentEvent
) -> str:
    ticket = (
        session.scalar(select(Ticket).where(Ticket.reference == reference)) if reference else None
    )
    given = (ticket.details or {}).get("contacts", {}) if ticket else {}
    if channel in given:
        return str(given[channel])
    if channel == "sms" and row.source_conversation:  # a STOP: the number it came from
        conversation = session.get(Conversation, row.source_conversation)
        return (conversation.address or "") if conversation else ""
    return ""
