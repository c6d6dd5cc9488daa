"""Reading a SAR's answers: who it is for, what is wanted (in the resident's own words,
also from the message that started the form), and which answer to change."""

from __future__ import annotations

import re

from actions.parsers import MONTHS
from actions.sar.answers import CHANGEABLE, change_options
from actions.text import MAX_ANSWER_CHARS, clean_text, words

# --------------------------------------------------------------------------- for whom

_SELF = {"own", "mine", "me", "myself", "self", "i", "my", "personal"}
_OTHER = {
    "someone", "somebody", "else", "else's", "other", "behalf", "mum", "mother", "dad",
    "father", "son", "daughter", "husband", "wife", "partner", "client", "brother", "sister",
    "child", "parent", "grandmother", "grandfather", "friend", "nan", "gran", "grandad",
    "uncle", "aunt", "nephew", "niece", "mum's", "dad's", "son's", "daughter's", "carer",
}  # fmt: skip
# "no one else", "not for someone else", "nobody else's": a denial of the other reading.
_NOT_OTHER = re.compile(
    r"\b(not|no|nobody|no one|noone|isn'?t|nothing)\b[\w\s']{0,20}?"
    r"\b((someone|somebody|anyone|anybody)( else'?s?)?|else'?s?|behalf|others?)\b",
    re.IGNORECASE,
)


def parse_acting_for(text: str) -> str | None:
    """'self' ("for me", "my own", "myself", "no, it's for me", "it's mine"), 'other'
    ("for my mum", "someone else"), or None ("yes", "no": the question has two halves)."""
    denied = _NOT_OTHER.search(text)
    rest = _NOT_OTHER.sub(" ", text)
    tokens = set(words(rest))
    if tokens & _OTHER:
        return "other"
    if tokens & _SELF or denied:
        return "self"
    return None


# A person other than the resident named in a first message: "my mum's records",
# "for my son", "on behalf of my client", "someone else's data".
_PEOPLE = (
    r"mum|mother|mom|dad|father|son|daughter|husband|wife|partner|client|brother|sister|"
    r"child|children|kids?|parents?|grandmother|grandfather|grandson|granddaughter|nan|gran|"
    r"grandad|grandma|grandpa|uncle|aunt|auntie|nephew|niece|friend|neighbour|tenant|carer|"
    r"late \w+"
)
_NAMED_PERSON = re.compile(rf"\b(?:my|our)\s+({_PEOPLE})(?:'s|s')?(?=\W|$)", re.IGNORECASE)
_SOMEONE_ELSE = re.compile(
    r"\b(someone else|somebody else|another person|on (?:someone'?s |their )?behalf)\b",
    re.IGNORECASE,
)


def named_other(text: str) -> str | None:
    """Who else a first message names ('your mum', 'someone else'), or None. Only a
    hint: the form asks the resident to confirm it, never records it on a guess."""
    if _NOT_OTHER.search(text):
        return None
    person = _NAMED_PERSON.search(text)
    if person:
        return f"your {person.group(1).lower()}"
    if _SOMEONE_ELSE.search(text):
        return "someone else"
    return None


# --------------------------------------------------------------------------- what

_EVERYTHING = {"everything", "all", "lot", "whole", "entire", "full", "complete", "anything"}
_SPECIFIC = {"specific", "some", "part", "particular", "certain", "only"}
# Kinds of records residents ask for: naming one makes the request a specific one.
_TOPIC = re.compile(
    r"\b(repair\w*|rent\w*|arrears|complain\w*|e-?mails?|letters?|calls?|recordings?|cctv|"
    r"footage|tenancy|applications?|allocations?|bidding|transfers?|asb|anti.?social|noise|"
    r"nuisance|neighbours?|incidents?|case|notes|payments?|benefits?|council tax|"
    r"service charges?|damp|mould|mold|disrepair|leaks?|gas|safety|inspections?|visits?|"
    r"housing officer|medical|safeguarding|correspondence|texts?|messages?|photos?|"
    r"reports?|assessments?|debts?|eviction|possession|court|lease\w*|right to buy|"
    r"mutual exchange|succession|homeless\w*|accommodation|adaptations?|parking)\b",
    re.IGNORECASE,
)
_MONTH_WORDS = "|".join(sorted(MONTHS, key=len, reverse=True))
_DATE = re.compile(
    rf"\b(since|from|between|after|before|during|in|for)?\s*"
    rf"((19|20)\d{{2}}|({_MONTH_WORDS})\b|last (year|month|week|\d+ (years|months))|"
    r"this year|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4})",
    re.IGNORECASE,
)
_CONNECTOR = re.compile(
    r"\b(about|on|regarding|re|of|for|relating to|related to|to do with|concerning|"
    r"want|need|like|request|see|get|have|send me)\b",
    re.IGNORECASE,
)
_LEADING = re.compile(r"^(my|the|all|any|our|your|a|an|of|every|me|about|copy|copies)\b\s*", re.I)
_TRAILING = re.compile(r"[\s,;:.!?-]*\b(please|pls|plz|thanks|thank you|thx|asap)\b[\s.!]*$", re.I)
_CLAUSE_END = re.compile(
    r"[.!?\n]|,\s*(my name|i live|i'm|im|i am|please|thanks|thank you|my address|"
    r"it'?s for|its for|and my name)",
    re.IGNORECASE,
)


