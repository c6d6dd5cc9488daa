"""Messages that ask two things ("How long do you keep my file? And who can see it?").

Each asking sentence that carries its own topic becomes a part; the answerer answers up
to two parts, each with its own citation, when they land on different passages. A part
that leans on the sentence before ("who can see it?") is read with it.
"""

from __future__ import annotations

from knowledge.focus import _ASKING, _leans_back, sentences

MAX_PARTS = 2
PART_CHARS = 480  # per part on the web; SMS shortening happens where the reply is sent


def question_parts(text: str) -> list[str]:
    """The separately answerable questions of a message (empty when it asks one thing)."""
    parts = sentences(text)
    asking = [k for k, s in enumerate(parts) if _ASKING.search(s)]
    if len(asking) < MAX_PARTS:
        return []
    out: list[str] = []
    for k in asking:
        part = parts[k]
        if _leans_back(part) and k:  # "and who can see it?" needs what "it" is
            part = f"{part} ({parts[k - 1]})"
        out.append(part)
    return out[:MAX_PARTS]
