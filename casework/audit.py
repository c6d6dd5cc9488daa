"""The audit log: who did what to which record, append-only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.models import AuditEvent

ASSISTANT = "assistant"
SYSTEM = "system"


def log(
    session: Session, actor: str, action: str, ticket_reference: str | None = None, **detail: Any
) -> AuditEvent:
    entry = AuditEvent(actor=actor, action=action, ticket_reference=ticket_reference, detail=detail)
    session.add(entry)
    return entry


def events_for(session: Session, ticket_reference: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.ticket_reference == ticket_reference)
    return list(session.scalars(query.order_by(AuditEvent.id)))