def _has_date(text: str) -> re.Match[str] | None:
    for match in _DATE.finditer(text):
        if match.group(2):
            return match
    return None


def names_records(text: str) -> bool:
    """Does the text name kinds of records or dates ("rent since 2022")?"""
    return bool(_TOPIC.search(text) or _has_date(text))


def parse_scope(text: str) -> tuple[str, str | None] | None:
    """What an answer to "what do you want?" asks for: ('everything', None),
    ('specific', None) to ask for detail, or ('specific', the resident's words).

    A topic or a date makes it specific, whatever else is said: "everything about my
    repairs since 2023" is not everything."""
    tokens = words(text)
    if not tokens:
        return None
    if names_records(text):
        return "specific", clean_text(text)
    if set(tokens) & _EVERYTHING and not set(tokens) & {"only", "just", "except"}:
        return "everything", None
    if set(tokens) & _SPECIFIC and len(tokens) <= 3:
        return "specific", None
    if len(tokens) >= 2 or len(tokens[0]) >= 4:  # "repairs", "complaints from 2022"
        return "specific", clean_text(text)
    return None


def opening_scope(text: str) -> str | None:
    """What a first message asked for, in the resident's words, or None if it did not
    say: "I want everything about my repairs since 2023" -> "repairs since 2023";
    "what do you hold on me? I want it all" -> "everything"."""
    topic, date = _TOPIC.search(text), _has_date(text)
    if topic is None and date is None:
        return "everything" if set(words(text)) & _EVERYTHING else None
    first = min((m for m in (topic, date) if m), key=lambda m: m.start())
    start = _span_start(text, first.start(), date_first=first is date)
    end_match = _CLAUSE_END.search(text, first.end())
    end = end_match.start() if end_match else len(text)
    span = text[start:end].strip(" ,;:-")
    span = _TRAILING.sub("", span)
    while _LEADING.match(span):
        span = _LEADING.sub("", span, count=1)
    span = clean_text(span, MAX_ANSWER_CHARS).strip(" ,;:-")
    return span if len(span) >= 3 else None


def _span_start(text: str, at: int, date_first: bool) -> int:
    """Where the resident's description begins: after the last "about", "of", "want"...
    before the first topic or date; "everything since 2023" keeps its "everything"."""
    before = text[:at]
    sentence = max(before.rfind(c) for c in ".!?\n") + 1
    if date_first:
        everything = [m for m in re.finditer(r"\b(everything|all|anything)\b", before, re.I)]
        if everything and everything[-1].start() >= sentence:
            return everything[-1].start()
    connectors = [m for m in _CONNECTOR.finditer(before) if m.start() >= sentence]
    return connectors[-1].end() if connectors else max(sentence, 0)


# --------------------------------------------------------------------------- changes

_CHANGE_WORDS = {"change", "edit", "amend", "fix", "alter", "wrong", "mistake", "different"}
LEAVE_WORDS = {"stop", "cancel", "leave", "quit", "forget", "nevermind"}


def wants_change(text: str) -> bool:
    low = text.lower()
    return bool(set(words(text)) & _CHANGE_WORDS) or "correct it" in low


def parse_change_choice(text: str, on_sms: bool = False) -> str | None:
    """Which answer the resident wants to change (a key of CHANGEABLE)."""
    low = clean_text(text).lower().strip(" .!")
    options = change_options(on_sms)
    if low in options:
        return low
    tokens = set(words(text))
    for choice in options:  # in CHANGEABLE's order: the most specific words first
        if tokens & CHANGEABLE[choice].words:
            return choice
    return None
