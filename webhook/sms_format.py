"""Fitting replies into SMS: GSM-7 vs UCS-2 aware segment counting, sentence-boundary
cuts, at most three segments per reply, citations shortened.

Why three segments: longer concatenated messages arrive out of order or split on some
phones and cost more; an answer that does not fit points to a person instead.
"""

from __future__ import annotations

import math
import re

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = "^{}\\[~]|€\f"  # each costs two septets (escape + char)
_GSM = set(GSM_BASIC) | set(GSM_EXTENDED)
MAX_SEGMENTS = 3

# Typographic characters that would force the whole message into UCS-2 (70 chars a segment).
_TO_GSM = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u2022": "-",
        "\u2026": "...",
        "\t": " ",
    }
)
_CITATION = re.compile(
    r"\((?P<label>Source|From|Quoted from|See|Notice)\s*:?\s*(?P<name>[^,;()\n]+)[^()\n]*\)",
    re.IGNORECASE,
)
_SOURCE_LINE = re.compile(
    r"^(?P<label>Source|From|Quoted from)\s*:\s*(?P<name>[^,;\n(]+).*$",
    re.IGNORECASE | re.MULTILINE,
)
_URL = re.compile(r"https?://(?:www\.)?([^\s?#)]+)(?:[?#][^\s)]*)?")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def normalise(text: str) -> str:
    return text.translate(_TO_GSM).strip()


def is_gsm(text: str) -> bool:
    return all(c in _GSM for c in text)


def segments(text: str) -> int:
    """How many SMS segments Twilio will bill for this body."""
    if not text:
        return 1
    if is_gsm(text):
        septets = sum(2 if c in GSM_EXTENDED else 1 for c in text)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def shorten_citations(text: str) -> str:
    """'(Source: Barnet Homes privacy policy, section "Your rights")' -> '(Source: ...policy)'."""
    text = _CITATION.sub(lambda m: f"({m['label'].title()}: {m['name'].strip()})", text)
    text = _SOURCE_LINE.sub(lambda m: f"{m['label'].title()}: {m['name'].strip()}", text)
    text = _URL.sub(lambda m: m.group(1).rstrip("/"), text)
    return re.sub(r"[ ]{2,}", " ", text)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def fit(text: str, max_segments: int = MAX_SEGMENTS, suffix: str = "") -> str:
    """The longest prefix of whole sentences (plus `suffix`) that fits `max_segments`."""
    text = shorten_citations(normalise(text))
    suffix = normalise(suffix)

    def join(parts: list[str]) -> str:
        body = " ".join(parts)
        return f"{body}\n{suffix}" if suffix and body else body or suffix

    if segments(join([text])) <= max_segments:
        return join([text])
    kept: list[str] = []
    for sentence in _sentences(text):
        if segments(join([*kept, sentence])) > max_segments:
            break
        kept.append(sentence)
    if kept:
        return join(kept)
    # Not even one sentence fits: cut the first one at a word boundary.
    words, cut = _sentences(text)[0].split(), []
    for word in words:
        if segments(join([" ".join([*cut, word]) + "..."])) > max_segments:
            break
        cut.append(word)
    return join([" ".join(cut) + "..."])


def options_line(buttons: list[dict[str, str]]) -> str:
    """Quick replies become numbered options: 'Reply 1 Yes, 2 No'."""
    if not buttons:
        return ""
    return "Reply " + ", ".join(f"{i} {b['title']}" for i, b in enumerate(buttons, 1))


def format_reply(texts: list[str], buttons: list[dict[str, str]] | None = None) -> str:
    """One SMS body (<= 3 segments) from the bot's messages of one turn."""
    body = "\n".join(t.strip() for t in texts if t and t.strip())
    return fit(body, MAX_SEGMENTS, suffix=options_line(buttons or []))
