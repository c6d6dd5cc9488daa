"""Tokenising and a vectorised BM25 (precomputed weight matrix: a query is one column sum)."""

from __future__ import annotations

import math
import re

import numpy as np
from scipy import sparse

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    i'm you're it's don't can't won't what's im u ur pls please hi hello hey thanks thank""".split()
)


def stem(word: str) -> str:
    """Tiny suffix stripper: enough to match 'cookies'/'cookie', 'shared'/'sharing'/'share'."""
    if len(word) <= 4:
        return word
    for suffix, repl in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("edly", ""), ("ed", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + repl
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokens(text: str, keep_stopwords: bool = False) -> list[str]:
    words = _WORD.findall(text.lower().replace("’", "'"))
    words = [w.split("'")[0] if w.endswith(("'s", "'t")) else w for w in words]
    return [stem(w) for w in words if keep_stopwords or w not in STOPWORDS]


class BM25:
    """Okapi BM25 over a fixed corpus. Why not rank_bm25 at query time: its scoring loops
    over documents in Python; here a query is a sparse column sum (well under 1 ms)."""

    def __init__(self, docs: list[str], k1: float = 1.2, b: float = 0.75) -> None:
        tokenised = [tokens(d) for d in docs]
        self.vocab: dict[str, int] = {}
        rows, cols, vals = [], [], []
        for i, toks in enumerate(tokenised):
            counts: dict[int, int] = {}
            for t in toks:
                j = self.vocab.setdefault(t, len(self.vocab))
                counts[j] = counts.get(j, 0) + 1
            for j, c in counts.items():
                rows.append(i)
                cols.append(j)
                vals.append(c)
        n_docs = max(1, len(docs))
        lengths = np.array([max(1, len(t)) for t in tokenised] or [1], dtype=np.float64)
        avg = float(lengths.mean())
        tf = np.array(vals, dtype=np.float64)
        df = np.bincount(np.array(cols, dtype=np.int64), minlength=len(self.vocab))
        idf = np.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
        norm = k1 * (1 - b + b * lengths[np.array(rows, dtype=np.int64)] / avg) if rows else 0
        weights = idf[np.array(cols, dtype=np.int64)] * tf * (k1 + 1) / (tf + norm) if rows else tf
        self.matrix = sparse.csc_matrix(
            (weights, (rows, cols)), shape=(len(docs), max(1, len(self.vocab)))
        )
        self.idf = idf
        self.n_docs = len(docs)

    def query_columns(self, query: str) -> list[int]:
        return [self.vocab[t] for t in tokens(query) if t in self.vocab]

    def scores(self, query: str) -> np.ndarray:
        cols = self.query_columns(query)
        if not cols or self.n_docs == 0:
            return np.zeros(self.n_docs, dtype=np.float32)
        return np.asarray(self.matrix[:, cols].sum(axis=1), dtype=np.float32).ravel()


def idf_weight(token: str, df: dict[str, int], n: int) -> float:
    return math.log(1.0 + (n - df.get(token, 0) + 0.5) / (df.get(token, 0) + 0.5))
