"""Retention on the real stack: chats through gunicorn, Rasa and the action server, aged,
then `privacybot db purge` as an operator (or `make run`'s scheduler) runs it. Every copy
of an expired chat goes, Rasa's own included, and Rasa carries on for everyone else."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
import requests
from sqlalchemy import func, select, text, update

from tests.integration.test_web_stack import WebResident, signed_sms

pytestmark = pytest.mark.integration

AGE = timedelta(days=120)


def _tracker_events(stack: Any, sender_id: str, kind: str | None = None) -> int:
    from casework.db import get_engine

    query = "SELECT count(*) FROM events WHERE sender_id = :s"
    if kind:
        query += " AND type_name = :k"
    with get_engine(stack.env["TRACKER_URL"]).connect() as connection:
        return int(connection.execute(text(query), {"s": sender_id, "k": kind}).scalar() or 0)


def _age(stack: Any, conversation_id: str, phone: str | None = None) -> None:
    """As if the conversation (and Rasa's copy, and its texts) were 120 days old."""
    from casework.db import get_engine, session_scope
    from casework.models import Conversation, Message, OutboundMessage, utcnow

    old = utcnow() - AGE
    with session_scope(stack.database_url) as session:
        session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id)
            .values(last_activity_at=old)
        )
        session.execute(
            update(Message).where(Message.conversation_id == conversation_id).values(created_at=old)
        )
        if phone:
            session.execute(
                update(OutboundMessage).where(OutboundMessage.to == phone).values(created_at=old)
            )
    with get_engine(stack.env["TRACKER_URL"]).begin() as connection:
        connection.execute(
            text("UPDATE events SET timestamp = timestamp - :d WHERE sender_id = :s"),
            {"d": AGE.total_seconds(), "s": conversation_id},
        )


def _sms_conversation(stack: Any, phone: str) -> str:
    from casework.db import session_scope
    from casework.models import Conversation, OutboundMessage

    signed_sms(stack, phone, "what is personal data")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:  # the answer is texted from a background job
        with session_scope(stack.database_url) as session:
            sent = session.scalar(
                select(func.count()).where(
                    OutboundMessage.to == phone, OutboundMessage.status != "pending"
                )
            )
            conversation = session.scalar(
                select(Conversation.id).where(Conversation.address == phone)
            )
        if sent and conversation:
            break
        time.sleep(0.5)
    assert conversation is not None and sent
    assert "unsubscribed" in signed_sms(stack, phone, "STOP").text
    return conversation


def test_purge_on_the_real_stack(stack: Any) -> None:
    from casework import tickets
    from casework.db import session_scope
    from casework.models import (
        AuditEvent,
        ConsentEvent,
        Conversation,
        Message,
        OutboundMessage,
        Ticket,
        TicketKind,
        utcnow,
    )

    expired, current, kept = WebResident(stack), WebResident(stack), WebResident(stack)
    for resident in (expired, current, kept):
        resident.says("what is personal data")
    phone = "+4477009" + str(uuid.uuid4().int)[:5]
    sms_id = _sms_conversation(stack, phone)
    with session_scope(stack.database_url) as session:
        # Staff actioned the STOP (its ticket is resolved) but still work on `kept`.
        stop_tickets = session.scalars(select(Ticket).where(Ticket.conversation_id == sms_id)).all()
        for ticket in stop_tickets:
            tickets.resolve(session, ticket, "agent@example.org", "suppressed")
            ticket.transcript = [*(ticket.transcript or []), {"author": "user", "text": "STOP"}]
        stop_refs = [t.reference for t in stop_tickets]
        session.flush()
        # ...resolved as long ago as the chat went quiet.
        session.execute(
            update(Ticket).where(Ticket.reference.in_(stop_refs)).values(resolved_at=utcnow() - AGE)
        )
        tickets.create_ticket(
            session,
            kind=TicketKind.HANDOFF,
            org="barnet-homes",
            channel="web",
            summary="open request",
            conversation_id=kept.conversation_id,
        )
    for conversation_id in (expired.conversation_id, kept.conversation_id):
        _age(stack, conversation_id)
    _age(stack, sms_id, phone)
    assert _tracker_events(stack, expired.conversation_id, "user") == 1

    done = subprocess.run(
        [sys.executable, "-m", "privacybot.cli", "db", "purge"],
        env=stack.env,  # what every process of the stack is given
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts["conversations_deleted"] >= 2 and counts["tracker_events_deleted"] > 0

    for gone in (expired.conversation_id, sms_id):
        assert _tracker_events(stack, gone) == 0
    with session_scope(stack.database_url) as session:
        ids = {expired.conversation_id, sms_id, current.conversation_id, kept.conversation_id}
        left = set(session.scalars(select(Conversation.id).where(Conversation.id.in_(ids))))
        assert left == {current.conversation_id, kept.conversation_id}
        orphans = select(func.count()).where(
            Message.conversation_id.in_([expired.conversation_id, sms_id])
        )
        assert session.scalar(orphans) == 0
        assert session.scalar(select(func.count()).where(OutboundMessage.to == phone)) == 0
        # The STOP stays on the suppression list after its conversation went.
        assert session.scalar(
            select(func.count()).where(ConsentEvent.source_conversation == sms_id)
        )
        # The ticket stays (staff's record of the STOP); its copy of the chat goes.
        scrubbed = session.scalars(select(Ticket).where(Ticket.reference.in_(stop_refs))).all()
        assert stop_refs and [t.transcript for t in scrubbed] == [[] for _ in stop_refs]
        assert all(t.summary for t in scrubbed)
        # The audit entry records exactly what the run printed.
        entry = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "retention.purge")
            .order_by(AuditEvent.id.desc())
        ).first()
        assert entry is not None and entry.actor == "system"
        assert {k: entry.detail[k] for k in counts} == counts
    assert counts["transcripts_scrubbed"] >= len(stop_refs)
    assert counts["outbox_deleted"] >= 1
    assert _tracker_events(stack, kept.conversation_id, "user") == 1
    assert _tracker_events(stack, current.conversation_id, "user") == 1

    # Rasa holds no copy of its own in memory: the expired sender starts from nothing...
    tracker = requests.get(
        f"{stack.rasa_url}/conversations/{expired.conversation_id}/tracker",
        params={"token": stack.rasa_token},
        timeout=30,
    ).json()
    assert [e for e in tracker["events"] if e["event"] == "user"] == []
    # ...the expired chat is gone for the widget, and everyone else carries on.
    stale = f"{stack.web_url}/api/chat/{expired.conversation_id}/messages"
    assert requests.get(stale, timeout=10).status_code == 404
    assert current.says("thanks")
