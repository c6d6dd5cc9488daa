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
    shared = _fit_paragraphs(text, max_segments, join)
    if shared:
        return shared
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


_CITE_MARKS = ("—", "- ")  # a citation line ('—' is '-' once made GSM)


def _fit_paragraphs(text: str, max_segments: int, join) -> str | None:  # noqa: ANN001
    """A reply in paragraphs (a two-part answer, each part with its citation line): each
    part keeps its first sentence and citation before any part gets a second sentence, so
    the cut never drops the second part whole. None when the text is one paragraph or not
    even the first sentences fit."""
    paragraphs = [_sentences(p) for p in re.split(r"\n\s*\n", text) if p.strip()]
    if len(paragraphs) < 2:
        return None
    # The units to keep in turn: first sentence with the paragraph's citation ('— ...'),
    # then the other sentences, one per paragraph per round.
    heads, tails = [], []
    for units in paragraphs:
        cite = [u for u in units[1:] if u.startswith(_CITE_MARKS)][-1:]
        body = [u for u in units if u not in cite]
        heads.append(body[:1] + cite)
        tails.append(body[1:])
    kept = [list(h) for h in heads]

    def render(keep: list[list[str]]) -> str:
        def ordered(units: list[str]) -> str:  # sentences first, its citation last
            cites = [u for u in units if u.startswith(_CITE_MARKS)]
            return " ".join([u for u in units if u not in cites] + cites)

        return join(["\n".join(ordered(k) for k in keep if k)])

    if segments(render(kept)) > max_segments:
        return None
    for rnd in range(max((len(t) for t in tails), default=0)):
        for k, tail in enumerate(tails):
            if rnd >= len(tail) or len(kept[k]) - len(heads[k]) != rnd:
                continue
            trial = [list(x) for x in kept]
            trial[k].append(tail[rnd])
            if segments(render(trial)) <= max_segments:
                kept = trial
    return render(kept)


def options_line(buttons: list[dict[str, str]]) -> str:
    """Quick replies become numbered options: 'Reply 1 Yes, 2 No'."""
    if not buttons:
        return ""
    return "Reply " + ", ".join(f"{i} {b['title']}" for i, b in enumerate(buttons, 1))


def format_reply(texts: list[str], buttons: list[dict[str, str]] | None = None) -> str:
    """One SMS body (<= 3 segments) from the bot's messages of one turn."""
    body = "\n".join(t.strip() for t in texts if t and t.strip())
    return fit(body, MAX_SEGMENTS, suffix=options_line(buttons or []))
