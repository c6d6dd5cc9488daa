"""knowledge/embed.py: the torch thread count and the vectors themselves."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from knowledge.embed import embed_threads


@pytest.mark.parametrize(
    ("given", "threads"), [("1", 1), ("3", 3), ("", None), ("0", None), ("x", None)]
)
def test_embed_threads_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch, given: str, threads: int | None
) -> None:
    monkeypatch.setenv("EMBED_THREADS", given)
    default = max(1, min(2, os.cpu_count() or 1))
    assert embed_threads() == (threads or default)


def test_the_model_runs_torch_with_embed_threads() -> None:
    check = (
        "import torch\nfrom knowledge.embed import get_model\n"
        "get_model()\nprint(torch.get_num_threads())"
    )
    for threads in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-c", check],
            env={**os.environ, "EMBED_THREADS": threads},
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        assert done.stdout.strip().splitlines()[-1] == threads
