"""Starts the processes (rasa, actions, web), waits until each answers, restarts any
that crashes (with backoff) and stops them together, whole process trees included.
`make run` uses it in the foreground; the test suite uses it to start the real stack on
free loopback ports.

Each child leads its own process group (Sanic and gunicorn fork workers into it) and
gets a parent-death signal, so even a SIGKILLed runner leaves no process holding a port.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import requests

from privacybot.settings import PROJECT_ROOT, Settings, load_settings, tracker_settings

VENV_BIN = PROJECT_ROOT / ".venv" / "bin"
RASA_BIN = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
MODEL_PATH = PROJECT_ROOT / "models" / "privacybot.tar.gz"
BOT_DIR = PROJECT_ROOT / "bot"

log = logging.getLogger("privacybot.runner")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Restart policy: 1, 2, 4 ... 30 s between attempts; a run that lasted STABLE_AFTER
# seconds was a success and resets the count; GIVE_UP_AFTER fast failures in a row mean
# the part cannot start (a bad model, a port taken by someone else), and the stack stops.
BACKOFF_CAP = 30.0
STABLE_AFTER = 60.0
GIVE_UP_AFTER = 10
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class GaveUp(RuntimeError):
    """A child kept failing right after each restart."""


def backoff(failures: int) -> float:
    return min(BACKOFF_CAP, 2.0 ** max(0, failures - 1))


@dataclass
class Process:
    """One supervised child. `health_url` None: healthy while it runs (a periodic job)."""

    name: str
    argv: list[str]
    health_url: str | None
    cwd: Path = PROJECT_ROOT
    env: dict[str, str] = field(default_factory=dict)
    popen: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None
    log_dir: Path | None = None
    started_at: float = 0.0
    restarts: int = 0  # in total, for the logs and the tests
    fast_failures: int = 0  # in a row
    restart_at: float | None = None  # a restart is due then

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


@dataclass
class Stack:
    """The running product: URLs and the environment the processes share."""

    settings: Settings
    env: dict[str, str]
    processes: list[Process] = field(default_factory=list)
    web_workers: int = 1
    stopping: threading.Event = field(default_factory=threading.Event)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _supervisor: threading.Thread | None = None

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

    def process(self, name: str) -> Process:
        return next(p for p in self.processes if p.name == name)

    def start(self, log_dir: Path | None = None, web_workers: int = 1) -> Stack:
        from casework.db import upgrade

        upgrade(self.database_url)  # once, before two processes race to migrate
        self.web_workers = web_workers
        # Processes added before start (the scaled profile's PostgreSQL and Redis) stay.
        children = [make(self) for make in CHILDREN]
        for process in children:
            _spawn(process, log_dir)
        self.processes = [*self.processes, *children]
        return self

    def add(self, process: Process, log_dir: Path | None = None) -> Process:
        """Start one more process (e.g. a second Rasa); it is supervised and stopped with
        the stack."""
        with self._lock:
            _spawn(process, log_dir)
            self.processes.append(process)
        return process

    def wait_ready(self, timeout: float = 240.0) -> None:
        """Wait until every child answers. A child that exits while starting is restarted
        like one that crashes later (the scaled profile's second Rasa once exited 0 while
        starting, cause unknown); GaveUp or the timeout ends the wait."""
        deadline = time.monotonic() + timeout
        for process in self.processes:
            while not _healthy(process):
                if self.stopping.is_set():
                    raise RuntimeError("stopped while starting")
                self.check_children()
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{process.name} not ready after {timeout:.0f}s"
                        f" ({process.restarts} restarts)"
                    )
                time.sleep(0.5)

    def check_children(self, now: float | None = None) -> None:
        """One supervision round: a child that exited is restarted after its backoff.
        Raises GaveUp after GIVE_UP_AFTER fast failures of one child."""
        with self._lock:
            if self.stopping.is_set():
                return
            now = time.monotonic() if now is None else now
            for process in self.processes:
                _supervise_one(process, now)

    def supervise(self, interval: float = 0.5) -> Stack:
        """Run check_children in a thread until stop() (the test stacks; `privacybot run`
        does the same in its main loop)."""

        def loop() -> None:
            while not self.stopping.wait(interval):
                try:
                    self.check_children()
                except GaveUp as error:
                    log.error("%s; no more restarts", error)
                    return

        # Children restarted by this thread get its death as their parent-death signal,
        # so it lives until stop().
        self._supervisor = threading.Thread(target=loop, name="supervisor", daemon=True)
        self._supervisor.start()
        return self

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM to every child's whole process group (Sanic and gunicorn workers too),
        SIGKILL to whatever is left after `timeout`."""
        with self._lock:
            self.stopping.set()
            for process in reversed(self.processes):
                if process.running:
                    _signal_group(process, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            for process in reversed(self.processes):
                if process.popen is None:
                    continue
                try:
                    process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    log.warning("%s did not stop within %.0f s; killing it", process.name, timeout)
                # Workers that outlived their parent are in its group: none may keep a port.
                _signal_group(process, signal.SIGKILL)
                process.popen.wait()
                _wait_group_gone(process)
                if process.log:
                    process.log.close()
                    process.log = None

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _supervise_one(process: Process, now: float) -> None:
    if process.popen is None:
        return
    if process.running:
        if process.fast_failures and now - process.started_at >= STABLE_AFTER:
            process.fast_failures = 0  # it has stayed up: the next crash starts at 1 s again
        return
    if process.restart_at is None:  # it has just exited
        code, ran = process.popen.returncode, now - process.started_at
        # Its workers may outlive it (an orphaned Sanic worker keeps the port): clear the group.
        _signal_group(process, signal.SIGKILL)
        process.fast_failures = process.fast_failures + 1 if ran < STABLE_AFTER else 1
        if process.fast_failures > GIVE_UP_AFTER:
            raise GaveUp(f"{process.name} failed {GIVE_UP_AFTER} times in a row")
        delay = backoff(process.fast_failures)
        process.restart_at = now + delay
        log.warning(
            "%s exited (code %s) after %.0f s; restarting in %.0f s", process.name, code, ran, delay
        )
        return
    if now >= process.restart_at:
        process.restart_at = None
        process.restarts += 1
        _spawn(process, process.log_dir)
        assert process.popen is not None
        log.warning(
            "%s restarted (restart %d, pid %d)", process.name, process.restarts, process.popen.pid
        )


def _signal_group(process: Process, sig: signal.Signals) -> None:
    if process.popen is None:
        return
    try:
        os.killpg(process.popen.pid, sig)  # the child leads its own group (new session)
    except (ProcessLookupError, PermissionError):
        pass  # the whole group is already gone


def _wait_group_gone(process: Process, timeout: float = 5.0) -> None:
    """SIGKILL is delivered, not awaited: a loaded machine can take a moment to end the
    group's workers, and until then they hold their ports. Wait (briefly) for the group
    to empty, so `stop()` returning means the ports are free."""
    if process.popen is None:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(process.popen.pid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.05)
    log.warning("%s: part of its process group is still ending", process.name)


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


def actions_process(stack: Stack, port: int | None = None) -> Process:
    """An action server; the scaled profile starts a second one on another port."""
    port = port or stack.settings.actions_port
    env = dict(stack.env)
    # One torch thread per encode: a turn's question is one short text, and a second
    # thread costs more CPU (spinning) than it saves, CPU Rasa and the web side need.
    env.setdefault("EMBED_THREADS", "1")
    return Process(
        "actions" if port == stack.settings.actions_port else f"actions-{port}",
        [
            str(VENV_BIN / "python"),
            "-m",
            "rasa_sdk",
            "--actions",
            "actions",
            "-p",
            str(port),
        ],
        f"http://127.0.0.1:{port}/health",
        env=env,
    )


def web_process(stack: Stack) -> Process:
    return Process(
        "web",
        [
            str(VENV_BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{stack.settings.web_port}",
            "--workers",
            str(stack.web_workers),
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


# The children of a stack, in start order. Adding one (a periodic job, say) is one line:
# a function from the Stack to a Process.
CHILDREN: list[Callable[[Stack], Process]] = [
    actions_process,
    lambda stack: rasa_process(stack, stack.settings.rasa_port),
    web_process,
]


def build_processes(stack: Stack) -> list[Process]:
    return [make(stack) for make in CHILDREN]


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn giving the child SIGTERM when the runner dies, however it dies (Linux).

    SIGTERM rather than SIGKILL: gunicorn's and Sanic's main processes then stop their own
    workers. Resolved before fork, so the child calls no Python import machinery.
    """
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    prctl = libc.prctl
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # the runner died before prctl took effect
            os._exit(1)

    return preexec


def retention_process(stack: Stack) -> Process:
    """The scheduled retention purge (`privacybot db purge --every`); it has no HTTP
    endpoint, so it is added after the others are ready and watched like them."""
    every = str(stack.settings.purge_interval_seconds)
    return Process(
        "retention",
        [str(VENV_BIN / "python"), "-m", "privacybot.cli", "db", "purge", "--every", every],
        None,
        env=dict(stack.env),
    )


def _spawn(process: Process, log_dir: Path | None) -> None:
    output: IO[bytes] | None = process.log
    if log_dir is not None and output is None:
        log_dir.mkdir(parents=True, exist_ok=True)
        output = process.log = open(log_dir / f"{process.name}.log", "ab")  # noqa: SIM115
    process.log_dir = log_dir
    process.popen = subprocess.Popen(
        process.argv,
        cwd=process.cwd,
        env=process.env,
        stdout=output,
        stderr=subprocess.STDOUT if output else None,
        start_new_session=True,  # its own process group: stopped as a whole
        preexec_fn=_die_with_parent(),  # noqa: PLW1509 - prctl only; nothing to deadlock on
    )
    process.started_at = time.monotonic()


def _healthy(process: Process) -> bool:
    if process.health_url is None:
        return process.running
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


def configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s privacybot: %(message)s", stream=sys.stderr
    )


def cmd_run(args: argparse.Namespace) -> int:
    """`privacybot run` (`--scaled` is privacybot.scaled's, which builds on this module)."""
    configure_logging()
    overrides = demo_overrides(os.environ)
    stack = make_stack(overrides)
    if overrides:
        print("DEV_TOOLS=1 for this local demo: /dev/phone is on (loopback only).", flush=True)
    print("Starting rasa, actions and web (rasa takes 20-40 s to load its model)...", flush=True)
    return serve(stack, stack.data_dir / "logs")


def serve(
    stack: Stack,
    log_dir: Path,
    announce: bool = True,
    start: Callable[[], object] | None = None,
) -> int:
    """Start the stack (or call `start`, which does), keep its children running until
    SIGTERM or Ctrl-C, stop it."""

    def request_stop(signum: int, _frame: object) -> None:
        stack.stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        start() if start else stack.start(log_dir=log_dir)
        stack.wait_ready()
        stack.add(retention_process(stack), log_dir)
        if announce:
            _print_urls(stack)
        # Supervision runs here, in the thread that spawned the children: their
        # parent-death signal follows the spawning thread, not the process.
        while not stack.stopping.wait(0.5):
            stack.check_children()
    except (TimeoutError, RuntimeError) as error:  # GaveUp is a RuntimeError
        print(f"privacybot: {error}; logs in {log_dir}", file=sys.stderr)
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
