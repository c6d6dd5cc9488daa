"""Scale-out, as documented in docs/deployment.md, through what `make run-scaled` starts:
`privacybot run --scaled` as a subprocess, with its own throwaway PostgreSQL (casework and
the Rasa tracker store) and Redis (the Rasa lock store, the web side's rate limits), two
Rasa instances each with its own action server, three gunicorn workers. The last test
SIGKILLs the runner and checks that nothing it started is left running."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import redis
import requests
from sqlalchemy import func, select

from casework import db
from casework.models import Message
from privacybot.runner import MODEL_PATH
from privacybot.services import OWNER_FILE, remove_stale
from tests.conftest import PROJECT_ROOT
from tests.integration.conftest import _stack_env

pytestmark = [pytest.mark.postgres, pytest.mark.integration]

LOGIN_LIMIT = 4
READY_WITHIN = 300.0


@dataclass
class ScaledRun:
    """A running `privacybot run --scaled` and what it printed about itself."""

    runner: subprocess.Popen[bytes]
    log: Path
    web_url: str
    rasa_token: str
    rasa_urls: list[str]
    database_url: str
    redis_port: int

    def tree(self) -> list[psutil.Process]:
        return psutil.Process(self.runner.pid).children(recursive=True)


def _printed(log: str, label: str) -> str:
    found = re.search(rf"^{label}: (.+)$", log, re.MULTILINE)
    assert found, f"the runner did not print {label!r}:\n{log[-3000:]}"
    return found.group(1).strip()


def _start(data_dir: Path) -> ScaledRun:
    env = _stack_env(data_dir, {"RATE_LIMIT_LOGIN": f"{LOGIN_LIMIT}/minute"})
    env["HOLDING_REPLY_AFTER"] = "60"  # the answers themselves, not holding replies
    env = {**os.environ, **env, "PYTHONPATH": str(PROJECT_ROOT)}
    for given in ("DATABASE_URL", "TRACKER_URL", "REDIS_HOST"):
        env.pop(given, None)  # the profile starts its own
    log = data_dir / "runner.log"
    with open(log, "ab") as out:
        runner = subprocess.Popen(
            [sys.executable, "-m", "privacybot.cli", "run", "--scaled"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + READY_WITHIN
    while "Ready for" not in (text := log.read_text(errors="replace")):
        if runner.poll() is not None or time.monotonic() > deadline:
            for child_log in sorted((data_dir / "logs" / "scaled").glob("*.log")):
                print(f"--- {child_log.name}\n{child_log.read_text(errors='replace')[-3000:]}")
            _kill(runner)
            pytest.fail(f"the scaled profile did not come up:\n{text[-3000:]}")
        time.sleep(1)
    return ScaledRun(
        runner=runner,
        log=log,
        web_url=f"http://127.0.0.1:{env['WEB_PORT']}",
        rasa_token=env["RASA_TOKEN"],
        rasa_urls=_printed(text, "Rasa instances").split(", "),
        database_url=_printed(text, "Throwaway PostgreSQL"),
        redis_port=int(_printed(text, "Throwaway Redis").rsplit(":", 1)[1]),
    )


def _kill(runner: subprocess.Popen[bytes]) -> None:
    if runner.poll() is None:
        runner.send_signal(signal.SIGKILL)
    runner.wait(timeout=10)


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScaledRun]:
    assert MODEL_PATH.exists(), "run `make model` first (make test does)"
    run = _start(tmp_path_factory.mktemp("scaled"))
    tree = run.tree()
    yield run
    if run.runner.poll() is None:  # the SIGKILL test did not run (a -k selection)
        tree = run.tree()
        _kill(run.runner)
        _wait_gone(tree)


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_gone(tree: list[psutil.Process], timeout: float = 40.0) -> list[int]:
    """Pids still running after `timeout` (killed then, so no test leaves them behind)."""
    deadline = time.monotonic() + timeout
    while left := [p.pid for p in tree if _alive(p)]:
        if time.monotonic() > deadline:
            for process in tree:
                if _alive(process):
                    process.kill()
            return left
        time.sleep(0.5)
    return []


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


def test_the_profile_runs_its_own_databases_and_two_of_each(scaled: ScaledRun) -> None:
    health = requests.get(f"{scaled.web_url}/healthz", timeout=10)
    assert health.status_code == 200
    # Every Rasa and every action server, each Rasa paired with its own.
    both = {"up": 2, "total": 2}
    assert health.json()["instances"] == {"rasa": both, "actions": both, "pairs": both}
    commands = " ".join(" ".join(p.cmdline()) for p in scaled.tree() if _alive(p))
    assert "postgres" in commands and "redis-server" in commands
    assert commands.count(".venv-rasa/bin/rasa") >= 2 and commands.count("rasa_sdk") >= 2
    assert len(scaled.rasa_urls) == 2


def test_two_rasa_instances_share_one_conversation(scaled: ScaledRun) -> None:
    """Turns sent alternately to two instances land in one tracker, in order."""
    sender = "scale-out-conversation"
    turns = ["hello", "what is personal data", "thanks", "bye"]
    for i, text in enumerate(turns):
        assert _say(scaled.rasa_urls[i % 2], sender, text), f"no reply to {text!r}"
    for url in scaled.rasa_urls:
        assert _user_turns(url, scaled.rasa_token, sender) == turns


def test_concurrent_turns_of_one_conversation_are_serialised(scaled: ScaledRun) -> None:
    """The Redis lock store: simultaneous messages on both instances all get processed."""
    sender = "scale-out-concurrent"
    texts = [f"hello {i}" for i in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(
            pool.map(lambda it: _say(scaled.rasa_urls[it[0] % 2], sender, it[1]), enumerate(texts))
        )
    turns = _user_turns(scaled.rasa_urls[0], scaled.rasa_token, sender)
    assert sorted(turns) == sorted(texts)


def test_web_workers_lose_no_message_under_load(scaled: ScaledRun) -> None:
    web = scaled.web_url

    def converse(i: int) -> str:
        response = requests.post(f"{web}/api/chat", json={"text": f"hello number {i}"}, timeout=120)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["messages"], "the assistant did not answer"
        return body["conversation_id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(converse, range(16)))
    assert len(set(ids)) == 16
    with db.session_scope(scaled.database_url) as session:
        inbound = select(func.count(Message.id)).where(
            Message.direction == "in", Message.conversation_id.in_(ids)
        )
        assert session.scalar(inbound) == 16
        unprocessed = select(func.count(Message.id)).where(
            Message.direction == "in", Message.processed_at.is_(None)
        )
        assert session.scalar(unprocessed) == 0


def _failed_login(web: str) -> int:
    """One sign-in attempt on a new connection (so the workers share the attempts)."""
    with requests.Session() as browser:
        page = browser.get(f"{web}/inbox/login", timeout=30).text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert token, "no CSRF token on the sign-in page"
        form = {"csrf_token": token.group(1), "email": "nobody@example.org", "password": "x"}
        return browser.post(f"{web}/inbox/login", data=form, timeout=30).status_code


def test_rate_limits_are_shared_by_the_web_workers(scaled: ScaledRun) -> None:
    """Counters live in Redis: attempts spread over the workers still meet one limit."""
    codes = [_failed_login(scaled.web_url) for _ in range(LOGIN_LIMIT + 1)]
    assert codes == [401] * LOGIN_LIMIT + [429]
    keys = redis.Redis(host="127.0.0.1", port=scaled.redis_port).keys("LIMITS*")
    assert keys, "no rate-limit counters in Redis"


def _chat(web: str, text: str, conversation_id: str | None = None) -> dict:
    body = {"text": text, **({"conversation_id": conversation_id} if conversation_id else {})}
    response = requests.post(f"{web}/api/chat", json=body, timeout=120)
    assert response.status_code == 200, response.text
    return response.json()


def _home(conversation_id: str, count: int) -> int:
    from webhook.rasa_client import instance_order

    return instance_order(conversation_id, count)[0]


def _rasa_serving(scaled: ScaledRun, url: str) -> psutil.Process:
    """The Rasa main process listening on `url`'s port (it leads its own process group)."""
    port = url.rsplit(":", 1)[1]
    for process in scaled.tree():
        argv = process.cmdline() if _alive(process) else []
        if any(arg.endswith(".venv-rasa/bin/rasa") for arg in argv):
            if "-p" in argv and argv[argv.index("-p") + 1] == port:
                return process
    raise AssertionError(f"no rasa process for {url}")


