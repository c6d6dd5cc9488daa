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
# here (its JSON Schema validator built once) before any action runs.
import action_response_check  # noqa: F401

log = logging.getLogger(__name__)
T = TypeVar("T")

# Waits between attempts, in seconds: about 12 s in all, a PostgreSQL restart.
RETRY_WAITS = (0.25, 0.5, 1.0, 2.0, 4.0, 4.0)


def transient(error: Exception) -> bool:
    """A lost or refused connection (worth retrying), not a bad statement."""
    return isinstance(error, sa.exc.OperationalError) or (
        isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated
    )


class ResilientSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore with connections checked before use and transient errors retried."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
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
