"""Retention: aged rows in a real SQLite casework database and a tracker store written by
Rasa's own SQLTrackerStore (in the Rasa environment); every copy past the retention
period goes, open tickets, the ledger, SAR records and the audit log stay."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from casework import conversations, db, ledger, retention, sar, tickets
from casework.models import (
    AuditEvent,
    ConsentEvent,
    Conversation,
    Message,
    OutboundMessage,
    SarRequest,
    TicketKind,
    utcnow,
)
from privacybot.settings import PROJECT_ROOT

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
DAY = 86400.0

# Runs in the Rasa environment: trackers saved exactly as `rasa run` saves them.
_WRITE_TRACKERS = """
import asyncio, json, sys
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

url, senders = sys.argv[1], json.loads(sys.argv[2])
store = SQLTrackerStore(Domain.empty(), host=url)

async def main():
    for sender_id, at in senders.items():
        tracker = DialogueStateTracker(sender_id, slots=[])
        tracker.update(UserUttered("my phone is 07700 900123", timestamp=at))
        tracker.update(ActionExecuted("action_listen", timestamp=at))
        tracker.update(BotUttered("Thanks", timestamp=at))
        await store.save(tracker)

asyncio.run(main())
"""


def write_rasa_trackers(url: str, senders: dict[str, float]) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["SQLALCHEMY_SILENCE_UBER_WARNING"] = "1"
    env["RASA_TELEMETRY_ENABLED"] = "false"
    subprocess.run(
        [str(RASA_PYTHON), "-c", _WRITE_TRACKERS, url, json.dumps(senders)],
        check=True,
        env=env,
        capture_output=True,
        timeout=120,
    )


def tracker_senders(url: str) -> dict[str, int]:
    with db.get_engine(url).connect() as connection:
        rows = connection.execute(text("SELECT sender_id, COUNT(*) FROM events GROUP BY 1"))
        return {str(sender): int(n) for sender, n in rows}


@dataclass
class Aged:
    idle_web: str
    idle_sms: str
    kept_open: str
    recent: str
    resolved_ref: str
    open_ref: str
    sms_key: str


def _age_conversation(session, conversation_id: str, days: int) -> None:
    old = utcnow() - timedelta(days=days)
    session.get(Conversation, conversation_id).last_activity_at = old
    for message in session.scalars(
        select(Message).where(Message.conversation_id == conversation_id)
    ):
        message.created_at = old


def seed(database_url: str) -> Aged:
    """120-day-old chats (one web, one SMS with its outbox and opt-out), an old chat kept
    by an open SAR, a resolved ticket with a transcript, and yesterday's chat."""
    with db.session_scope(database_url) as session:
        web = conversations.create(session, "barnet-homes", "web")
        conversations.record_inbound(session, web, "my address is 1 Example Road")
        conversations.record_outbound(session, web, "Thanks")
        phone = conversations.get_or_create_sms(session, "07700 900123", "barnet-homes", "k")
        conversations.record_inbound(session, phone, "STOP", external_id="SM" + "a" * 32)
        ledger.record_marketing_opt_out(
            session,
            subject_key=phone.sender_key,
            org="barnet-homes",
            channels=["sms"],
            source="sms_keyword",
            source_conversation=phone.id,
        )
        session.add(
            OutboundMessage(
                conversation_id=phone.id,
                channel="sms",
                to=phone.address,
                body="You have been unsubscribed",
                status="twiml",
                created_at=utcnow() - timedelta(days=120),
            )
        )
        session.add(
            OutboundMessage(
                conversation_id=phone.id, channel="sms", to=phone.address, body="new", status="sent"
            )
        )
        open_sar = sar.create_sar(
            session,
            org="barnet-homes",
            channel="web",
            conversation_id=conversations.create(session, "barnet-homes", "web").id,
            requester_name="Ann Example",
            contact="ann@example.org",
            contact_method="email",
            records_locator="NW9 4EW",
            scope="everything",
            received_on=date.today() - timedelta(days=120),
        )
        resolved = tickets.create_ticket(
            session,
            kind=TicketKind.HANDOFF,
            org="barnet-homes",
            channel="web",
            summary="asked for a person",
            conversation_id=web.id,
            transcript=[{"author": "resident", "text": "my address is 1 Example Road"}],
        )
        tickets.resolve(session, resolved, "agent@example.org", "answered")
        resolved.resolved_at = utcnow() - timedelta(days=100)
        recent = conversations.create(session, "barnet-homes", "web")
        conversations.record_inbound(session, recent, "yesterday's question")
        session.flush()
        for conversation_id in (web.id, phone.id, open_sar.conversation_id):
            _age_conversation(session, conversation_id, 120)
        return Aged(
            idle_web=web.id,
            idle_sms=phone.id,
            kept_open=open_sar.conversation_id,
            recent=recent.id,
            resolved_ref=resolved.reference,
            open_ref=open_sar.reference,
            sms_key=phone.sender_key,
        )


