"""Starts the three processes (rasa, actions, web), waits until each answers, and stops
them together. `make run` uses it in the foreground; the test suite uses it to start
the real stack on free loopback ports."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import requests

from privacybot.settings import PROJECT_ROOT, Settings, load_settings

VENV_BIN = PROJECT_ROOT / ".venv" / "bin"
RASA_BIN = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
MODEL_PATH = PROJECT_ROOT / "models" / "privacybot.tar.gz"
BOT_DIR = PROJECT_ROOT / "bot"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tracker_settings(database_url: str, data_dir: Path, tracker_url: str | None) -> tuple[str, str]:
    """Rasa's tracker store sits beside casework: a SQLite file of its own by default
    (two writers on one SQLite file would contend), PostgreSQL when casework uses it."""
    if tracker_url:
        return tracker_url.split(":", 1)[0].split("+", 1)[0], tracker_url
    if database_url.startswith("postgres"):
        return "postgresql", database_url
    return "sqlite", f"sqlite:///{data_dir / 'rasa-tracker.db'}"


@dataclass
class Process:
    name: str
    argv: list[str]
    health_url: str
    cwd: Path = PROJECT_ROOT
    env: dict[str, str] = field(default_factory=dict)
    popen: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None


@dataclass
class Stack:
    """The running product: URLs and the environment the processes share."""

    settings: Settings
    env: dict[str, str]
    processes: list[Process] = field(default_factory=list)

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.actions_port}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.web_port}"

    @property
    def rasa_token(self) -> str:
        return self.settings.rasa_token

    @property
    def database_url(self) -> str:
        return self.settings.database_url

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    def start(self, log_dir: Path | None = None, web_workers: int = 1) -> Stack:
        from casework.db import upgrade

        upgrade(self.database_url)  # once, before two processes race to migrate
        self.processes = build_processes(self, web_workers)
        for process in self.processes:
            _spawn(process, log_dir)
        return self

    def add(self, process: Process, log_dir: Path | None = None) -> Process:
        """Start one more process (e.g. a second Rasa); it is stopped with the stack."""
        _spawn(process, log_dir)
        self.processes.append(process)
        return process

    def wait_ready(self, timeout: float = 240.0) -> None:
        deadline = time.monotonic() + timeout
        for process in self.processes:
            while not _healthy(process):
                if process.popen and process.popen.poll() is not None:
                    raise RuntimeError(f"{process.name} exited with {process.popen.returncode}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{process.name} not ready after {timeout:.0f}s")
                time.sleep(0.5)

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.popen and process.popen.poll() is None:
                process.popen.send_signal(signal.SIGTERM)
        for process in reversed(self.processes):
            if process.popen is None:
                continue
            try:
                process.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait()
            if process.log:
                process.log.close()

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def make_stack(overrides: Mapping[str, str] | None = None) -> Stack:
    """Resolve settings once (generating development secrets) and hand the same values
    to every child, so they never race to create different secrets."""
    saved = dict(os.environ)
    os.environ.update(overrides or {})
    try:
        settings = load_settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    explicit_tracker = (overrides or {}).get("TRACKER_URL") or os.environ.get("TRACKER_URL")
    dialect, tracker_url = tracker_settings(
        settings.database_url, settings.data_dir, explicit_tracker
    )
    env = {
        **os.environ,
        **(overrides or {}),
        "DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.database_url,
        "ORG": settings.org,
        "SECRET_KEY": settings.secret_key,
        "PSEUDONYM_KEY": settings.pseudonym_key,
        "RASA_TOKEN": settings.rasa_token,
        "TWILIO_AUTH_TOKEN": settings.twilio_auth_token,
        "RASA_URL": f"http://127.0.0.1:{settings.rasa_port}",
        "WEB_PORT": str(settings.web_port),
        "RASA_PORT": str(settings.rasa_port),
        "ACTIONS_PORT": str(settings.actions_port),
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{settings.actions_port}/webhook",
        "TRACKER_DIALECT": dialect,
        "TRACKER_URL": tracker_url,
        "PUBLIC_BASE_URL": settings.public_base_url,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "SANIC_HOST": "127.0.0.1",  # the action server binds to loopback only
        "PYTHONUNBUFFERED": "1",
    }
    return Stack(settings=settings, env=env)


def rasa_process(stack: Stack, port: int) -> Process:
    """A Rasa server; the scale-out test starts a second one on another port."""
    token = stack.settings.rasa_token
    endpoints = "endpoints.scale-out.yml" if stack.env.get("REDIS_HOST") else "endpoints.yml"
    process = Process(
        f"rasa-{port}" if port != stack.settings.rasa_port else "rasa",
        [
            str(RASA_BIN),
            "run",
            "--enable-api",
            "--auth-token",
            token,
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "--model",
            str(MODEL_PATH),
            "--endpoints",
            endpoints,
            "--credentials",
            "credentials.yml",
        ],
        f"http://127.0.0.1:{port}/status?token={token}",
        cwd=BOT_DIR,
        env=dict(stack.env),
    )
    # The rasa env runs Python 3.10: it must not see the 3.11 env's packages.
    process.env.pop("PYTHONPATH", None)
    # Rasa's usage telemetry and crash reports would leave the machine.
    process.env["RASA_TELEMETRY_ENABLED"] = "false"
    return process


def build_processes(stack: Stack, web_workers: int = 1) -> list[Process]:
    s = stack.settings
    actions = Process(
        "actions",
        [
            str(VENV_BIN / "python"),
            "-m",
            "rasa_sdk",
            "--actions",
            "actions",
            "-p",
            str(s.actions_port),
        ],
        f"{stack.actions_url}/health",
        env=dict(stack.env),
    )
    web = Process(
        "web",
        [
            str(VENV_BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{s.web_port}",
            "--workers",
            str(web_workers),
            "--threads",
            "8",
            "--timeout",
            "60",
            "--access-logfile",
            "-",
            "webhook:create_app()",
        ],
        f"{stack.web_url}/",
        env=dict(stack.env),
    )
    return [actions, rasa_process(stack, s.rasa_port), web]


def retention_process(stack: Stack) -> Process:
    """The scheduled retention purge (`privacybot db purge --every`); it has no HTTP
    endpoint, so it is added after the others are ready and watched like them."""
    every = str(stack.settings.purge_interval_seconds)
    return Process(
        "retention",
        [str(VENV_BIN / "python"), "-m", "privacybot.cli", "db", "purge", "--every", every],
        "",
        env=dict(stack.env),
    )


def _spawn(process: Process, log_dir: Path | None) -> None:
    output: IO[bytes] | None = None
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        output = process.log = open(log_dir / f"{process.name}.log", "ab")  # noqa: SIM115
    process.popen = subprocess.Popen(
        process.argv,
        cwd=process.cwd,
        env=process.env,
        stdout=output,
        stderr=subprocess.STDOUT if output else None,
        start_new_session=True,
    )


def _healthy(process: Process) -> bool:
    try:
        response = requests.get(process.health_url, timeout=2)
    except requests.RequestException:
        return False
    if process.name.startswith("rasa"):  # /status answers before the model is loaded
        return response.ok and bool(response.json().get("model_id"))
    return response.status_code < 500


def demo_overrides(environ: Mapping[str, str]) -> dict[str, str]:
    """`make run` is the local demo: it turns the development tools (/dev/phone) on unless
    told otherwise (DEV_TOOLS=0) or in production mode, where they must stay off."""
    if environ.get("PRIVACYBOT_ENV") == "production" or "DEV_TOOLS" in environ:
        return {}
    return {"DEV_TOOLS": "1"}


def cmd_run(args: argparse.Namespace) -> int:
    overrides = demo_overrides(os.environ)
    stack = make_stack(overrides)
    if overrides:
        print("DEV_TOOLS=1 for this local demo: /dev/phone is on (loopback only).", flush=True)
    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    print("Starting rasa, actions and web (rasa takes 20-40 s to load its model)...", flush=True)
    stack.start(log_dir=stack.data_dir / "logs")
    try:
        stack.wait_ready()
        stack.add(retention_process(stack), stack.data_dir / "logs")
        _print_urls(stack)
        while not stopping:
            for process in stack.processes:
                if process.popen and process.popen.poll() is not None:
                    print(
                        f"{process.name} stopped (exit {process.popen.returncode}); "
                        f"see {stack.data_dir / 'logs' / process.name}.log",
                        file=sys.stderr,
                    )
                    stopping = True
            time.sleep(0.5)
    except (TimeoutError, RuntimeError) as error:
        print(f"privacybot: {error}; logs in {stack.data_dir / 'logs'}", file=sys.stderr)
        return 1
    finally:
        print("Stopping...", flush=True)
        stack.stop()
    return 0


def _print_urls(stack: Stack) -> None:
    s = stack.settings
    phone = f"  Play a resident's phone (SMS, dev only)  {stack.web_url}/dev/phone\n"
    print(
        f"\nReady for {s.org}:\n"
        f"  Landlord demo page with the chat widget  {stack.web_url}/\n"
        f"  Staff handoff inbox                      {stack.web_url}/inbox\n"
        f"{phone if s.dev_tools else ''}"
        f"  Rasa HTTP API (token in {s.data_dir}/dev-secrets.env)  {stack.rasa_url}\n"
        f"  Action server                            {stack.actions_url}\n"
        f"Retention purge every {s.purge_interval_seconds} s "
        f"(TRANSCRIPT_RETENTION_DAYS={s.transcript_retention_days})\n"
        f"Logs: {s.data_dir / 'logs'}   Stop with Ctrl-C.\n"
        "Create a staff login: .venv/bin/privacybot staff add you@example.org --role admin",
        flush=True,
    )
