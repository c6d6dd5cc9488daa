"""Throwaway PostgreSQL and Redis on free loopback ports (Debian's server binaries), for
the scaled profile (`privacybot run --scaled`) and the scale-out tests.

Each can run two ways: as a daemon started and stopped here (`with ThrowawayPostgres()`,
the tests), or in the foreground as a child the runner supervises (`foreground_argv`), so
a SIGKILLed runner leaves no database behind. initdb refuses to run as root, so under
root the cluster runs as the `postgres` user.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psutil

from privacybot.runner import free_port

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


OWNER_FILE = "owner.pid"


def _scratch_dir(prefix: str, parent: Path | None = None) -> Path:
    """A fresh directory for one throwaway server (in the system temp directory by default:
    under root the cluster runs as `postgres`, which must reach it), marked with the pid
    of the process that owns it, so a later run can tell it from a live one."""
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    (path / OWNER_FILE).write_text(str(os.getpid()))
    return path


def remove_stale(parent: Path) -> list[Path]:
    """Delete the throwaway servers' directories whose owner is gone (a runner that was
    SIGKILLed cannot clean up after itself; its PostgreSQL cluster holds casework data)."""
    removed = []
    for path in sorted([*parent.glob("pg-*"), *parent.glob("redis-*")]):
        try:
            owner = int((path / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue  # not one of ours
        if not psutil.pid_exists(owner):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout:.0f}s")


class ThrowawayPostgres:
    def __init__(self) -> None:
        self.root = _scratch_dir("pg-")
        self.data = self.root / "data"
        self.port = free_port()
        self._daemon = False

    @property
    def _as_postgres(self) -> list[str]:
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *argv: str) -> None:
        subprocess.run([*self._as_postgres, *argv], check=True, capture_output=True, cwd=self.root)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> ThrowawayPostgres:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
        )
        return self

    def _server_options(self) -> list[str]:
        return ["-p", str(self.port), "-k", str(self.root), "-c", "listen_addresses=127.0.0.1"]

    def foreground_argv(self) -> list[str]:
        """`postgres` itself, for the runner to supervise (after init())."""
        return [
            *self._as_postgres,
            str(PG_BIN / "postgres"),
            "-D",
            str(self.data),
            *self._server_options(),
        ]

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Listening is not enough: the cluster answers "starting up" for a moment."""
        deadline = time.monotonic() + timeout
        probe = [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"]
        while subprocess.run(probe, check=False).returncode != 0:
            if time.monotonic() > deadline:
                raise TimeoutError(f"PostgreSQL not ready after {timeout:.0f}s")
            time.sleep(0.2)

    def start(self) -> ThrowawayPostgres:
        self.init()
        self._run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "pg.log"),
            "-o",
            " ".join(self._server_options()),
            "-w",
            "start",
        )
        self._daemon = True
        return self

    def create_database(self, name: str) -> str:
        self._run(
            str(PG_BIN / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            name,
        )
        return self.url(name)

    def stop(self) -> None:
        try:
            if self._daemon:
                self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            time.sleep(0.2)
            self.remove()

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ThrowawayPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ThrowawayRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.dir = _scratch_dir("redis-")
        self.process: subprocess.Popen[bytes] | None = None

    def foreground_argv(self) -> list[str]:
        # Nothing on disk: the lock store and rate-limit counters are short-lived.
        return [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.dir),
        ]

    def start(self) -> ThrowawayRedis:
        self.process = subprocess.Popen(
            self.foreground_argv(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(self.port, timeout=10)
        return self

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.remove()

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> ThrowawayRedis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
