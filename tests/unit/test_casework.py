"""Casework records: tickets, SAR workflow, consent ledger, staff accounts, retention."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from casework import audit, conversations, db, handoff, ledger, retention, sar, staff, tickets
from casework.models import (
    AuditEvent,
    ConsentEvent,
    Conversation,
    ConversationState,
    Message,
    TicketKind,
    TicketStatus,
    utcnow,
)
from casework.pseudonym import mask_phone, normalise_phone, subject_key


def _sar(session, received=date(2026, 11, 3)):
    conversation = conversations.create(session, "barnet-homes", "web")
    return sar.create_sar(
        session,
        org="barnet-homes",
        channel="web",
        conversation_id=conversation.id,
        requester_name="Ann Example",
        contact="ann@example.org",
        contact_method="email",
        records_locator="NW9 4EW",
        scope="everything",
        received_on=received,
    )


def test_sar_is_created_with_reference_and_due_date(database_url: str) -> None:
    with db.session_scope(database_url) as session:
        ticket = _sar(session)
        reference = ticket.reference
    with db.session_scope(database_url) as session:
        stored = tickets.get_ticket(session, reference.lower())
        assert stored.kind == TicketKind.SAR
        assert stored.reference.startswith("SAR-") and len(stored.reference) == 10
        assert stored.sar.due_on == date(2026, 12, 3)
        assert tickets.ticket_to_dict(stored)["due_date"] == "2026-12-03"
        actions = [e.action for e in session.scalars(select(AuditEvent))]
        assert {"ticket.created", "sar.received"} <= set(actions)


def test_sar_clock_workflow_moves_the_due_date(database_url: str) -> None:
    with db.session_scope(database_url) as session:
        ticket = _sar(session)
        sar.request_id(session, ticket, "agent@x.org")
        assert ticket.sar.due_on is None and ticket.status == TicketStatus.WAITING
        sar.mark_id_received(session, ticket, date(2026, 11, 10), "agent@x.org")
        assert ticket.sar.due_on == date(2026, 12, 10)
        sar.pause(session, ticket, date(2026, 11, 12), "agent@x.org", "which repairs?")
        with pytest.raises(ValueError, match="already paused"):
            sar.pause(session, ticket, date(2026, 11, 13), "agent@x.org", "again")
        sar.resume(session, ticket, date(2026, 11, 16), "agent@x.org")
        assert ticket.sar.paused_days == 4
        assert ticket.sar.due_on == date(2026, 12, 14)
        sar.extend(session, ticket, "numerous records", "agent@x.org", today=date(2026, 11, 20))
        assert ticket.sar.due_on == date(2027, 2, 15)  # 14 Feb 2027 is a Sunday
        with pytest.raises(ValueError, match="already been extended"):
            sar.extend(session, ticket, "again", "agent@x.org", today=date(2026, 11, 21))
        sar.close(session, ticket, "sent by secure email", "agent@x.org")
        assert ticket.status == TicketStatus.RESOLVED


AGENT = "agent@x.org"
LATER = date(2026, 11, 30)  # "today" in the edge tests below


def test_id_received_without_a_request_does_not_restart_the_clock(database_url: str) -> None:
    with db.session_scope(database_url) as session:
        ticket = _sar(session)  # received 3 Nov 2026: due 3 Dec
        sar.mark_id_received(session, ticket, date(2026, 11, 20), AGENT, today=LATER)
        assert ticket.sar.due_on == date(2026, 12, 3)
        assert ticket.sar.id_received_on == date(2026, 11, 20)
        event = audit.events_for(session, ticket.reference)[-1]
        assert event.action == "sar.id_received" and event.detail["clock_restarted"] is False


def test_requested_id_restarts_the_clock_once(database_url: str) -> None:
    with db.session_scope(database_url) as session:
        ticket = _sar(session)
        sar.request_id(session, ticket, AGENT, today=date(2026, 11, 4))
        sar.mark_id_received(session, ticket, date(2026, 11, 10), AGENT, today=LATER)
        assert ticket.sar.due_on == date(2026, 12, 10)
        with pytest.raises(ValueError, match="already recorded as received on 10 November"):
            sar.mark_id_received(session, ticket, date(2026, 11, 25), AGENT, today=LATER)
        assert ticket.sar.due_on == date(2026, 12, 10)


@pytest.mark.parametrize(
    ("step", "on", "message"),
    [
        ("id_received", date(2026, 12, 1), "in the future"),
        ("id_received", date(2026, 11, 2), "before the request was received"),
        ("pause", date(2026, 12, 1), "in the future"),
        ("pause", date(2026, 10, 30), "before the request was received"),
    ],
)
def test_dates_staff_enter_are_checked(
    database_url: str, step: str, on: date, message: str
) -> None:
    with db.session_scope(database_url) as session:
        ticket = _sar(session)
        with pytest.raises(ValueError, match=message):
            if step == "id_received":
                sar.mark_id_received(session, ticket, on, AGENT, today=LATER)
            else:
                sar.pause(session, ticket, on, AGENT, "which years?", today=LATER)
        assert ticket.sar.id_received_on is None and ticket.sar.paused_on is None


def test_resume_date_is_checked_against_the_pause_and_today(database_url: str) -> None:
    with db.session_scope(database_url) as session:
        ticket = _sar(session)
        sar.pause(session, ticket, date(2026, 11, 12), AGENT, "which years?", today=LATER)
        with pytest.raises(ValueError, match="paused on 12 November 2026, after 11 November"):
            sar.resume(session, ticket, date(2026, 11, 11), AGENT, today=LATER)
        with pytest.raises(ValueError, match="in the future"):
            sar.resume(session, ticket, date(2026, 12, 1), AGENT, today=LATER)
        assert sar.paused_days_so_far(ticket.sar, LATER) == 18
        sar.resume(session, ticket, date(2026, 11, 16), AGENT, today=LATER)
        assert ticket.sar.paused_days == 4 and ticket.sar.due_on == date(2026, 12, 7)


def test_id_request_after_the_due_date_is_refused_with_the_reason(database_url: str) -> None:
    with db.session_scope(database_url) as session:
        ticket = _sar(session)  # due 3 Dec 2026
        with pytest.raises(ValueError, match="too late to ask for ID: .* due on 03 December 2026"):
            sar.request_id(session, ticket, AGENT, today=date(2026, 12, 4))
        assert ticket.sar.id_required is False and ticket.sar.due_on == date(2026, 12, 3)
        sar.request_id(session, ticket, AGENT, today=date(2026, 12, 3))  # the last day is fine
        assert ticket.sar.due_on is None


def test_a_pause_from_after_the_due_date_is_refused(database_url: str) -> None:
    with db.session_scope(database_url) as session:
        ticket = _sar(session)  # due 3 Dec 2026
        with pytest.raises(ValueError, match="too late to pause: .* due on 03 December 2026"):
            sar.pause(
                session, ticket, date(2026, 12, 4), AGENT, "which years?", today=date(2026, 12, 10)
            )
        assert ticket.sar.paused_on is None
        sar.pause(
            session, ticket, date(2026, 12, 3), AGENT, "which years?", today=date(2026, 12, 10)
        )
        assert ticket.sar.paused_on == date(2026, 12, 3)


def test_extension_must_be_within_the_first_month(database_url: str) -> None:
    with db.session_scope(database_url) as session:
        ticket = _sar(session, received=date(2026, 9, 1))
        with pytest.raises(ValueError, match="too late"):
            sar.extend(session, ticket, "complex", "agent@x.org", today=date(2026, 10, 5))
        with pytest.raises(ValueError, match="reason"):
            sar.extend(session, ticket, "  ", "agent@x.org", today=date(2026, 9, 5))


def test_ledger_is_append_only_and_latest_choice_wins(database_url: str) -> None:
    with db.session_scope(database_url) as session:
        entries = ledger.record_marketing_opt_out(
            session, subject_key="k1", org="barnet-homes", channels=["sms", "email"], source="chat"
        )
        assert [e.channel for e in entries] == ["email", "sms"]
        assert ledger.is_marketing_opted_out(session, "k1", "barnet-homes", "sms")
        assert not ledger.is_marketing_opted_out(session, "k1", "barnet-homes", "post")
        ledger.record(
            session,
            subject_key="k1",
            org="barnet-homes",
            purpose="marketing",
            channel="sms",
            decision="opt_in",
            source="staff",
        )
        assert not ledger.is_marketing_opted_out(session, "k1", "barnet-homes", "sms")
        assert len(ledger.history(session, "k1")) == 3
    with pytest.raises(PermissionError), db.session_scope(database_url) as session:
        entry = session.scalars(select(ConsentEvent)).first()
        entry.decision = "tampered"
        session.flush()
    with pytest.raises(PermissionError), db.session_scope(database_url) as session:
        session.delete(session.scalars(select(ConsentEvent)).first())
        session.flush()
    with db.session_scope(database_url) as session:
        assert session.scalar(select(func.count(ConsentEvent.id))) == 3


def test_all_channels_expand() -> None:
    assert ledger.expand_channels("all") == ["email", "sms", "phone", "post"]
    assert ledger.expand_channels(["post", "bogus"]) == ["post"]


def test_staff_lockout_after_repeated_failures(database_url: str) -> None:
    with db.session_scope(database_url) as session:
        staff.add_or_update(session, "Agent@Example.org", "a long enough password", "agent")
        with pytest.raises(ValueError):
            staff.add_or_update(session, "b@example.org", "short", "agent")
    for _ in range(staff.MAX_FAILED_LOGINS):
        with db.session_scope(database_url) as session:
            assert staff.authenticate(session, "agent@example.org", "wrong") is None
    with db.session_scope(database_url) as session:
        # Locked: even the right password is refused until the lock-out ends.
        assert staff.authenticate(session, "agent@example.org", "a long enough password") is None
        user = staff.find(session, "agent@example.org")
        user.locked_until = utcnow() - timedelta(seconds=1)
    with db.session_scope(database_url) as session:
        assert staff.authenticate(session, "agent@example.org", "a long enough password")


def test_api_tokens_are_stored_hashed(database_url: str) -> None:
    with db.session_scope(database_url) as session:
        staff.add_or_update(session, "a@example.org", "a long enough password", "admin")
        token = staff.issue_token(session, "a@example.org")
        stored = staff.find(session, "a@example.org").tokens
        assert [t.token_hash for t in stored] != [token] and token not in stored[0].token_hash
        assert staff.user_for_token(session, token).email == "a@example.org"
        assert staff.user_for_token(session, token + "x") is None


def test_sms_conversation_per_phone_keeps_no_raw_key(database_url: str) -> None:
    with db.session_scope(database_url) as session:
        first = conversations.get_or_create_sms(session, "07700 900123", "barnet-homes", "s")
        again = conversations.get_or_create_sms(session, "+447700900123", "barnet-homes", "s")
        assert first.id == again.id
        assert "900123" not in first.sender_key and "900123" not in first.id
        assert first.sender_key == subject_key("+447700900123", "s")


def test_inbound_messages_are_deduplicated_by_external_id(database_url: str) -> None:
    with db.session_scope(database_url) as session:
        conversation = conversations.create(session, "barnet-homes", "sms")
        assert conversations.record_inbound(session, conversation, "hi", external_id="SM1")
        assert conversations.record_inbound(session, conversation, "hi", external_id="SM1") is None
        stored = conversations.messages_after(session, conversation.id)
        assert [(m.direction, m.text) for m in stored] == [("in", "hi")]


def test_handoff_gives_the_conversation_to_staff_and_back(database_url: str) -> None:
    with db.session_scope(database_url) as session:
        conversation = conversations.create(session, "barnet-homes", "web")
        ticket = handoff.open_handoff(
            session,
            conversation_id=conversation.id,
            org="barnet-homes",
            reason="asked for a person",
        )
        again = handoff.open_handoff(
            session, conversation_id=conversation.id, org="barnet-homes", reason="again"
        )
        assert again.id == ticket.id  # one open handoff per conversation
        assert conversation.state == ConversationState.STAFF
        handoff.hand_back(session, ticket, "agent@x.org", "answered")
        assert conversation.state == ConversationState.BOT
        assert ticket.status == TicketStatus.RESOLVED


def test_sms_stop_flags_the_residents_tickets(database_url: str) -> None:
    with db.session_scope(database_url) as session:
        ticket = _sar(session)
        assert tickets.flag_sms_unreachable(session, ticket.conversation_id, True) == 1
        assert ticket.sms_unreachable


def test_retention_purges_idle_conversations_without_open_tickets(database_url: str) -> None:
    old = utcnow() - timedelta(days=120)
    with db.session_scope(database_url) as session:
        idle = conversations.create(session, "barnet-homes", "web")
        conversations.record_inbound(session, idle, "old chat")
        idle.last_activity_at = old
        kept = _sar(session)
        session.get(Conversation, kept.conversation_id).last_activity_at = old
        result = retention.purge_expired(session, retention_days=90)
        assert result.conversations_deleted == 1
    with db.session_scope(database_url) as session:
        assert session.get(Conversation, idle.id) is None
        assert session.scalar(select(func.count(Message.id))) == 0
        assert session.get(Conversation, kept.conversation_id) is not None


def test_phone_helpers() -> None:
    assert normalise_phone("07700 900123") == "+447700900123"
    assert normalise_phone("0044 7700 900123") == "+447700900123"
    assert mask_phone("07700900123") == "+44*******123"


def test_forget_tracker_deletes_rasas_copy_of_the_conversation(tmp_path) -> None:
    """Rasa's tracker store (table `events`, keyed by sender id) is cleared too."""
    from sqlalchemy import create_engine, text

    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT)"))
        connection.execute(
            text("INSERT INTO events (sender_id) VALUES ('gone'), ('gone'), ('kept')")
        )
    assert retention.forget_tracker(url, ["gone"]) == 2
    with engine.connect() as connection:
        left = connection.execute(text("SELECT sender_id FROM events")).scalars().all()
    assert left == ["kept"]
    assert retention.forget_tracker(None, ["kept"]) == 0
    assert retention.forget_tracker(f"sqlite:///{tmp_path / 'empty.db'}", ["kept"]) == 0


def test_migration_carries_an_old_token_over_with_an_expiry(tmp_path) -> None:  # noqa: ANN001
    """Revision 0004: a token issued before it keeps working for 90 days, then expires;
    the old never-expiring column is emptied."""
    from alembic import command
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(db.alembic_config(url), "0003_append_only")
    old_token = "an-old-token-from-before-expiry"
    with db.get_engine(url).begin() as connection:
        connection.execute(
            text(
                "INSERT INTO staff_users (email, name, role, password_hash, api_token_hash, "
                "failed_logins, active, created_at) VALUES ('old@example.org', 'Old', 'agent', "
                "'x', :hash, 0, 1, '2026-01-01 00:00:00')"
            ),
            {"hash": staff._token_hash(old_token)},
        )
    db.upgrade(url)
    with db.session_scope(url) as session:
        assert staff.user_for_token(session, old_token).email == "old@example.org"
        later = utcnow() + timedelta(days=91)
        assert staff.user_for_token(session, old_token, now=later) is None
        left = session.execute(text("SELECT api_token_hash FROM staff_users")).scalar()
        assert left is None