def seed_tracker(url: str, aged: Aged) -> None:
    now = time.time()
    write_rasa_trackers(
        url,
        {
            aged.idle_web: now - 120 * DAY,
            aged.idle_sms: now - 120 * DAY,
            aged.kept_open: now - 120 * DAY,
            aged.recent: now - DAY,
            "rest-channel-tester": now - 200 * DAY,  # Rasa's REST channel: casework never saw it
            "rest-recent": now - DAY,
        },
    )


@pytest.fixture
def tracker_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'rasa-tracker.db'}"


def assert_purged(database_url: str, tracker_url: str, aged: Aged) -> None:
    with db.session_scope(database_url) as session:
        left = set(session.scalars(select(Conversation.id)))
        assert left == {aged.kept_open, aged.recent}
        texts = set(session.scalars(select(Message.text)))
        assert texts == {"yesterday's question"}  # the open SAR's chat had no messages
        assert [r.body for r in session.scalars(select(OutboundMessage))] == ["new"]
        resolved = tickets.get_ticket(session, aged.resolved_ref)
        assert resolved is not None and resolved.transcript == [] and resolved.summary
        open_sar = tickets.get_ticket(session, aged.open_ref)
        assert open_sar is not None and open_sar.sar.requester_name == "Ann Example"
        assert session.scalar(select(func.count()).select_from(SarRequest)) == 1
        # The suppression list outlives the conversation it came from.
        assert ledger.is_marketing_opted_out(session, aged.sms_key, "barnet-homes", "sms")
        assert session.scalar(select(func.count()).select_from(ConsentEvent)) == 1
        actions = list(session.scalars(select(AuditEvent.action)))
        assert {"ticket.created", "ledger.opt_out", "retention.purge"} <= set(actions)
    assert tracker_senders(tracker_url) == {aged.kept_open: 3, aged.recent: 3, "rest-recent": 3}


def test_purge_deletes_every_expired_copy_and_keeps_what_the_law_needs(
    database_url: str, tracker_url: str
) -> None:
    aged = seed(database_url)
    seed_tracker(tracker_url, aged)
    with db.session_scope(database_url) as session:
        result = retention.purge_expired(session, 90, tracker_url)
    assert result.counts() == {
        "conversations_deleted": 2,
        "messages_deleted": 3,
        "outbox_deleted": 1,
        "transcripts_scrubbed": 1,
        "tracker_events_deleted": 9,
    }
    assert_purged(database_url, tracker_url, aged)
    with db.session_scope(database_url) as session:
        [entry] = session.scalars(select(AuditEvent).where(AuditEvent.action == "retention.purge"))
        assert entry.actor == "system" and entry.detail["messages_deleted"] == 3
        assert entry.detail["retention_days"] == 90
        # Counts only: no conversation ids or numbers in the audit entry.
        assert aged.idle_web not in json.dumps(entry.detail)
    # A second run finds nothing more (the scrubbed transcript is not counted again).
    with db.session_scope(database_url) as session:
        again = retention.purge_expired(session, 90, tracker_url)
    assert set(again.counts().values()) == {0}


def test_a_longer_retention_period_keeps_everything(database_url: str, tracker_url: str) -> None:
    aged = seed(database_url)
    seed_tracker(tracker_url, aged)
    with db.session_scope(database_url) as session:
        result = retention.purge_expired(session, 365, tracker_url)
        assert set(result.counts().values()) == {0}
        assert session.scalar(select(func.count()).select_from(Conversation)) == 4
    assert len(tracker_senders(tracker_url)) == 6


def test_an_unreachable_tracker_store_does_not_stop_the_casework_purge(
    database_url: str, tmp_path: Path
) -> None:
    seed(database_url)
    (tmp_path / "not-a-db").write_text("this is not SQLite")
    with db.session_scope(database_url) as session:
        result = retention.purge_expired(session, 90, f"sqlite:///{tmp_path / 'not-a-db'}")
    assert result.conversations_deleted == 2 and result.tracker_error == "DatabaseError"
    with db.session_scope(database_url) as session:
        [entry] = session.scalars(select(AuditEvent).where(AuditEvent.action == "retention.purge"))
        assert entry.detail["tracker_error"] == "DatabaseError"


