"""Per-app services (settings, Rasa client, outbox, background jobs), kept in
app.extensions so several apps (tests) can live in one process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from sqlalchemy.orm import Session

from casework.db import session_scope
from privacybot.orgs import Org
from privacybot.settings import Settings
from webhook.rasa_client import RasaClient

if TYPE_CHECKING:
    from webhook.health import PartsHealth
    from webhook.mailer import EmailSender
    from webhook.outbox import OutboxSender

log = logging.getLogger(__name__)


@dataclass
class AppState:
    settings: Settings
    org: Org
    rasa: RasaClient
    outbox: OutboxSender
    health: PartsHealth
    email_outbox: EmailSender | None = None  # only when SMTP_URL is set
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=8, thread_name_prefix="sms-job")
    )
    # Web turns run here so the request can answer with a holding reply after a few
    # seconds while the turn goes on; sized above gunicorn's threads, so a busy SMS pool
    # never makes a web turn look slow.
    turns: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=16, thread_name_prefix="turn")
    )
    # Set while this process holds messages it could not answer: the retry loop then
    # checks every 2 s instead of 10 s, so they are answered soon after the part is back.
    holding: threading.Event = field(default_factory=threading.Event)
    # Messages whose turn runs in this process: their claims are renewed (the heartbeat),
    # so only a dead process's claims go stale.
    _in_flight: set[int] = field(default_factory=set)
    # Phones told (in the webhook's TwiML) that their SMS is kept while the store was busy:
    # one holding reply each until the spool is empty again.
    spool_held: set[str] = field(default_factory=set)
    spool_lock: threading.Lock = field(default_factory=threading.Lock)
    _futures: set[Future[Any]] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)

    @contextmanager
    def db(self) -> Iterator[Session]:
        with session_scope(self.settings.database_url) as session:
            yield session

    @contextmanager
    def running(self, message_id: int) -> Iterator[None]:
        with self._lock:
            self._in_flight.add(message_id)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight.discard(message_id)

    def in_flight_ids(self) -> list[int]:
        with self._lock:
            return sorted(self._in_flight)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run work after the response (SMS: Twilio wants its TwiML within seconds)."""

        def guarded() -> Any:
            try:
                return fn(*args)
            except Exception:  # a background failure must not kill the pool; it is retried
                log.exception("background job failed")
                return None

        future = self.executor.submit(guarded)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._discard)
        return future

    def _discard(self, future: Future[Any]) -> None:
        with self._lock:
            self._futures.discard(future)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Tests: wait until every submitted job has finished."""
        with self._lock:
            pending = list(self._futures)
        for future in pending:
            future.result(timeout=timeout)


def state(app: Flask | None = None) -> AppState:
    return (app or current_app).extensions["privacybot"]
