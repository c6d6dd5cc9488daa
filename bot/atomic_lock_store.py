"""A Redis lock store whose ticket queue is changed atomically.

Rasa's open-source RedisLockStore reads the ticket queue, changes it in Python and
writes it back. Two Rasa instances taking a message of the same conversation at the
same moment can both read the same queue, so both get the same ticket, both process
at once, and the SQL tracker store then drops one of the two turns (it saves only the
events beyond the count already stored). Here every read-change-write of the queue
runs in a Redis WATCH/MULTI transaction, retried when another instance changed the key
in between, so the queue keeps Rasa's first-come first-served order across instances.

Loaded by Rasa from `endpoints.scale-out.yml` (`type: atomic_lock_store.AtomicRedisLockStore`);
Rasa runs with `bot/` as its working directory, which it puts on the import path.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.client import Pipeline


class AtomicRedisLockStore(RedisLockStore):
    """RedisLockStore with atomic ticket issue, expiry and clean-up."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)

    def _key(self, conversation_id: str) -> str:
        return self.key_prefix + conversation_id

    def _change(self, conversation_id: str, change: Callable[[TicketLock], Any]) -> Any:
        """Apply `change` to the stored lock (created if missing) as one transaction.

        The lock is deleted when its queue ends up empty. Returns what `change` returns.
        """
        key = self._key(conversation_id)

        def transaction(pipe: Pipeline) -> Any:
            stored = pipe.get(key)
            lock = (
                TicketLock.from_dict(json.loads(stored)) if stored else TicketLock(conversation_id)
            )
            result = change(lock)
            pipe.multi()
            if lock.is_someone_waiting():
                pipe.set(key, lock.dumps())
            else:
                pipe.delete(key)
            return result

        return self.red.transaction(transaction, key, value_from_callable=True)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            return self._change(conversation_id, lambda lock: lock.issue_ticket(lock_lifetime))
        except Exception as error:  # Rasa's callers expect LockError
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        self._change(conversation_id, lambda lock: lock.remove_expired_tickets())

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self._change(conversation_id, lambda lock: lock.remove_ticket_for(ticket_number))

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        # finish_serving already deletes the lock when nobody else is queued; a separate
        # "is anyone waiting?" check would race with a ticket issued in between.
        self.finish_serving(conversation_id, ticket_number)
