"""The staff queue: open handoffs first, then SARs by due date, then opt-outs and
consent withdrawals to action. Shared by the inbox pages and the tickets API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from casework.models import Ticket, TicketKind, TicketStatus
from casework.sar import paused_days_so_far, today_uk

KINDS = [k.value for k in TicketKind]
STATUSES = [s.value for s in TicketStatus]
CHANNELS = ["web", "sms", "rest"]
DUE_SOON_DAYS = 7
_GROUP = {
    TicketKind.HANDOFF: 0,
    TicketKind.SAR: 1,
    TicketKind.MARKETING_OPT_OUT: 2,
    TicketKind.CONSENT_WITHDRAWAL: 2,
}


@dataclass(frozen=True)
class Filters:
    kind: str = ""
    status: str = "active"  # active = anything not resolved; "" = all
    channel: str = ""
    assignee: str = ""  # "" any | "me" | "none" | a staff id
    q: str = ""

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        def pick(name: str, allowed: list[str], default: str = "") -> str:
            value = str(args.get(name, default) or "").strip()
            return value if value in allowed else default

        assignee = str(args.get("assignee", "") or "").strip()
        if assignee not in ("", "me", "none") and not assignee.isdigit():
            assignee = ""
        return cls(
            kind=pick("kind", KINDS),
            status=pick("status", [*STATUSES, "active", "all"], "active"),
            channel=pick("channel", CHANNELS),
            assignee=assignee,
            q=str(args.get("q", "") or "").strip().upper()[:32],
        )


def due_flag(
    due_on: date | None, status: TicketStatus, today: date | None = None, paused: bool = False
) -> str:
    """'paused' | 'overdue' | 'due-soon' (within 7 days) | ''. A paused clock is never
    overdue: its due date moves on by every paused day when it resumes."""
    if due_on is None or status == TicketStatus.RESOLVED:
        return ""
    if paused:
        return "paused"
    today = today or today_uk()
    if due_on < today:
        return "overdue"
    if due_on <= today + timedelta(days=DUE_SOON_DAYS):
        return "due-soon"
    return ""


def _sort_key(ticket: Ticket) -> tuple[Any, ...]:
    resolved = ticket.status == TicketStatus.RESOLVED
    due = ticket.sar.due_on if ticket.sar and ticket.sar.due_on else date.max
    return (resolved, _GROUP[ticket.kind], due, ticket.created_at)


def queue(
    session: Session, filters: Filters, user_id: int | None, limit: int = 500
) -> list[Ticket]:
    query = select(Ticket).options(selectinload(Ticket.sar), selectinload(Ticket.assignee))
    if filters.kind:
        query = query.where(Ticket.kind == TicketKind(filters.kind))
    if filters.status == "active":
        query = query.where(Ticket.status != TicketStatus.RESOLVED)
    elif filters.status in STATUSES:
        query = query.where(Ticket.status == TicketStatus(filters.status))
    if filters.channel:
        query = query.where(Ticket.channel == filters.channel)
    if filters.assignee == "me" and user_id is not None:
        query = query.where(Ticket.assignee_id == user_id)
    elif filters.assignee == "none":
        query = query.where(Ticket.assignee_id.is_(None))
    elif filters.assignee.isdigit():
        query = query.where(Ticket.assignee_id == int(filters.assignee))
    if filters.q:
        query = query.where(Ticket.reference.contains(filters.q))
    rows = list(session.scalars(query.order_by(Ticket.created_at.desc()).limit(limit)))
    return sorted(rows, key=_sort_key)


def summary_row(ticket: Ticket, today: date | None = None) -> dict[str, Any]:
    """What the queue (and its live-update JSON) shows per ticket: no contact details."""
    sar = ticket.sar
    due = sar.due_on if sar else None
    paused = bool(sar and sar.paused_on)
    return {
        "reference": ticket.reference,
        "kind": ticket.kind.value,
        "status": ticket.status.value,
        "channel": ticket.channel,
        "summary": ticket.summary[:160],
        "created_at": ticket.created_at.isoformat(timespec="minutes"),
        "due_date": due.isoformat() if due else None,
        "due_flag": due_flag(due, ticket.status, today, paused),
        "paused_days": paused_days_so_far(sar, today) if sar and paused else None,
        "assignee": ticket.assignee.name if ticket.assignee else None,
        "sms_unreachable": ticket.sms_unreachable,
        "urgent": bool((ticket.details or {}).get("urgent")),
    }