def test_web_spreads_conversations_and_survives_a_dead_rasa(scaled: ScaledRun) -> None:
    """Conversations are spread over both instances; with one SIGKILLed, conversations
    at home on it (an ongoing one and new ones) are still answered by the other."""
    web, token = scaled.web_url, scaled.rasa_token
    ids = [_chat(web, f"hello, conversation {i}")["conversation_id"] for i in range(8)]
    homes = {_home(cid, 2) for cid in ids}
    assert homes == {0, 1}, "eight conversations all went to one instance"
    victim_index = _home(ids[0], 2)
    victim = _rasa_serving(scaled, scaled.rasa_urls[victim_index])
    os.killpg(victim.pid, signal.SIGKILL)
    psutil.wait_procs([victim], timeout=10)

    reply = _chat(web, "what is personal data", ids[0])
    assert reply["conversation_id"] == ids[0] and reply["messages"]
    survivor = scaled.rasa_urls[1 - victim_index]
    assert "what is personal data" in _user_turns(survivor, token, ids[0])
    fresh = [_chat(web, f"hi again {i}") for i in range(6)]
    assert all(body["messages"] for body in fresh)
    assert any(_home(body["conversation_id"], 2) == victim_index for body in fresh)


def _postmaster(scaled: ScaledRun) -> psutil.Process:
    for process in scaled.tree():
        argv = process.cmdline() if _alive(process) else []
        if argv and argv[0].endswith("/postgres") and "-D" in argv:
            return process
    raise AssertionError("no PostgreSQL postmaster under the runner")


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def _accepts_connections(url: str) -> bool:
    import psycopg2

    try:
        psycopg2.connect(url, connect_timeout=2).close()
    except psycopg2.OperationalError:
        return False
    return True


