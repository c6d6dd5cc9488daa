"""Is a message a question about the privacy notices at all?

A small logistic regression over the query embedding plus privacy-vocabulary features,
trained on the project's OWN examples: every FAQ phrasing (in scope) against
knowledge/scope_examples.yml (out of scope: rent, repairs, bins, banking, travel, small
talk...). It is combined with retrieval confidence in knowledge.answer.
"""

from __future__ import annotations

import re

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


def train_scope_model(faq: list[dict], examples: dict) -> tuple[np.ndarray, float]:
    """Fit the scope classifier; returns (weights, bias)."""
    from sklearn.linear_model import LogisticRegression

    from knowledge.embed import encode

    inside = [str(q) for e in faq for q in e.get("ask", [])]
    inside += [str(q) for q in examples.get("in_scope", [])]
    outside = [str(q) for q in examples.get("out_of_scope", [])]
    if not inside or not outside:
        return np.zeros(384 + N_LEX, dtype=np.float32), 0.0
    texts = inside + outside
    x = features(encode(texts), texts)
    y = np.array([1] * len(inside) + [0] * len(outside))
    model = LogisticRegression(C=2.0, class_weight="balanced", max_iter=2000)
    model.fit(x, y)
    return model.coef_[0].astype(np.float32), float(model.intercept_[0])


def scope_probability(w: np.ndarray, b: float, qvec: np.ndarray, text: str) -> float:
    x = np.concatenate([qvec, lexical_features(text)])
    return float(1.0 / (1.0 + np.exp(-(float(x @ w) + b))))
