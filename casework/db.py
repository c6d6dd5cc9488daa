"""Engine, sessions and migrations for the casework database.

SQLite by default (one file under DATA_DIR); PostgreSQL when DATABASE_URL says so.
Both the action server and the web process open it, so SQLite runs in WAL mode
with a busy timeout: concurrent writers wait instead of failing.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# How long a SQLite writer waits for another's lock before failing with "database is
# locked" (read when an engine connects; tests shorten it).
BUSY_TIMEOUT_S = 10.0


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    cursor.execute("PRAGMA foreign_keys=ON")
    _ensure_wal(cursor)
    cursor.close()


def _ensure_wal(cursor: Any, attempts: int = 50) -> None:
    """WAL is a property of the file, so only the first connection has to switch it on.
    The switch needs an exclusive lock and SQLite does not wait for that one (no busy
    handler), so a second process opening the file at the same moment retries briefly
    instead of failing its first request."""
    for attempt in range(attempts):
        mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() in ("wal", "memory"):
            return
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.1)


def _with_driver(url: str) -> str:
    """One DATABASE_URL serves both stores: Rasa's SQLAlchemy 1.4 reads `postgresql://` as
    psycopg2, SQLAlchemy 2.1 as psycopg 3; psycopg2 is what both environments install."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg2://" + url.split("://", 1)[1]
    return url


@cache
def get_engine(url: str) -> Engine:
    url = _with_driver(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


@cache
def _session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(get_engine(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A transaction: commits on success, rolls back on any error (no half-written record)."""
    session = _session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", _with_driver(url).replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")
