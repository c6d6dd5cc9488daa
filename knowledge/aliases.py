"""Names the notices spell out themselves: "Department for Work and Pensions (DWP)",
"Potentially Violent Persons Register (PVPR)". A question that uses the short form ("do
you tell the dwp") is read with the long one the passage uses, and the other way round.
Built from the notice text when the answerer loads, so a new notice brings its own names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_ABBR = re.compile(r"\(([A-Z]{2,6})s?\)")
_JOINERS = frozenset({"and", "of", "for", "the", "&", "on", "in"})
MAX_WORDS = 9


def _expansion(words: list[str], abbr: str) -> str | None:
    """The words before '(ABBR)' whose capitals spell it, skipping joining words."""
    want = list(abbr.lower())
    picked: list[str] = []
    for word in reversed(words[-MAX_WORDS:]):
        bare = word.strip(",.;:'’\"")
        if not want:
            break
        if bare.lower() in _JOINERS and picked:
            picked.append(bare)
            continue
        if bare[:1].isupper() and bare[:1].lower() == want[-1]:
            picked.append(bare)
            want.pop()
            continue
        return None
    if want:
        return None
    return " ".join(reversed(picked))


def notice_aliases(texts: Iterable[str]) -> dict[str, str]:
    """Short form (lower case) -> the long form the notices use."""
    out: dict[str, str] = {}
    for text in texts:
        for m in _ABBR.finditer(text):
            long = _expansion(text[: m.start()].split(), m.group(1))
            if long:
                out.setdefault(m.group(1).lower(), long)
    return out


def with_aliases(question: str, aliases: dict[str, str]) -> str:
    """The question plus the long form of each short name it uses."""
    words = set(re.findall(r"[a-z]+", question.lower()))
    extra = [aliases[w] for w in sorted(words) if w in aliases]
    # Plural short forms ("MPs") read as the singular.
    extra += [aliases[w[:-1]] for w in sorted(words) if w.endswith("s") and w[:-1] in aliases]
    if not extra:
        return question
    return f"{question} ({'; '.join(dict.fromkeys(extra))})"
