"""Misspelt and texting spellings mapped onto the notices' own words.

"r u recordin me", "y u need my NI numba", "cn i get my data sent ovr", "informations",
"datas": the encoder and BM25 see rare word pieces that match nothing. A word that is
neither one the notices (or the curated FAQ) use nor an English word the encoder knows
whole is replaced by the notice word it most plausibly stands for:

- the same word with its final 'g' dropped ("recordin") or with a plural 's' on a word
  the notices use uncounted ("datas"),
- the same consonants in the same order with vowels dropped ("ovr", "hw", "cn"),
- one edit away (two for longer words), the notices' most frequent such word winning.

Built from the text of the index when the answerer loads: no list of spellings to keep,
and a new notice brings its own vocabulary.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

_WORD = re.compile(r"[A-Za-z]+")
_VOWELS = re.compile(r"[aeiou]")
MIN_EDIT1 = 4  # shorter words: one edit reaches too many others
MIN_EDIT2 = 7


def _skeleton(word: str) -> str:
    return word[0] + _VOWELS.sub("", word[1:])


def _deletes(word: str, depth: int) -> set[str]:
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


def _distance(a: str, b: str) -> int:
    """Optimal string alignment distance (a transposition counts as one edit)."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


class Speller:
    def __init__(self, texts: Iterable[str], english: Iterable[str] = ()) -> None:
        self.freq: Counter[str] = Counter(
            w.lower() for text in texts for w in _WORD.findall(text) if len(w) > 1
        )
        self.known = frozenset(self.freq) | frozenset(w.lower() for w in english)
        self.by_skeleton: dict[str, str] = {}
        self.by_delete: dict[str, set[str]] = {}
        for word, _ in self.freq.most_common():  # most frequent first: it keeps the key
            if len(word) >= 3:
                self.by_skeleton.setdefault(_skeleton(word), word)
            if len(word) >= MIN_EDIT1 - 1:
                depth = 2 if len(word) >= MIN_EDIT2 - 1 else 1
                for d in _deletes(word, depth):
                    self.by_delete.setdefault(d, set()).add(word)

    def suggest(self, word: str) -> str | None:
        """The notice word `word` stands for, or None when it is fine as it is."""
        w = word.lower()
        if w in self.known or len(w) < 2:
            return None
        for cand in (w + "g", w[:-1] if w.endswith("s") else ""):
            if cand in self.freq:
                return cand
        if len(w) <= 4 and not _VOWELS.search(w[1:]) and _skeleton(w) in self.by_skeleton:
            return self.by_skeleton[_skeleton(w)]
        if len(w) < MIN_EDIT1:
            return None
        depth = 2 if len(w) >= MIN_EDIT2 else 1
        found: set[str] = set()
        for d in _deletes(w, depth):
            found |= self.by_delete.get(d, set())
        scored = [(_distance(w, c), -self.freq[c], c) for c in found]
        scored = [s for s in scored if s[0] <= depth]
        return min(scored)[2] if scored else None

    def correct(self, text: str) -> str:
        shouting = text.upper() == text

        def fix(m: re.Match[str]) -> str:
            word = m.group(0)
            # A capital inside ordinary text is a name ("Edgware", "Re Limited").
            if not shouting and word[:1].isupper():
                return word
            return self.suggest(word) or word

        return _WORD.sub(fix, text)