def test_postgres_killed_and_restarted_loses_no_message(scaled: ScaledRun) -> None:
    """SIGKILL of PostgreSQL (casework and both Rasa's tracker store): the runner restarts
    it, and messages sent afterwards (the pools still hold dead connections) are each
    answered exactly once, at once or after a holding reply."""
    web = scaled.web_url
    ongoing = _chat(web, "hello, before the database restart")["conversation_id"]
    old = _postmaster(scaled)
    old.kill()
    psutil.wait_procs([old], timeout=10)
    _wait_for(lambda: _accepts_connections(scaled.database_url), 90, "PostgreSQL back")
    assert _postmaster(scaled).pid != old.pid

    after = [
        (ongoing, "what is personal data"),
        (None, "hello, after the database restart"),
        (None, "how long do you keep my data"),
    ]
    conversations = []
    for conversation_id, text in after:
        body = _chat(web, text, conversation_id)
        assert body["messages"], f"no reply, not even a holding one, to {text!r}"
        conversations.append((body["conversation_id"], text))

    def all_answered() -> bool:
        with db.session_scope(scaled.database_url) as session:
            left = select(func.count(Message.id)).where(
                Message.direction == "in",
                Message.processed_at.is_(None),
                Message.conversation_id.in_([cid for cid, _ in conversations]),
            )
            return session.scalar(left) == 0

    _wait_for(all_answered, 120, "every message answered after the restart")
    # Either instance reads the shared tracker; the one killed above may still be loading.
    up = next(url for url in scaled.rasa_urls if _rasa_up(url))
    for conversation_id, text in conversations:
        turns = _user_turns(up, scaled.rasa_token, conversation_id)
        assert turns.count(text) == 1, (text, turns)
    assert _user_turns(up, scaled.rasa_token, ongoing)[0] == "hello, before the database restart"


def _rasa_up(url: str) -> bool:
    try:
        return requests.get(f"{url}/", timeout=5).ok
    except requests.RequestException:
        return False


def test_a_sigkilled_runner_leaves_nothing_running(scaled: ScaledRun) -> None:
    """Last in this module: every child (the throwaway PostgreSQL, run as another user,
    included) gets the runner's death as its parent-death signal."""
    tree = scaled.tree()
    assert tree, "the runner has no children"
    _kill(scaled.runner)
    assert _wait_gone(tree) == [], "still running after the runner's SIGKILL"
    # Its throwaway servers' files (casework data in PostgreSQL's) are left, marked as the
    # dead runner's, and the next run's clean-up removes them.
    scratch = Path(tempfile.gettempdir())
    owned = [
        path
        for path in [*scratch.glob("pg-*"), *scratch.glob("redis-*")]
        if (path / OWNER_FILE).is_file()
        and (path / OWNER_FILE).read_text() == str(scaled.runner.pid)
    ]
    assert len(owned) == 2, owned
    removed = remove_stale(scratch)
    assert set(owned) <= set(removed) and not any(path.exists() for path in owned)
