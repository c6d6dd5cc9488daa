"""Scale-out storage: the same migrations and records on a real PostgreSQL server."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import func, select

from casework import conversations, db, ledger, sar
from casework.models import ConsentEvent, Message
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
