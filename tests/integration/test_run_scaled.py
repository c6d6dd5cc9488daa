"""`privacybot run --scaled` (what `make run-scaled` starts) as a subprocess: it comes up
with its own PostgreSQL and Redis, answers POST /api/chat, and a SIGKILLed runner leaves
no process behind, the throwaway PostgreSQL (run as another user) included."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
import requests

from privacybot.runner import MODEL_PATH
from tests.conftest import PROJECT_ROOT
from tests.integration.conftest import _stack_env

pytestmark = [pytest.mark.postgres, pytest.mark.integration]


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_run_scaled_answers_and_leaves_nothing_after_sigkill(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    assert MODEL_PATH.exists(), "run `make model` first (make test does)"
    data_dir = tmp_path_factory.mktemp("run-scaled")
    env = {**os.environ, **_stack_env(data_dir), "PYTHONPATH": str(PROJECT_ROOT)}
    for given in ("DATABASE_URL", "TRACKER_URL", "REDIS_HOST"):
        env.pop(given, None)  # the profile starts its own
    web = f"http://127.0.0.1:{env['WEB_PORT']}"
    log = data_dir / "runner.log"
    with open(log, "ab") as out:
        runner = subprocess.Popen(
            [sys.executable, "-m", "privacybot.cli", "run", "--scaled"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 300
        while "Ready for" not in log.read_text():
            assert runner.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(1)
        health = requests.get(f"{web}/healthz", timeout=10)
        assert health.status_code == 200
        # Every Rasa and every action server, each Rasa paired with its own.
        both = {"up": 2, "total": 2}
        assert health.json()["instances"] == {"rasa": both, "actions": both, "pairs": both}
        reply = requests.post(f"{web}/api/chat", json={"text": "hello"}, timeout=120).json()
        assert reply["messages"]
        tree = psutil.Process(runner.pid).children(recursive=True)
        commands = " ".join(" ".join(p.cmdline()) for p in tree)
        assert "postgres" in commands and "redis-server" in commands
        assert commands.count(".venv-rasa/bin/rasa") >= 2 and commands.count("rasa_sdk") >= 2
    finally:
        tree = psutil.Process(runner.pid).children(recursive=True) if runner.poll() is None else []
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=10)
    deadline = time.monotonic() + 40
    while left := [p.pid for p in tree if _alive(p)]:
        if time.monotonic() > deadline:
            for process in tree:
                if _alive(process):
                    process.kill()
            pytest.fail(f"still running after the runner's SIGKILL: {left}")
        time.sleep(0.5)
