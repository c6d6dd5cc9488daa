"""The scale-out lock store (bot/atomic_lock_store.py) against a real redis-server.

Several processes in the Rasa environment contend for one conversation's lock and,
while holding it, do a deliberately non-atomic increment of a Redis counter. If two of
them ever held the lock at once, increments would be lost: the same way two Rasa
instances processing one conversation at once lose a turn in the SQL tracker store."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
import redis

from privacybot.runner import BOT_DIR, RASA_BIN
from tests.fakes.redis import ThrowawayRedis

pytestmark = pytest.mark.integration

RASA_PYTHON = RASA_BIN.parent / "python"
PROCESSES = 4
TURNS_EACH = 25

# Runs in the Rasa env (Python 3.10) with bot/ as working directory, as `rasa run` does.
CONTENDER = """
import asyncio, sys, time
import redis
from rasa.utils.endpoints import EndpointConfig
from atomic_lock_store import AtomicRedisLockStore

port, turns = int(sys.argv[1]), int(sys.argv[2])
store = AtomicRedisLockStore(
    EndpointConfig(url="127.0.0.1", port=port, db=1, key_prefix="test", type="x")
)
counter = redis.Redis(host="127.0.0.1", port=port, db=2)

async def main():
    for _ in range(turns):
        async with store.lock("one-conversation", wait_time_in_seconds=0.005):
            value = int(counter.get("turns") or 0)
            time.sleep(0.002)  # widen the window a second holder would fall into
            counter.set("turns", value + 1)

asyncio.run(main())
"""


@pytest.fixture()
def redis_port() -> Iterator[int]:
    with ThrowawayRedis() as server:
        yield server.port


def test_contending_processes_never_hold_one_conversation_lock_together(redis_port: int) -> None:
    contenders = [
        subprocess.Popen(
            [str(RASA_PYTHON), "-c", CONTENDER, str(redis_port), str(TURNS_EACH)],
            cwd=BOT_DIR,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    for contender in contenders:
        _, errors = contender.communicate(timeout=300)
        assert contender.returncode == 0, errors
    counter = redis.Redis(host="127.0.0.1", port=redis_port, db=2)
    assert int(counter.get("turns") or 0) == PROCESSES * TURNS_EACH
    # Every ticket was served and cleaned up: no lock is left behind.
    assert redis.Redis(host="127.0.0.1", port=redis_port, db=1).keys("*") == []
