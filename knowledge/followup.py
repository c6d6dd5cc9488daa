"""Follow-up questions ("who can see it?", "and the council?", "how long for?") read
against the previous question of the same conversation.

The caller (the answer action) passes the previous question; this module decides whether
the new message leans on it and, if so, builds the query retrieval reads: the follow-up
first (it is what is asked now), the earlier question after it for the topic.
"""

from __future__ import annotations

import re

from knowledge.lexical import tokens

# Words that point back at something said before.
_ANAPHORA = re.compile(
    r"\b(it|its|it's|that|this|those|these|them|they|there|one|same|then|else|also|too)\b",
    re.IGNORECASE,
)
_LEADS = re.compile(
    r"^\s*(and|but|so|or|also|plus|what about|how about|and what about|what if|"
    r"same for|same with|ok(ay)?|right|then)\b",
    re.IGNORECASE,
)
# A message short enough that it cannot carry its own topic.
_SHORT = 6
_MIN_OWN_TOPIC = 3  # content words that make a message stand on its own


def leans_on_previous(text: str) -> bool:
    """True when the message reads as a follow-up rather than a new question."""
    words = re.findall(r"[\w']+", text)
    if not words:
        return False
    if _LEADS.search(text) and len(words) <= 10:
        return True
    if len(words) > _SHORT:
        return False
    content = [t for t in tokens(text) if len(t) > 2]
    return bool(_ANAPHORA.search(text)) or len(content) < _MIN_OWN_TOPIC


def contextual_query(text: str, previous_question: str | None) -> str:
    """The text retrieval reads: the follow-up plus the earlier question when it leans on it."""
    prev = (previous_question or "").strip()
    if not prev or not leans_on_previous(text):
        return text
    return f"{text.strip()} ({prev})"
