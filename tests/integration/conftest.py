"""The real stack (rasa + actions + web) on free loopback ports, once per test session."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from privacybot.runner import MODEL_PATH, Stack, free_port, make_stack
from tests.conftest import BUILD_DATA_DIR


def _stack_env(data_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    index = data_dir / "index"
    if not index.exists():  # share the index `make index` built; it is read-only here
        index.symlink_to(BUILD_DATA_DIR / "index", target_is_directory=True)
    web_port = free_port()
    return {
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'casework.db'}",
        "WEB_PORT": str(web_port),
        "RASA_PORT": str(free_port()),
        "ACTIONS_PORT": str(free_port()),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{web_port}",
        "ORG": "barnet-homes",
        "SECRET_KEY": "integration-secret-key",
        "PSEUDONYM_KEY": "integration-pseudonym-key",
        "RASA_TOKEN": "integration-rasa-token",
        "TWILIO_AUTH_TOKEN": "integration-twilio-token",
        # Every test conversation comes from 127.0.0.1: per-address limits stay on, but
        # sized for a test session rather than for one resident.
        "RATE_LIMIT_NEW_CHAT": "600/minute",
        "RATE_LIMIT_CHAT": "300/minute",
        **(extra or {}),
    }


@pytest.fixture(scope="session")
def start_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Stack]]:
    """Factory: start a stack with extra environment; every stack is stopped at the end."""
    assert MODEL_PATH.exists(), "run `make model` first (make test does)"
    started: list[Stack] = []

    def start(extra_env: dict[str, str] | None = None, web_workers: int = 1) -> Stack:
        data_dir = tmp_path_factory.mktemp("stack")
        stack = make_stack(_stack_env(data_dir, extra_env))
        started.append(stack)
        stack.start(log_dir=data_dir / "logs", web_workers=web_workers)
        try:
            stack.wait_ready()
            stack.supervise()  # a crashed child is restarted, as under `make run`
        except Exception:
            for log in sorted((data_dir / "logs").glob("*.log")):
                print(f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}")
            raise
        return stack

    yield start
    for stack in started:
        stack.stop()


@pytest.fixture(scope="session")
def twilio_fake() -> Iterator[object]:
    """A local stand-in of Twilio's REST API (the only part of the product we cannot reach)."""
    from tests.fakes.twilio_api import FakeTwilioAPI

    with FakeTwilioAPI() as fake:
        yield fake


@pytest.fixture(scope="session")
def stack(start_stack: Callable[..., Stack], twilio_fake: object) -> Stack:
    """The default stack: SQLite, one web worker, Twilio's REST API replaced by the fake."""
    return start_stack(
        {
            "TWILIO_ACCOUNT_SID": os.environ.get("TEST_TWILIO_SID", "AC" + "0" * 32),
            "TWILIO_API_BASE": twilio_fake.base_url,  # type: ignore[attr-defined]
            "TWILIO_FROM_NUMBER": "+447700900000",
            # These tests read answers from the POST; a slow turn on a busy CI machine
            # must not turn into a holding reply here (test_faults.py covers those).
            "HOLDING_REPLY_AFTER": "60",
        }
    )
