"""Retention: chats are personal data, so every copy is kept only as long as needed.

Past the retention period (TRANSCRIPT_RETENTION_DAYS) a purge deletes:
- conversations idle that long, with their messages, unless a ticket is still open for
  them (staff need the conversation to act and to resume it);
- Rasa's tracker events of every sender that has been silent that long and is not such a
  kept conversation (Rasa keeps its own copy of every turn, in its own database);
- outbox rows (phone numbers and message bodies);
- the transcript copy on tickets resolved that long ago (the ticket record stays).
It keeps what the law needs: the suppression ledger, SAR records and the audit log.
Every run is audit-logged with its counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Text, bindparam, cast, delete, func, inspect, select, text
from sqlalchemy.orm import Session

from casework import audit
from casework.models import Conversation, Message, OutboundMessage, Ticket, TicketStatus, utcnow

CHUNK = 500  # ids per IN (...): well under SQLite's and PostgreSQL's parameter limits


@dataclass
class PurgeResult:
    conversations_deleted: int = 0
    messages_deleted: int = 0
    outbox_deleted: int = 0
    transcripts_scrubbed: int = 0
    tracker_events_deleted: int = 0
    tracker_error: str | None = None
    conversation_ids: list[str] = field(default_factory=list, repr=False)

    def counts(self) -> dict[str, Any]:
        """What is printed and audit-logged: numbers, never whose conversations they were."""
        values = asdict(self)
        values.pop("conversation_ids")
        if values["tracker_error"] is None:
            values.pop("tracker_error")
        return values


def _chunks(items: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield list(items[start : start + CHUNK])


def cutoff_for(retention_days: int, now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(days=retention_days)


def purge_casework(session: Session, cutoff: datetime) -> PurgeResult:
    """The casework copies: idle conversations and their messages, outbox rows, transcripts
    of resolved tickets. Flushed, not committed: the caller's transaction decides."""
    open_conversations = select(Ticket.conversation_id).where(
        Ticket.status != TicketStatus.RESOLVED, Ticket.conversation_id.is_not(None)
    )
    stale = session.scalars(
        select(Conversation.id).where(
            Conversation.last_activity_at < cutoff, Conversation.id.not_in(open_conversations)
        )
    ).all()
    result = PurgeResult(conversation_ids=list(stale))
    for ids in _chunks(stale):
        result.messages_deleted += _deleted(
            session.execute(delete(Message).where(Message.conversation_id.in_(ids)))
        )
        result.conversations_deleted += _deleted(
            session.execute(delete(Conversation).where(Conversation.id.in_(ids)))
        )
    # Phone numbers and bodies of texts sent (or never sent) before the cutoff.
    result.outbox_deleted = _deleted(
        session.execute(delete(OutboundMessage).where(OutboundMessage.created_at < cutoff))
    )
    result.transcripts_scrubbed = _scrub_transcripts(session, cutoff)
    return result


def _deleted(cursor: Any) -> int:
    return int(cursor.rowcount or 0)


def _scrub_transcripts(session: Session, cutoff: datetime) -> int:
    # Only tickets that still hold a copy: '[]' is the stored form of an empty transcript
    # on both SQLite and PostgreSQL, so a daily run does not reload years of tickets.
    holding = func.length(cast(Ticket.transcript, Text)) > 2
    old = session.scalars(
        select(Ticket).where(
            Ticket.status == TicketStatus.RESOLVED, Ticket.resolved_at < cutoff, holding
        )
    ).all()
    for ticket in old:
        ticket.transcript = []
    session.flush()
    return len(old)


def purge_expired(
    session: Session,
    retention_days: int,
    tracker_url: str | None = None,
    now: datetime | None = None,
) -> PurgeResult:
    """One retention run over casework and (when given) Rasa's tracker store, audit-logged.

    The tracker is purged after the casework deletions are flushed, so "still kept by
    casework" already reflects this run. A tracker store that cannot be reached does not
    stop the casework purge: the error is recorded and the next run catches up, because
    the tracker purge goes by age, not only by this run's ids.
    """
    cutoff = cutoff_for(retention_days, now)
    result = purge_casework(session, cutoff)
    if tracker_url:
        try:
            result.tracker_events_deleted = purge_tracker(
                tracker_url, cutoff, result.conversation_ids, lambda ids: _kept(session, ids)
            )
        except Exception as error:  # noqa: BLE001 (recorded in the audit log and the exit code)
            result.tracker_error = type(error).__name__
    audit.log(
        session,
        audit.SYSTEM,
        "retention.purge",
        None,
        retention_days=retention_days,
        cutoff=cutoff.isoformat(timespec="seconds"),
        **result.counts(),
    )
    return result


def _kept(session: Session, sender_ids: list[str]) -> set[str]:
    """Of these Rasa sender ids, the conversations casework still keeps."""
    kept: set[str] = set()
    for ids in _chunks(sender_ids):
        kept.update(session.scalars(select(Conversation.id).where(Conversation.id.in_(ids))))
    return kept


def delete_conversation(session: Session, conversation: Conversation) -> None:
    """The resident's "end and delete this chat": messages go; open tickets keep their copy
    because staff still need it to act on the request."""
    audit.log(session, "resident", "conversation.deleted", None, conversation=conversation.id)
    session.delete(conversation)


def _tracker_engine(tracker_url: str) -> Engine | None:
    """The tracker store's engine, or None when it has no `events` table (yet). A missing
    SQLite file is not created just to find it empty."""
    from casework.db import get_engine

    if tracker_url.startswith("sqlite"):
        path = tracker_url.split("///", 1)[-1]
        if path and path != ":memory:" and not Path(path).exists():
            return None
    engine = get_engine(tracker_url)
    return engine if inspect(engine).has_table("events") else None


_DELETE_EVENTS = text("DELETE FROM events WHERE sender_id IN :ids").bindparams(
    bindparam("ids", expanding=True)
)


def _delete_events(engine: Engine, sender_ids: Sequence[str]) -> int:
    deleted = 0
    with engine.begin() as connection:
        for ids in _chunks(sender_ids):
            deleted += _deleted(connection.execute(_DELETE_EVENTS, {"ids": ids}))
    return deleted


def forget_tracker(tracker_url: str | None, conversation_ids: Iterable[str]) -> int:
    """Rasa keeps its own copy of every turn in its tracker store (table `events`, keyed
    by sender id): a deleted conversation must go from there too."""
    ids = list(conversation_ids)
    engine = _tracker_engine(tracker_url) if tracker_url and ids else None
    return _delete_events(engine, ids) if engine is not None else 0


def purge_tracker(
    tracker_url: str,
    cutoff: datetime,
    purged_ids: Sequence[str],
    kept: Callable[[list[str]], set[str]],
) -> int:
    """Delete the tracker events of this run's purged conversations and of every sender
    silent since before the cutoff that casework does not keep (`kept(ids) -> set`):
    senders casework never saw (Rasa's REST channel) and leftovers of earlier runs."""
    engine = _tracker_engine(tracker_url)
    if engine is None:
        return 0
    # Rasa stores event timestamps as UNIX seconds (UTC).
    epoch = cutoff.replace(tzinfo=UTC).timestamp()
    silent = text("SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :t")
    with engine.connect() as connection:
        idle = [str(s) for s in connection.execute(silent, {"t": epoch}).scalars()]
    keep = kept(idle) if idle else set()
    doomed = sorted(set(purged_ids) | {s for s in idle if s not in keep})
    return _delete_events(engine, doomed)
