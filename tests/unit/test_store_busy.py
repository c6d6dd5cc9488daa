"""The casework store busy beyond its busy timeout (another connection holds SQLite's
write lock): a web message is refused politely with a retry hint and nothing half-stored;
an SMS, which Twilio would not send again, is kept on disk with one holding reply and
stored and answered once when the lock is gone."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

import casework.db
from casework.db import session_scope
from casework.models import Message, OutboundMessage
from tests.browser.fake_rasa import FakeRasa
from tests.browser.webapp import settings_for
from tests.unit.test_web_sms import PUBLIC, inbound, post_signed
from webhook import create_app, spool
from webhook.chat import BUSY_TEXT
from webhook.sms import ingest_spool
from webhook.state import state


@pytest.fixture
def app(tmp_path: Path, rasa: FakeRasa, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setattr(casework.db, "BUSY_TIMEOUT_S", 0.3)  # the test's own engine only
    return create_app(settings_for(tmp_path, rasa.url, public_base_url=PUBLIC), background=False)


@contextmanager
def write_locked(app: Flask) -> Iterator[None]:
    """Another connection (a backup, a migration, a stuck process) holds the write lock."""
    path = state(app).settings.database_url.split("///", 1)[1]
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def inbound_texts(app: Flask) -> list[tuple[str, bool]]:
    with session_scope(state(app).settings.database_url) as session:
        rows = session.scalars(select(Message).where(Message.direction == "in")).all()
        return [(m.text, m.processed_at is not None) for m in rows]


def test_a_web_message_the_store_cannot_take_gets_a_polite_503_with_a_retry_hint(
    app: Flask, rasa: FakeRasa
) -> None:
    client = app.test_client()
    with write_locked(app):
        busy = client.post("/api/chat", json={"text": "hello there"})
    assert busy.status_code == 503 and busy.is_json
    assert busy.get_json() == {"error": BUSY_TEXT, "status": 503, "retry_after": 2}
    assert inbound_texts(app) == [] and rasa.received == []  # nothing taken, nothing lost
    # The widget sends it again: answered once.
    again = client.post("/api/chat", json={"text": "hello there"}).get_json()
    assert [m["text"] for m in again["messages"]] == ["You said: hello there"]
    assert inbound_texts(app) == [("hello there", True)]


def test_sms_while_the_store_is_busy_is_spooled_then_answered_once(
    app: Flask, rasa: FakeRasa
) -> None:
    client = app.test_client()
    st = state(app)
    first, second = inbound("what do you hold on me?"), inbound("and who sees it?")
    with write_locked(app):
        held = post_signed(client, "/sms/inbound", first)
        quiet = post_signed(client, "/sms/inbound", second)
        assert ingest_spool(st) == 0  # still locked: kept on disk
    assert held.status_code == quiet.status_code == 200
    assert st.org.holding_reply in held.get_data(as_text=True)  # one holding reply...
    assert "<Message>" not in quiet.get_data(as_text=True)  # ...per phone, not per text
    assert len(spool.pending(st.settings.data_dir)) == 2

    assert ingest_spool(st) == 2
    st.wait_idle()
    assert spool.pending(st.settings.data_dir) == []
    assert inbound_texts(app) == [("what do you hold on me?", True), ("and who sees it?", True)]
    assert [t for _, t in rasa.received] == ["what do you hold on me?", "and who sees it?"]
    # A crash after storing but before deleting the file: the sid is known, nothing twice.
    spool.put(st.settings.data_dir, first, held=True)
    assert ingest_spool(st) == 1
    st.wait_idle()
    assert len(inbound_texts(app)) == 2 and len(rasa.received) == 2
    with session_scope(st.settings.database_url) as session:
        out = session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
        assert [r.body for r in out] == [
            "You said: what do you hold on me?",
            "You said: and who sees it?",
        ]
        holding = session.scalars(
            select(Message).where(Message.author == "system", Message.text == st.org.holding_reply)
        ).all()
        assert len(holding) == 1  # what the TwiML said, on record once


def test_stop_while_the_store_is_busy_is_not_lost(app: Flask) -> None:
    from casework import ledger
    from casework.models import Conversation

    client = app.test_client()
    with write_locked(app):
        assert post_signed(client, "/sms/inbound", inbound("STOP")).status_code == 200
    assert ingest_spool(state(app)) == 1
    with session_scope(state(app).settings.database_url) as session:
        [conversation] = session.scalars(select(Conversation)).all()
        assert conversation.sms_blocked
        key, org = conversation.sender_key or "", state(app).org.id
        assert ledger.is_marketing_opted_out(session, key, org, "sms")
        assert any(e.decision == "opt_out" for e in ledger.history(session, key, org))