def test_a_missing_tracker_file_is_not_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'never.db'}"
    assert retention.forget_tracker(url, ["x"]) == 0
    assert not (tmp_path / "never.db").exists()


@pytest.mark.parametrize(
    "extra",
    [
        {},  # SQLite casework: Rasa gets a file of its own beside it
        {"DATABASE_URL": "postgresql+psycopg2://u@127.0.0.1:1/casework"},  # Rasa shares it
        {"TRACKER_URL": "postgresql+psycopg2://u@127.0.0.1:1/tracker"},  # named explicitly
    ],
    ids=["sqlite-default", "postgres-default", "explicit"],
)
def test_the_purge_looks_where_the_runner_puts_rasas_tracker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: dict[str, str]
) -> None:
    from privacybot.runner import make_stack
    from privacybot.settings import load_settings

    for name in ("TRACKER_URL", "DATABASE_URL", "PRIVACYBOT_ENV"):
        monkeypatch.delenv(name, raising=False)
    env = {
        "DATA_DIR": str(tmp_path),
        "SECRET_KEY": "k",
        "PSEUDONYM_KEY": "p",
        "RASA_TOKEN": "t",
        "TWILIO_AUTH_TOKEN": "t",
        **extra,
    }
    given_to_rasa = make_stack(env).env["TRACKER_URL"]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert load_settings().tracker_store_url == given_to_rasa
    expected = extra.get("TRACKER_URL") or extra.get("DATABASE_URL")
    assert given_to_rasa == (expected or f"sqlite:///{tmp_path / 'rasa-tracker.db'}")


def _cli_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    # No TRACKER_URL: the purge must find Rasa's store where privacybot run puts it.
    env = {k: v for k, v in os.environ.items() if k not in ("TRACKER_URL", "PRIVACYBOT_ENV")}
    env.update(
        DATA_DIR=str(tmp_path),
        DATABASE_URL=database_url,
        SECRET_KEY="k",
        RASA_TOKEN="t",
        TWILIO_AUTH_TOKEN="t",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    return env


def test_cli_purge_exits_0_prints_counts_and_finds_rasas_default_store(
    database_url: str, tmp_path: Path
) -> None:
    aged = seed(database_url)
    tracker_url = f"sqlite:///{tmp_path / 'rasa-tracker.db'}"  # privacybot.runner's default
    seed_tracker(tracker_url, aged)
    done = subprocess.run(
        [sys.executable, "-m", "privacybot.cli", "db", "purge"],
        env=_cli_env(tmp_path, database_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts["conversations_deleted"] == 2 and counts["tracker_events_deleted"] == 9
    assert "Traceback" not in done.stderr
    assert_purged(database_url, tracker_url, aged)


def test_cli_purge_every_repeats_and_stops_cleanly_on_sigterm(
    database_url: str, tmp_path: Path
) -> None:
    seed(database_url)
    loop = subprocess.Popen(
        [sys.executable, "-m", "privacybot.cli", "db", "purge", "--every", "0.5"],
        env=_cli_env(tmp_path, database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        runs = 0
        while runs < 2 and time.monotonic() < deadline:
            with db.session_scope(database_url) as session:
                runs = session.scalar(
                    select(func.count()).where(AuditEvent.action == "retention.purge")
                )
            time.sleep(0.2)
        assert runs >= 2  # it ran, slept and ran again
    finally:
        loop.send_signal(signal.SIGTERM)
        out, err = loop.communicate(timeout=30)
    assert loop.returncode == 0, err
    assert "Traceback" not in err
    first = json.loads(out.splitlines()[1])
    assert first["conversations_deleted"] == 2
    assert json.loads(out.splitlines()[2])["conversations_deleted"] == 0


def test_make_run_starts_the_scheduled_purge_and_stops_it(
    database_url: str, tmp_path: Path
) -> None:
    from privacybot.runner import make_stack, retention_process

    seed(database_url)
    stack = make_stack({**_cli_env(tmp_path, database_url), "PURGE_INTERVAL_SECONDS": "3600"})
    process = stack.add(retention_process(stack), tmp_path / "logs")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with db.session_scope(database_url) as session:
                purges = session.scalar(
                    select(func.count()).where(AuditEvent.action == "retention.purge")
                )
            if purges:
                break
            time.sleep(0.2)
    finally:
        stack.stop()
    assert process.popen is not None and process.popen.returncode == 0
    log = (tmp_path / "logs" / "retention.log").read_text()
    assert "every 3600 s" in log and '"conversations_deleted": 2' in log
