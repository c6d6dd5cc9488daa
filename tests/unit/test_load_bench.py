"""The load bench's CPU figures: whole process trees, per message of each group."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass

import psutil

from tests.bench.load_bench import _cpu, _tree_cpu_seconds, cpu_ms_per_message

# A parent whose worker (a grandchild of the test) burns about 0.4 s of CPU, then idles,
# as a Sanic or gunicorn worker does under the main process the runner started.
_PARENT = """
import subprocess, sys, time
worker = subprocess.Popen([sys.executable, "-c",
    "import time\\nt = time.process_time()\\nwhile time.process_time() - t < 0.4: pass\\n"
    "time.sleep(60)"])
time.sleep(60)
"""


@dataclass
class FakePopen:
    pid: int


@dataclass
class FakeProcess:
    name: str
    popen: FakePopen
    running: bool = True


def test_tree_cpu_counts_the_workers_of_a_child() -> None:
    parent = subprocess.Popen([sys.executable, "-c", _PARENT])
    try:
        deadline = time.monotonic() + 30
        while _tree_cpu_seconds(parent.pid) < 0.4 and time.monotonic() < deadline:
            time.sleep(0.1)
        used = _tree_cpu_seconds(parent.pid)
        # the parent alone only started Python and sleeps; the worker's 0.4 s is counted
        assert used >= 0.4
        twice = [FakeProcess(name, FakePopen(parent.pid)) for name in ("rasa", "rasa-5006")]
        groups = _cpu(twice)
        assert set(groups) == {"rasa"} and groups["rasa"] >= 0.8
    finally:
        for worker in psutil.Process(parent.pid).children(recursive=True):
            worker.kill()
        parent.kill()
        parent.wait()


def test_a_gone_process_counts_nothing() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert _tree_cpu_seconds(gone.pid) == 0.0


def test_per_message_figures_divide_by_the_turns_each_group_ran() -> None:
    before = {"rasa": 10.0, "actions": 5.0, "web": 1.0}
    after = {"rasa": 22.0, "actions": 11.0, "web": 4.0, "postgres": 2.0}
    figures = cpu_ms_per_message(before, after, through_web=100, direct=20)
    # rasa and actions also ran the direct probe's 20 turns; web only the 100 of its own
    assert figures == {"rasa": 100.0, "actions": 50.0, "web": 30.0, "postgres": 20.0}
    assert cpu_ms_per_message(before, after, through_web=0, direct=0)["web"] is None
