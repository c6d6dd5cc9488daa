"""The web process alone, started as `privacybot run` starts it (gunicorn on loopback), for
tests that need real HTTP headers, access logs or proxy handling but not Rasa."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from privacybot.runner import Stack, _spawn, build_processes, make_stack
from privacybot.settings import PROJECT_ROOT


def web_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a throwaway deployment in `tmp_path` (no DEV_TOOLS, not production)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DEV_TOOLS", "PRIVACYBOT_ENV")}
    env.update(
        DATA_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'c.db'}",
        SECRET_KEY="k",
        RASA_TOKEN="t",
        TWILIO_AUTH_TOKEN="t",
        PYTHONPATH=str(PROJECT_ROOT),
        **extra,
    )
    return env


@contextmanager
def real_web_process(env: dict[str, str], log_dir: Path) -> Iterator[Stack]:
    """The stack `env` describes with only its web process running; stopped on exit."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        stack = make_stack()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    [web] = [p for p in build_processes(stack) if p.name == "web"]
    stack.processes = [web]
    _spawn(web, log_dir)
    try:
        stack.wait_ready(timeout=60)
        yield stack
    finally:
        stack.stop()
