"""The question inside a long message.

"My boiler broke three times this winter. Anyway, can I get a copy of everything you hold
on me? The engineer was rude." asks one thing; the boiler and the engineer pull retrieval
towards repairs and complaints. The sentences that ask (a '?', an interrogative opening,
"I want to know ...") are the focus; knowledge.retrieve fuses the focus's scores with the
whole message's, so the story still counts (it can carry the topic: "...my son. Does he
need to know?") but no longer steers.
"""

from __future__ import annotations

import re

_SENTENCE = re.compile(r"(?<=[.!?])[\"”’)]?\s+|\n+")
_ASKING = re.compile(
    r"\?\s*$|^(and |but |so |also |anyway,? |ok,? |please,? )?(how|what|whats|what's|why|who|"
    r"whom|whose|where|when|which|is|are|am|was|were|do|does|did|can|could|will|would|"
    r"should|shall|may|might|have|has|must)\b|\b(i (want|need|would like|'d like|wish) to "
    r"know|tell me|let me know|wondering|i want a copy|can i|could i|do i|am i)\b",
    re.IGNORECASE,
)
MIN_SENTENCES = 3  # shorter: the other sentence usually carries the topic
MAX_FOCUS = 2  # a multi-part message keeps its first two questions


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text.strip()) if s and s.strip()]


def question_focus(text: str) -> str | None:
    """The asking sentence(s) of a message that also tells a story, else None."""
    parts = sentences(text)
    if len(parts) < MIN_SENTENCES:
        return None
    asking = [k for k, s in enumerate(parts) if _ASKING.search(s)]
    if not asking or len(asking) == len(parts):
        return None
    asking = asking[:MAX_FOCUS]
    keep: set[int] = set()
    for k in asking:
        keep.add(k)
        if k and _leans_back(parts[k]):  # "is that even allowed?" needs what "that" is
            keep.add(k - 1)
    if len(keep) == len(parts):
        return None
    return " ".join(parts[k] for k in sorted(keep))


_POINTING = re.compile(r"\b(it|its|that|this|they|them|those|these|there|so|then)\b", re.I)
MIN_CONTENT = 4  # fewer content words than this: the question leans on the sentence before


def _leans_back(sentence: str) -> bool:
    from knowledge.lexical import tokens

    return bool(_POINTING.search(sentence)) or len(tokens(sentence)) < MIN_CONTENT
