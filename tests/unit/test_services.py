"""The scaled profile's throwaway servers: what a SIGKILLed runner left behind (its
PostgreSQL cluster holds casework data) is removed by the next run, and nothing else is."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from privacybot.services import OWNER_FILE, _scratch_dir, remove_stale


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_only_directories_whose_owner_is_gone_are_removed(tmp_path: Path) -> None:
    live = _scratch_dir("pg-", tmp_path)  # owned by this test's process
    left = _scratch_dir("pg-", tmp_path)
    (left / OWNER_FILE).write_text(str(_dead_pid()))
    (left / "data").mkdir()
    left_redis = _scratch_dir("redis-", tmp_path)
    (left_redis / OWNER_FILE).write_text(str(_dead_pid()))
    foreign = tmp_path / "pg-someone-else"  # no owner file: not ours
    foreign.mkdir()

    assert sorted(remove_stale(tmp_path)) == sorted([left, left_redis])
    assert live.is_dir() and foreign.is_dir()
    assert not left.exists() and not left_redis.exists()
