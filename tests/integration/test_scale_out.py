"""Scale-out, as documented in docs/architecture.md: PostgreSQL for casework and the
Rasa tracker store, a Redis lock store shared by two Rasa instances, and two gunicorn
web workers. Real servers on loopback, started by the test."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import redis
import requests
from sqlalchemy import func, select

from casework import db
from casework.models import Message
from privacybot.runner import Stack, free_port, rasa_process
from tests.fakes.postgres import ThrowawayPostgres
from tests.fakes.redis import ThrowawayRedis

pytestmark = [pytest.mark.postgres, pytest.mark.integration]


@dataclass
class ScaledStack:
    stack: Stack
    rasa_urls: list[str]
    redis_port: int


LOGIN_LIMIT = 4


@pytest.fixture(scope="module")
def scaled(start_stack: Callable[..., Stack]) -> Iterator[ScaledStack]:
    with ThrowawayPostgres() as pg, ThrowawayRedis() as redis:
        stack = start_stack(
            {
                "DATABASE_URL": pg.create_database("casework"),
                "TRACKER_URL": pg.create_database("tracker"),
                "REDIS_HOST": "127.0.0.1",
                "REDIS_PORT": str(redis.port),
                "RATE_LIMIT_LOGIN": f"{LOGIN_LIMIT}/minute",
                "HOLDING_REPLY_AFTER": "60",  # the answers themselves, not holding replies
            },
            web_workers=2,
        )
        second = stack.add(rasa_process(stack, free_port()), stack.data_dir / "logs")
        stack.wait_ready()
        second_url = second.health_url.split("/status")[0]
        yield ScaledStack(stack, [stack.rasa_url, second_url], redis.port)
        stack.stop()


def _say(rasa_url: str, sender: str, text: str) -> list[dict]:
    response = requests.post(
        f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
    )
    response.raise_for_status()
    return response.json()


def _user_turns(rasa_url: str, token: str, sender: str) -> list[str]:
    tracker = requests.get(
        f"{rasa_url}/conversations/{sender}/tracker", params={"token": token}, timeout=30
    ).json()
    return [e["text"] for e in tracker["events"] if e["event"] == "user"]


def test_two_rasa_instances_share_one_conversation(scaled: ScaledStack) -> None:
    """Turns sent alternately to two instances land in one tracker, in order."""
    sender = "scale-out-conversation"
    turns = ["hello", "what is personal data", "thanks", "bye"]
    for i, text in enumerate(turns):
        assert _say(scaled.rasa_urls[i % 2], sender, text), f"no reply to {text!r}"
    for url in scaled.rasa_urls:
        assert _user_turns(url, scaled.stack.rasa_token, sender) == turns


def test_concurrent_turns_of_one_conversation_are_serialised(scaled: ScaledStack) -> None:
    """The Redis lock store: simultaneous messages on both instances all get processed."""
    sender = "scale-out-concurrent"
    texts = [f"hello {i}" for i in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(
            pool.map(lambda it: _say(scaled.rasa_urls[it[0] % 2], sender, it[1]), enumerate(texts))
        )
    turns = _user_turns(scaled.rasa_urls[0], scaled.stack.rasa_token, sender)
    assert sorted(turns) == sorted(texts)


def test_web_workers_lose_no_message_under_load(scaled: ScaledStack) -> None:
    web = scaled.stack.web_url

    def converse(i: int) -> str:
        response = requests.post(f"{web}/api/chat", json={"text": f"hello number {i}"}, timeout=120)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["messages"], "the assistant did not answer"
        return body["conversation_id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(converse, range(16)))
    assert len(set(ids)) == 16
    with db.session_scope(scaled.stack.database_url) as session:
        inbound = select(func.count(Message.id)).where(
            Message.direction == "in", Message.conversation_id.in_(ids)
        )
        assert session.scalar(inbound) == 16
        unprocessed = select(func.count(Message.id)).where(
            Message.direction == "in", Message.processed_at.is_(None)
        )
        assert session.scalar(unprocessed) == 0


def _failed_login(web: str) -> int:
    """One sign-in attempt on a new connection (so the two workers share the attempts)."""
    with requests.Session() as browser:
        page = browser.get(f"{web}/inbox/login", timeout=30).text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert token, "no CSRF token on the sign-in page"
        form = {"csrf_token": token.group(1), "email": "nobody@example.org", "password": "x"}
        return browser.post(f"{web}/inbox/login", data=form, timeout=30).status_code


def test_rate_limits_are_shared_by_the_web_workers(scaled: ScaledStack) -> None:
    """Counters live in Redis: attempts spread over two workers still meet one limit."""
    web = scaled.stack.web_url
    codes = [_failed_login(web) for _ in range(LOGIN_LIMIT + 1)]
    assert codes == [401] * LOGIN_LIMIT + [429]
    keys = redis.Redis(host="127.0.0.1", port=scaled.redis_port).keys("LIMITS*")
    assert keys, "no rate-limit counters in Redis"
