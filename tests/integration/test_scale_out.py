"""Scale-out, as documented in docs/deployment.md: PostgreSQL for casework and the Rasa
tracker store, a Redis lock store shared by two Rasa instances, several gunicorn web
workers. The stack is the one `privacybot run --scaled` starts, on loopback."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests
from sqlalchemy import func, select

from casework import db
from casework.models import Message
from privacybot.runner import MODEL_PATH, Process
from privacybot.scaled import ScaledStack, make_scaled_stack
from tests.integration.conftest import _stack_env

pytestmark = [pytest.mark.postgres, pytest.mark.integration]


LOGIN_LIMIT = 4


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScaledStack]:
    """The profile `privacybot run --scaled` starts: throwaway PostgreSQL and Redis run by
    the stack itself, two Rasa + two action servers, three gunicorn workers."""
    assert MODEL_PATH.exists(), "run `make model` first (make test does)"
    data_dir = tmp_path_factory.mktemp("scaled")
    env = _stack_env(data_dir, {"RATE_LIMIT_LOGIN": f"{LOGIN_LIMIT}/minute"})
    env["HOLDING_REPLY_AFTER"] = "60"  # the answers themselves, not holding replies
    del env["DATABASE_URL"]  # the profile starts its own PostgreSQL
    profile = make_scaled_stack({}, env)
    try:
        profile.start(data_dir / "logs")
        profile.stack.wait_ready()
        profile.stack.supervise()
    except Exception:
        for log in sorted((data_dir / "logs").glob("*.log")):
            print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")
        profile.stack.stop()
        raise
    yield profile
    profile.stack.stop()
    profile.cleanup()
    assert not _alive(profile.stack.processes), "a process outlived the stack"


def _alive(processes: list[Process]) -> list[str]:
    alive = []
    for process in processes:
        assert process.popen is not None
        try:
            os.killpg(process.popen.pid, 0)
            alive.append(process.name)
        except ProcessLookupError:
            pass
    return alive


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
    assert scaled.redis is not None
    keys = redis.Redis(host="127.0.0.1", port=scaled.redis.port).keys("LIMITS*")
    assert keys, "no rate-limit counters in Redis"


def _chat(web: str, text: str, conversation_id: str | None = None) -> dict:
    body = {"text": text, **({"conversation_id": conversation_id} if conversation_id else {})}
    response = requests.post(f"{web}/api/chat", json=body, timeout=120)
    assert response.status_code == 200, response.text
    return response.json()


def _home(conversation_id: str, count: int) -> int:
    from webhook.rasa_client import instance_order

    return instance_order(conversation_id, count)[0]


def test_web_spreads_conversations_and_survives_a_dead_rasa(scaled: ScaledStack) -> None:
    """Conversations are spread over both instances; with one SIGKILLed, conversations
    at home on it (an ongoing one and new ones) are still answered by the other."""
    web, token = scaled.stack.web_url, scaled.stack.rasa_token
    ids = [_chat(web, f"hello, conversation {i}")["conversation_id"] for i in range(8)]
    homes = {_home(cid, 2) for cid in ids}
    assert homes == {0, 1}, "eight conversations all went to one instance"
    victim_index = _home(ids[0], 2)
    victim = next(
        p
        for p in scaled.stack.processes
        if p.health_url and f":{scaled.rasa_ports[victim_index]}/" in p.health_url
    )
    assert victim.popen is not None
    os.killpg(victim.popen.pid, signal.SIGKILL)
    victim.popen.wait()

    reply = _chat(web, "what is personal data", ids[0])
    assert reply["conversation_id"] == ids[0] and reply["messages"]
    survivor = scaled.rasa_urls[1 - victim_index]
    assert "what is personal data" in _user_turns(survivor, token, ids[0])
    fresh = [_chat(web, f"hi again {i}") for i in range(6)]
    assert all(body["messages"] for body in fresh)
    assert any(_home(body["conversation_id"], 2) == victim_index for body in fresh)
