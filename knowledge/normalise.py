"""Residents' shorthand, spelled out before a question is embedded and matched.

MiniLM and BM25 both see "u", "sar" or "ico" as rare tokens that match little; the words
they stand for match the notices. The deployment's own name ("does Barnet Homes keep ...")
says nothing about the topic, yet its words pull towards passages that happen to repeat
the name, so it becomes "you", the way the notices address the reader's landlord.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Whole words only, lower case. General SMS spelling and data-protection acronyms.
SHORTHAND = {
    "u": "you",
    "ur": "your",
    "r": "are",
    "pls": "please",
    "plz": "please",
    "wat": "what",
    "wot": "what",
    "wud": "would",
    "cud": "could",
    "shud": "should",
    "ppl": "people",
    "msg": "message",
    "msgs": "messages",
    "txt": "text",
    "info": "information",
    "tel": "telephone",
    "im": "i am",
    "dont": "do not",
    "cant": "cannot",
    "wont": "will not",
    "sar": "subject access request",
    "sars": "subject access requests",
    "dsar": "subject access request",
    "dpo": "data protection officer",
    "ico": "Information Commissioner's Office",
    "gdpr": "data protection law (GDPR)",
    # Public bodies residents name by their initials; the notices spell them out.
    "dwp": "Department for Work and Pensions (DWP)",
    "hmrc": "HM Revenue and Customs (HMRC)",
    "gp": "doctor (GP)",
    "asb": "anti-social behaviour",
    "foi": "Freedom of Information",
    "nhs": "NHS health services",
}
_WORD = re.compile(r"\b[A-Za-z]+\b")


def spell_out(text: str) -> str:
    return _WORD.sub(lambda m: SHORTHAND.get(m.group(0).lower(), m.group(0)), text)


def self_name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    names = [n.strip() for n in names if n and n.strip()]
    if not names:
        return None
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})(?:'s|’s)?\b", re.IGNORECASE)


def normalise_question(text: str, self_names: re.Pattern[str] | None = None) -> str:
    """The text the index is asked with (the resident's own words are kept elsewhere)."""
    if self_names is not None:
        text = self_names.sub("you", text)
    return " ".join(spell_out(text).split())
