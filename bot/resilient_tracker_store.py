"""Rasa's SQL tracker store, made to ride out a database restart.

Stock `SQLTrackerStore` keeps pooled connections without checking them, so the first
turn after PostgreSQL restarts fails on a dead connection. Rasa wraps every tracker
store in `FailSafeTrackerStore`, which turns that failure into silence: a failed read
starts the conversation afresh (a form in progress is forgotten) and a failed write goes
to memory only, while the REST channel still answers 200. So the failure must not reach
Rasa at all: connections are checked before use (`pool_pre_ping`) and a read or write
that fails on the connection is retried for a few seconds, about as long as a restart.

Loaded by Rasa from `endpoints.yml` and `endpoints.scale-out.yml`
(`type: resilient_tracker_store.ResilientSQLTrackerStore`); Rasa runs with `bot/` as its
working directory, which it puts on the import path.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs

# Both endpoint files name this module, so Rasa's check of action responses is patched
# here (its JSON Schema validator built once) before any action runs, and so are two
# per-turn costs of Rasa's tracker code (rasa_hot_paths).
import action_response_check  # noqa: F401
import rasa_hot_paths  # noqa: F401

log = logging.getLogger(__name__)
T = TypeVar("T")

# Waits between attempts, in seconds: about 12 s in all, a PostgreSQL restart.
RETRY_WAITS = (0.25, 0.5, 1.0, 2.0, 4.0, 4.0)


def transient(error: Exception) -> bool:
    """A lost or refused connection (worth retrying), not a bad statement."""
    return isinstance(error, sa.exc.OperationalError) or (
        isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")  # the web side deletes trackers (retention)
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def sqlite_engine(url: Any) -> sa.engine.Engine:
    """The default SQLite tracker file, tuned for a turn's one read and one write: WAL
    with synchronous=NORMAL (no fsync per commit: an application crash loses nothing, a
    power cut at most the last turns of Rasa's own memory, the casework store keeps every
    message), and pooled connections (SQLAlchemy 1.4 opens a new SQLite connection per
    session otherwise, re-reading the schema each time). No pre-ping: a file does not
    restart. Rasa's tracker store runs on its one event-loop thread; the pool hands a
    connection to one user at a time, so it may move between threads."""
    engine = sa.create_engine(
        url,
        poolclass=sa.pool.QueuePool,
        pool_size=2,
        max_overflow=4,
        connect_args={"check_same_thread": False},
    )
    sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class ResilientSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore with connections checked before use and transient errors retried."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        if url.get_backend_name() == "sqlite":
            self.engine = sqlite_engine(url)
        else:
            self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def _retrying(self, call: Callable[..., Awaitable[T]], *args: Any) -> T:
        for wait in (*RETRY_WAITS, None):
            try:
                return await call(*args)
            except sa.exc.DBAPIError as error:
                if wait is None or not transient(error):
                    raise
                log.warning("tracker store unavailable (%s); retrying in %.2f s", error, wait)
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    async def retrieve(self, sender_id: str) -> Any:
        return await self._retrying(super().retrieve, sender_id)

    async def retrieve_full_tracker(self, sender_id: str) -> Any:
        return await self._retrying(super().retrieve_full_tracker, sender_id)

    async def save(self, tracker: Any) -> None:
        await self._retrying(super().save, tracker)
