"""The ledger and the audit log are append-only in the database itself: a bulk `update()`
or `delete()` (which skips the ORM hooks) and raw SQL are refused by triggers."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from casework import audit, db, ledger
from casework.models import AuditEvent, ConsentEvent


def _seed(database_url: str) -> None:
    with db.session_scope(database_url) as session:
        ledger.record_marketing_opt_out(
            session, subject_key="k1", org="barnet-homes", channels=["sms"], source="chat"
        )
        audit.log(session, "agent@example.org", "ticket.viewed", "SAR-7KQ4MX")


def _decisions(database_url: str) -> list[str]:
    with db.session_scope(database_url) as session:
        return list(session.scalars(select(ConsentEvent.decision)))


def _audit_count(database_url: str) -> int:
    with db.session_scope(database_url) as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


@pytest.mark.parametrize(
    "statement",
    [
        update(ConsentEvent).values(decision="opt_in"),
        delete(ConsentEvent),
        update(AuditEvent).values(actor="someone else"),
        delete(AuditEvent).where(AuditEvent.action == "ticket.viewed"),
        text("UPDATE consent_ledger SET decision = 'opt_in'"),
        text("DELETE FROM audit_log"),
    ],
    ids=[
        "bulk-update-ledger",
        "bulk-delete-ledger",
        "bulk-update-audit",
        "bulk-delete-audit",
        "sql-update-ledger",
        "sql-delete-audit",
    ],
)
def test_bulk_and_raw_sql_rewrites_are_refused(database_url: str, statement: object) -> None:
    _seed(database_url)
    before = _audit_count(database_url)
    with pytest.raises(DBAPIError, match="append-only"):
        with db.session_scope(database_url) as session:
            session.execute(statement)  # type: ignore[call-overload]
    assert _decisions(database_url) == ["opt_out"]
    assert _audit_count(database_url) == before


def test_a_plain_sqlite_connection_is_refused_too(database_url: str) -> None:
    _seed(database_url)
    path = database_url.split("///", 1)[1]
    connection = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="consent_ledger is append-only"):
            connection.execute("UPDATE consent_ledger SET subject_key = 'someone-else'")
        with pytest.raises(sqlite3.IntegrityError, match="audit_log is append-only"):
            connection.execute("DELETE FROM audit_log")
        connection.rollback()
    finally:
        connection.close()
    assert _decisions(database_url) == ["opt_out"]


def test_appending_still_works_and_the_orm_hook_still_explains(database_url: str) -> None:
    _seed(database_url)
    with db.session_scope(database_url) as session:
        ledger.record(
            session,
            subject_key="k1",
            org="barnet-homes",
            purpose=ledger.MARKETING,
            channel="sms",
            decision="opt_in",
            source="chat",
        )
    assert _decisions(database_url) == ["opt_out", "opt_in"]
    with pytest.raises(PermissionError, match="append-only"):
        with db.session_scope(database_url) as session:
            session.scalars(select(ConsentEvent)).first().decision = "withdrawn"


def test_the_triggers_exist_at_the_newest_migration(database_url: str) -> None:
    """A later migration that rebuilds one of these tables (SQLite batch mode) would drop
    its triggers silently; this fails until it creates them again."""
    with db.session_scope(database_url) as session:
        names = set(session.scalars(text("SELECT name FROM sqlite_master WHERE type='trigger'")))
    assert {
        "consent_ledger_no_update",
        "consent_ledger_no_delete",
        "audit_log_no_update",
        "audit_log_no_delete",
    } <= names
