"""Reading and repeating residents' words: cleaning, markup detection, the one question
detector every action uses, risk words, and dates as the bot writes them."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

MAX_ANSWER_CHARS = 300  # the longest answer to a form question that is stored or repeated

_MARKUP = re.compile(r"[<>{}\[\]`\\]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_text(value: Any, limit: int = MAX_ANSWER_CHARS) -> str:
    """Plain, single-line text safe to store and to repeat back: no markup characters."""
    text = _CONTROL.sub(" ", str(value or ""))
    text = _MARKUP.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()[:limit]


def looks_like_markup_or_payload(text: str) -> bool:
    """HTML, JSON or a Rasa payload typed as text is never a valid answer."""
    stripped = text.strip()
    return bool(
        stripped.startswith(("/", "{", "["))
        or re.search(r"<\s*/?\s*[a-zA-Z!]", stripped)
        or re.search(r"[{}]", stripped)
    )


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


# Words that suggest the resident may be at risk, whatever the classifier made of the
# message: the emergency route is then given first (a false alarm costs one sentence).
_RISK = re.compile(
    r"\b(suicid\w*|kill (my ?self|me)|end (it|my life)|hurt (my ?self|me)|terrified|"
    r"scared|frightened|afraid|unsafe|in danger|abus\w*|domestic (abuse|violence)|"
    r"violen\w*|stalk\w*|threaten\w*|self.harm)\b",
    re.IGNORECASE,
)


def at_risk(text: str) -> bool:
    return bool(_RISK.search(text or ""))


# "is my data sent abroad?", "how do I stop your emails", "can i speak to someone":
# a question mark, a question word first, or a question form inside the sentence.
_QUESTION = re.compile(
    r"\?|^\s*(how|what|whats|why|who|where|when|which|is|are|am|do|does|did|can|could|"
    r"will|would|should|have|has|may)\b|\b(how|what|why|who|where|when|which) "
    r"(do|does|can|could|should|is|are|will|would)\b|"
    r"\b(is (that|it|this)|do i (have|need) to|am i|can i|should i|will (it|that|you))\b",
    re.IGNORECASE,
)


def is_question(text: str) -> bool:
    """'How do I stop marketing emails?' asks; it does not yet tell us to act.

    The one question detector: forms use it before acting on a first message, the
    answer triage before answering instead of starting a flow."""
    return bool(_QUESTION.search(text or ""))


# "if I unsubscribe will I still get repair texts?", "does opting out stop my reminders
# too?", "what happens to my photos if I withdraw?": asking what a request would change,
# before deciding to make it. It names the request, but it is not yet the request.
_WHAT_CHANGES = re.compile(
    r"\bif i\b.{0,80}\b(will|would|do|does|is|are|am|can|could) (i|it|that|this|my|the|they)\b|"
    r"\bif i\b.{0,80}\b(will|would|do|does) you\b|"
    r"\b(will|would|do|does|can|could) i (still|also|lose|miss|keep)\b|"
    r"\b(will|would|do|does) (it|that|this) (still|also|stop|affect|mean|change|remove|delete)\b|"
    r"\b(will|would) you still\b|\bwhat (else )?(happens|stops|changes)\b|"
    r"\b(does|will|would|is) (opting|unsubscribing|withdrawing|taking|pulling|cancell?ing|"
    r"stopping|coming off)\b|"
    r"\bwithout (losing|missing|stopping)\b",
    re.IGNORECASE,
)


def asks_what_changes(text: str) -> bool:
    """A question about the consequences of a request ("if I opt out, will I still get
    rent letters?"): answered, and the request then offered, never started on it."""
    return is_question(text) and bool(_WHAT_CHANGES.search(text or ""))


def format_date(day: date) -> str:
    """'Monday 4 January 2027' (no zero padding, no markup)."""
    return f"{day:%A} {day.day} {day:%B %Y}"
