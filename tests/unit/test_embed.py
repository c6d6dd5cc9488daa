"""knowledge/embed.py: the torch thread count and the vectors themselves."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
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


def test_vectors_are_exactly_what_the_model_encodes() -> None:
    from knowledge.embed import encode, encode_one, get_model

    texts = [
        "what personal data do you keep about me?",
        "hi",
        "How long do you keep my rent records, and who else sees them when I move out?",
        "who do you share my data with?",
        "who do you share my data with?",
        "STOP",
    ]
    model = get_model()
    for batch_size in (64, 4, 1):
        expected = model.encode(
            texts, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True
        )
        got = encode(texts, batch_size=batch_size)
        assert got.dtype == np.float32 and got.shape == (len(texts), 384)
        assert np.array_equal(got, expected), batch_size
    alone = model.encode(["hi"], convert_to_numpy=True, normalize_embeddings=True)[0]
    assert np.array_equal(encode_one("hi"), alone)
    assert encode([]).shape == (0, 384)
