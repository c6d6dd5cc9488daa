"""Scale-out storage: the same migrations and records on a real PostgreSQL server."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from casework import conversations, db, ledger, sar
from casework.models import AuditEvent, ConsentEvent, Message
from tests.fakes.postgres import ThrowawayPostgres

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with ThrowawayPostgres() as server:
        url = server.create_database("casework")
        db.upgrade(url)
        yield url


def test_migrations_and_a_sar_on_postgres(pg_url: str) -> None:
    with db.session_scope(pg_url) as session:
        conversation = conversations.create(session, "barnet-homes", "web")
        ticket = sar.create_sar(
            session,
            org="barnet-homes",
            channel="web",
            conversation_id=conversation.id,
            requester_name="Ann",
            contact="ann@example.org",
            contact_method="email",
            records_locator="NW9 4EW",
            scope="everything",
            received_on=date(2026, 1, 31),
        )
        reference = ticket.reference
    with db.session_scope(pg_url) as session:
        from casework.tickets import get_ticket

        assert get_ticket(session, reference).sar.due_on == date(2026, 3, 2)


def test_concurrent_writers_lose_nothing(pg_url: str) -> None:
    """Several web workers store inbound messages and ledger entries at once."""
    with db.session_scope(pg_url) as session:
        conversation_id = conversations.create(session, "barnet-homes", "sms").id

    def write(i: int) -> None:
        with db.session_scope(pg_url) as session:
            conversation = conversations.get(session, conversation_id)
            conversations.record_inbound(session, conversation, f"message {i}", f"SM{i:030d}")
            # A retried webhook with the same MessageSid must be dropped.
            conversations.record_inbound(session, conversation, f"message {i}", f"SM{i:030d}")
            ledger.record_marketing_opt_out(
                session,
                subject_key=f"k{i}",
                org="barnet-homes",
                channels="all",
                source="sms_keyword",
            )

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(40)))
    with db.session_scope(pg_url) as session:
        count = select(func.count(Message.id)).where(Message.conversation_id == conversation_id)
        assert session.scalar(count) == 40
        assert session.scalar(select(func.count(ConsentEvent.id))) == 160


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE consent_ledger SET decision = 'opt_in'",
        "DELETE FROM consent_ledger",
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ],
)
def test_postgres_refuses_rewriting_the_ledger_and_audit_log(pg_url: str, sql: str) -> None:
    with db.session_scope(pg_url) as session:
        ledger.record_marketing_opt_out(
            session, subject_key="append-only", org="barnet-homes", channels="sms", source="chat"
        )
    with db.session_scope(pg_url) as session:
        before = session.scalar(select(func.count(AuditEvent.id)))
    with pytest.raises(DBAPIError, match="append-only"):
        with db.session_scope(pg_url) as session:
            session.execute(text(sql))
    with pytest.raises(DBAPIError, match="append-only"):  # the ORM's bulk path too
        with db.session_scope(pg_url) as session:
            session.execute(update(ConsentEvent).values(decision="opt_in"))
    with db.session_scope(pg_url) as session:
        assert session.scalar(select(func.count(AuditEvent.id))) == before
        decisions = session.scalars(
            select(ConsentEvent.decision).where(ConsentEvent.subject_key == "append-only")
        ).all()
        assert set(decisions) == {"opt_out"}


def test_retention_purge_on_postgres_with_rasas_tracker_there_too() -> None:
    """Scale-out: casework and Rasa's tracker store both on PostgreSQL."""
    from casework import retention
    from tests.unit.test_retention import assert_purged, seed, seed_tracker

    with ThrowawayPostgres() as server:
        url, tracker_url = server.create_database("purge"), server.create_database("tracker")
        db.upgrade(url)
        aged = seed(url)
        seed_tracker(tracker_url, aged)  # written by Rasa's own SQLTrackerStore
        with db.session_scope(url) as session:
            result = retention.purge_expired(session, 90, tracker_url)
        assert (result.conversations_deleted, result.tracker_events_deleted) == (2, 9)
        assert_purged(url, tracker_url, aged)
        db.get_engine(url).dispose()
        db.get_engine(tracker_url).dispose()


def test_cli_purge_finds_rasas_tracker_in_the_casework_database(tmp_path) -> None:  # noqa: ANN001
    """PostgreSQL casework and no TRACKER_URL: the runner gives Rasa the same database
    (its `events` table beside casework's), and `privacybot db purge` finds it there."""
    import json
    import subprocess
    import sys

    from tests.unit.test_retention import _cli_env, assert_purged, seed, seed_tracker

    with ThrowawayPostgres() as server:
        url = server.create_database("shared")
        db.upgrade(url)
        aged = seed(url)
        seed_tracker(url, aged)
        done = subprocess.run(
            [sys.executable, "-m", "privacybot.cli", "db", "purge"],
            env={**_cli_env(tmp_path, url), "PSEUDONYM_KEY": "p"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        counts = json.loads(done.stdout.strip().splitlines()[-1])
        assert (counts["conversations_deleted"], counts["tracker_events_deleted"]) == (2, 9)
        assert_purged(url, url, aged)
        db.get_engine(url).dispose()
