"""bot/resilient_tracker_store.py on the default SQLite file: WAL without an fsync per
commit, pooled connections, and still what Rasa's SQL tracker store keeps (a turn's
events written once, read back by another store, deletions by another process seen)."""

from __future__ import annotations

from pathlib import Path

from tests.rasa_env import run_in_rasa_env

_CHECK = """
import asyncio, json, sqlite3, sys
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from resilient_tracker_store import ResilientSQLTrackerStore

path = sys.argv[1]
domain = Domain.load("domain.yml")


def turn(tracker, text):
    tracker.update(UserUttered(text, {"name": "greet", "confidence": 0.9}))
    tracker.update(ActionExecuted("utter_greet"))
    tracker.update(BotUttered("Hi!"))
    tracker.update(ActionExecuted("action_listen"))


async def main():
    store = ResilientSQLTrackerStore(domain, dialect="sqlite", db=path)
    for text in ("hello", "hello again"):
        tracker = await store.get_or_create_tracker("alice")
        turn(tracker, text)
        await store.save(tracker)
    # another thread (the pool may hand a connection to any)
    tracker = await asyncio.to_thread(lambda: asyncio.run(store.retrieve("alice")))
    with store.engine.connect() as connection:
        modes = [connection.exec_driver_sql(f"PRAGMA {p}").scalar()
                 for p in ("journal_mode", "synchronous")]
    rows = sqlite3.connect(path).execute(
        "SELECT count(*) FROM events WHERE sender_id = 'alice'").fetchone()[0]
    fresh = ResilientSQLTrackerStore(domain, dialect="sqlite", db=path)
    texts = [e.text for e in (await fresh.retrieve("alice")).events if isinstance(e, UserUttered)]
    other = sqlite3.connect(path, timeout=10)  # retention on the web side deletes a tracker
    other.execute("DELETE FROM events WHERE sender_id = 'alice'")
    other.commit()
    after_delete = await store.retrieve("alice")
    return {
        "modes": modes,
        "pool": type(store.engine.pool).__name__,
        "rows": rows,
        "events_in_thread": len(tracker.events),
        "texts": texts,
        "after_delete": None if after_delete is None else len(after_delete.events),
    }

print(json.dumps(asyncio.run(main())))
"""


def test_sqlite_tracker_store_is_wal_pooled_and_keeps_every_turn(tmp_path: Path) -> None:
    report = run_in_rasa_env(_CHECK, str(tmp_path / "rasa-tracker.db"))
    assert report["modes"] == ["wal", 1]  # 1 = NORMAL: no fsync per commit in WAL mode
    assert report["pool"] == "QueuePool"
    # each turn's events written once (session start: 3 events, then 4 per turn)
    assert report["rows"] == report["events_in_thread"] and report["rows"] >= 8
    assert report["texts"] == ["hello", "hello again"]
    assert report["after_delete"] is None  # the pooled connection sees another's delete
