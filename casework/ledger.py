"""The consent and preference ledger: append-only; the latest entry per purpose and
channel is the person's current choice. Opt-outs are never deleted (suppression list)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import audit
from casework.models import ConsentEvent

MARKETING = "marketing"
MARKETING_CHANNELS = ("email", "sms", "phone", "post")
# What a resident can withdraw consent for, with what stops and what may continue.
CONSENT_PURPOSES = ("photos", "recordings", "diversity", "analytics_cookies", "rent_help", "other")
SMS_SERVICE = "sms_service"  # Twilio STOP / START: all SMS from the number, not only marketing


def record(
    session: Session,
    *,
    subject_key: str,
    org: str,
    purpose: str,
    decision: str,
    source: str,
    channel: str | None = None,
    source_conversation: str | None = None,
    ticket_reference: str | None = None,
    actor: str = audit.ASSISTANT,
) -> ConsentEvent:
    entry = ConsentEvent(
        subject_key=subject_key,
        org=org,
        purpose=purpose,
        channel=channel,
        decision=decision,
        source=source,
        source_conversation=source_conversation,
        ticket_reference=ticket_reference,
    )
    session.add(entry)
    session.flush()
    audit.log(
        session,
        actor,
        f"ledger.{decision}",
        ticket_reference,
        purpose=purpose,
        channel=channel,
        source=source,
        ledger_id=entry.id,
    )
    return entry


def expand_channels(channels: list[str] | str) -> list[str]:
    """'all' or a list such as ['email', 'sms'] -> the marketing channels, in a stable order."""
    wanted = {channels} if isinstance(channels, str) else set(channels)
    if "all" in wanted:
        return list(MARKETING_CHANNELS)
    return [c for c in MARKETING_CHANNELS if c in wanted]


def record_marketing_opt_out(
    session: Session,
    *,
    subject_key: str,
    org: str,
    channels: list[str] | str,
    source: str,
    source_conversation: str | None = None,
    ticket_reference: str | None = None,
) -> list[ConsentEvent]:
    return [
        record(
            session,
            subject_key=subject_key,
            org=org,
            purpose=MARKETING,
            decision="opt_out",
            channel=channel,
            source=source,
            source_conversation=source_conversation,
            ticket_reference=ticket_reference,
        )
        for channel in expand_channels(channels)
    ]


def history(session: Session, subject_key: str, org: str | None = None) -> list[ConsentEvent]:
    query = select(ConsentEvent).where(ConsentEvent.subject_key == subject_key)
    if org:
        query = query.where(ConsentEvent.org == org)
    return list(session.scalars(query.order_by(ConsentEvent.id)))


def current_choices(
    session: Session, subject_key: str, org: str
) -> dict[tuple[str, str | None], str]:
    """(purpose, channel) -> latest decision."""
    return {(e.purpose, e.channel): e.decision for e in history(session, subject_key, org)}


def is_marketing_opted_out(session: Session, subject_key: str, org: str, channel: str) -> bool:
    return current_choices(session, subject_key, org).get((MARKETING, channel)) == "opt_out"
