"""The runner's supervision with real child processes shaped like Sanic and gunicorn (a
main process and a forked worker that holds the port; tests/fakes/forking_server.py):
restarts with backoff, orphaned workers cleared, nothing left behind after the runner
is stopped or SIGKILLed."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests

from privacybot import runner
from privacybot.runner import GIVE_UP_AFTER, GaveUp, Process, Stack, free_port, make_stack
from tests.conftest import PROJECT_ROOT


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}


def forking_server(port: int, name: str = "srv") -> Process:
    argv = [sys.executable, "-m", "tests.fakes.forking_server", str(port)]
    return Process(name, argv, f"http://127.0.0.1:{port}/", env=_env())


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    stack = make_stack(
        {
            "DATA_DIR": str(tmp_path),
            "SECRET_KEY": "k",
            "RASA_TOKEN": "t",
            "TWILIO_AUTH_TOKEN": "a",
        }
    )
    yield stack
    stack.stop()


def test_backoff_doubles_up_to_thirty_seconds() -> None:
    assert [runner.backoff(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_a_killed_child_is_restarted_and_its_orphaned_worker_cleared(
    stack: Stack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    server = stack.add(forking_server(port), tmp_path / "logs")
    stack.wait_ready(timeout=20)
    worker = int(requests.get(f"http://127.0.0.1:{port}/", timeout=2).text)
    assert server.popen is not None
    os.kill(server.popen.pid, signal.SIGKILL)
    server.popen.wait()
    # What issue 10 saw: the worker outlives its main process and keeps the port.
    assert psutil.pid_exists(worker) and not port_free(port)

    with caplog.at_level(logging.WARNING, logger="privacybot.runner"):
        stack.check_children()
        assert gone(worker) and port_free(port)
        assert server.restart_at is not None
        assert server.restart_at - time.monotonic() == pytest.approx(1.0, abs=0.3)
        stack.check_children(now=server.restart_at)
    stack.wait_ready(timeout=20)
    assert server.restarts == 1
    assert int(requests.get(f"http://127.0.0.1:{port}/", timeout=2).text) != worker
    assert "srv exited (code -9)" in caplog.text and "srv restarted (restart 1" in caplog.text

    new_worker = int(requests.get(f"http://127.0.0.1:{port}/", timeout=2).text)
    stack.stop()
    assert gone(new_worker) and port_free(port)


def test_a_child_that_exits_while_starting_is_restarted_not_fatal(
    stack: Stack, tmp_path: Path
) -> None:
    """What the scaled profile's second Rasa did once: exit 0 during start-up. Waiting for
    the stack restarts it like any crash instead of stopping everything."""
    port = free_port()
    marker = tmp_path / "started-once"
    first_run_exits = textwrap.dedent(
        f"""
        import pathlib, runpy, sys
        marker = pathlib.Path({str(marker)!r})
        if not marker.exists():
            marker.touch()
            raise SystemExit(0)
        sys.argv = ["forking_server", "{port}"]
        runpy.run_module("tests.fakes.forking_server", run_name="__main__")
        """
    )
    flaky = stack.add(
        Process(
            "flaky",
            [sys.executable, "-c", first_run_exits],
            f"http://127.0.0.1:{port}/",
            env=_env(),
        ),
        tmp_path / "logs",
    )
    stack.wait_ready(timeout=30)
    assert flaky.restarts == 1 and flaky.running
    assert requests.get(f"http://127.0.0.1:{port}/", timeout=2).ok


def test_fast_failures_back_off_then_give_up(stack: Stack) -> None:
    crash = stack.add(Process("crash", [sys.executable, "-c", "raise SystemExit(3)"], None))
    delays = []
    with pytest.raises(GaveUp, match="crash failed 10 times"):
        for _ in range(GIVE_UP_AFTER + 1):
            assert crash.popen is not None
            crash.popen.wait()
            detected = crash.started_at + 0.5  # it died half a second after starting
            stack.check_children(now=detected)
            assert crash.restart_at is not None
            delays.append(crash.restart_at - detected)
            stack.check_children(now=crash.restart_at)
    assert delays == pytest.approx([1, 2, 4, 8, 16, 30, 30, 30, 30, 30])


def test_a_crash_after_a_long_run_starts_the_backoff_again(stack: Stack) -> None:
    crash = stack.add(Process("crash", [sys.executable, "-c", "raise SystemExit(3)"], None))
    crash.fast_failures = 5  # it had been failing before this run
    assert crash.popen is not None
    crash.popen.wait()
    stack.check_children(now=crash.started_at + runner.STABLE_AFTER + 1)
    assert crash.fast_failures == 1 and crash.restart_at is not None


RUNNER_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from privacybot import runner

    port, data_dir = int(sys.argv[1]), sys.argv[2]
    argv = [sys.executable, "-m", "tests.fakes.forking_server", str(port)]
    runner.CHILDREN[:] = [
        lambda stack: runner.Process("srv", argv, f"http://127.0.0.1:{port}/", env=stack.env)
    ]
    stack = runner.make_stack({"DATA_DIR": data_dir, "SECRET_KEY": "k", "RASA_TOKEN": "t",
                               "TWILIO_AUTH_TOKEN": "a"})
    sys.exit(runner.serve(stack, Path(data_dir) / "logs", announce=False))
    """
)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_stopping_the_runner_leaves_no_process_and_frees_the_port(
    tmp_path: Path, how: signal.Signals
) -> None:
    port = free_port()
    parent = subprocess.Popen(
        [sys.executable, "-c", RUNNER_SCRIPT, str(port), str(tmp_path)],
        cwd=PROJECT_ROOT,
        env=_env(),
        stdout=subprocess.DEVNULL,
    )
    leftovers: list[int] = []
    try:
        deadline = time.monotonic() + 30
        while port_free(port):
            assert time.monotonic() < deadline and parent.poll() is None, "runner did not start"
            time.sleep(0.1)
        worker = int(requests.get(f"http://127.0.0.1:{port}/", timeout=2).text)
        [main] = psutil.Process(parent.pid).children()
        leftovers += [main.pid, worker]
        parent.send_signal(how)
        code = parent.wait(timeout=30)
        assert code == (0 if how == signal.SIGTERM else -signal.SIGKILL)
        assert gone(main.pid) and gone(worker) and port_free(port)
    finally:
        if parent.poll() is None:
            parent.kill()
        for pid in leftovers:  # a failed run must not leave them to the next test
            if psutil.pid_exists(pid):
                os.kill(pid, signal.SIGKILL)


def test_the_action_server_encodes_with_one_torch_thread_unless_told(tmp_path: Path) -> None:
    base = {"DATA_DIR": str(tmp_path), "SECRET_KEY": "k", "RASA_TOKEN": "t"}
    stack = make_stack(base)
    assert runner.actions_process(stack).env["EMBED_THREADS"] == "1"
    assert runner.actions_process(stack, free_port()).env["EMBED_THREADS"] == "1"
    assert runner.web_process(stack).env.get("EMBED_THREADS") == os.environ.get("EMBED_THREADS")
    told = make_stack({**base, "EMBED_THREADS": "2"})
    assert runner.actions_process(told).env["EMBED_THREADS"] == "2"
