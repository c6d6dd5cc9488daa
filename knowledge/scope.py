"""Is a message a question about the privacy notices at all?

A small logistic regression over the query embedding plus privacy-vocabulary features,
trained on the project's OWN examples: every FAQ phrasing (in scope) against
knowledge/scope_examples.yml (out of scope: rent, repairs, bins, banking, travel, small
talk...). It is combined with retrieval confidence in knowledge.answer.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np

from knowledge.lexical import stem, tokens

# Stemmed words (and phrases) that mark a question about personal data / the notices.
_PRIVACY_WORDS = {
    stem(w)
    for w in """data information info details detail record records file files privacy private
    personal cookie cookies consent share sharing shared disclose gdpr dpo ico sar
    erase erasure delete deleted forgotten rectify rectification inaccurate object objection
    profiling profile marketing unsubscribe newsletter cctv camera cameras recording recorded
    recordings photo photos photograph diversity gender ethnicity ethnic religion religious
    sexuality sexual orientation disability disabilities equality equalities safeguarding
    retention retain stored storing store secure security breach contractors contractor
    controller lawful legitimate complain ico eea abroad overseas cloud amazon microsoft
    google analytics tracking track hotjar portability restrict processing process processed
    confidential confidentiality subject access copy identity id proof notice policy
    commissioner protection debt collection reference referee landlord statutory
    fraud monitoring monitor surveillance third party parties sell sold passing passed
    ukraine electoral census insight matching""".split()
}
_PHRASES = (
    "subject access",
    "data protection",
    "personal data",
    "personal information",
    "my details",
    "my information",
    "my data",
    "barnet group",
    "let2barnet",
    "twenty11",
    "red kite",
    "third part",
    "bank details",
)
N_LEX = 4


def lexical_features(text: str) -> np.ndarray:
    toks = tokens(text)
    low = text.lower()
    hits = sum(1 for t in toks if t in _PRIVACY_WORDS)
    phrase = sum(1 for p in _PHRASES if p in low)
    question = (
        1.0
        if re.search(r"\?|^(how|what|why|who|where|when|can|do|does|is|are|will|which)\b", low)
        else 0.0
    )
    return np.array(
        [min(hits, 3) / 3.0, min(phrase, 2) / 2.0, question, min(len(toks), 12) / 12.0],
        dtype=np.float32,
    )


def features(qvecs: np.ndarray, texts: list[str]) -> np.ndarray:
    lex = np.stack([lexical_features(t) for t in texts]) if texts else np.zeros((0, N_LEX))
    return np.hstack([qvecs, lex]).astype(np.float32)


class ScopeModel(NamedTuple):
    w: np.ndarray  # logistic regression weights over features()
    b: float
    inside: np.ndarray  # embeddings of the in-scope examples (FAQ phrasings + in_scope)
    outside: np.ndarray  # embeddings of the out-of-scope examples


def train_scope_model(faq: list[dict], examples: dict) -> ScopeModel:
    """Fit the scope classifier and keep the examples' embeddings for neighbour_margin."""
    from sklearn.linear_model import LogisticRegression

    from knowledge.embed import encode

    inside = [str(q) for e in faq for q in e.get("ask", [])]
    inside += [str(q) for q in examples.get("in_scope", [])]
    outside = [str(q) for q in examples.get("out_of_scope", [])]
    if not inside or not outside:
        empty = np.zeros((0, 384), dtype=np.float32)
        return ScopeModel(np.zeros(384 + N_LEX, dtype=np.float32), 0.0, empty, empty)
    texts = inside + outside
    vecs = encode(texts)
    x = features(vecs, texts)
    y = np.array([1] * len(inside) + [0] * len(outside))
    model = LogisticRegression(C=2.0, class_weight="balanced", max_iter=2000)
    model.fit(x, y)
    return ScopeModel(
        model.coef_[0].astype(np.float32),
        float(model.intercept_[0]),
        vecs[: len(inside)],
        vecs[len(inside) :],
    )


def neighbour_margin(qvec: np.ndarray, inside: np.ndarray, outside: np.ndarray) -> float:
    """Closest in-scope example minus closest out-of-scope example (cosines).

    The classifier draws one straight line; a question can sit right next to an example
    on the other side of it ("a recipe for cookies" beside the cookie questions, "my date
    of birth is wrong on your system" beside repair requests). The nearest examples say so.
    """
    if not len(inside) or not len(outside):
        return 0.0
    return float((inside @ qvec).max() - (outside @ qvec).max())


def scope_probability(w: np.ndarray, b: float, qvec: np.ndarray, text: str) -> float:
    x = np.concatenate([qvec, lexical_features(text)])
    return float(1.0 / (1.0 + np.exp(-(float(x @ w) + b))))
