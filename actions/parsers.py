"""Parsers for the answers forms ask for besides contact details: names, yes / no,
dates, and where the records are (an address with postcode, or a tenancy reference)."""

from __future__ import annotations

import re
from datetime import date

from actions.contact import MAX_ADDRESS_CHARS, parse_postcode, parse_uk_phone
from actions.text import clean_text, format_date, looks_like_markup_or_payload, words

MAX_NAME_CHARS = 100

YES_WORDS = {"yes", "y", "yeah", "yep", "yup", "ok", "okay", "sure", "correct", "confirm", "right"}
NO_WORDS = {"no", "n", "nope", "nah", "wrong", "incorrect", "not"}


def parse_yes_no(text: str, intent: str | None = None) -> bool | None:
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    tokens = set(words(text))
    if tokens & NO_WORDS:
        return False
    if tokens & YES_WORDS or "go ahead" in text.lower() or "send it" in text.lower():
        return True
    return None


def parse_tenancy_reference(text: str) -> str | None:
    """A reference such as T123456, 10045678 or T/000123: 5-15 characters, 3+ digits."""
    for token in re.findall(r"[A-Za-z0-9/-]{5,15}", text):
        if sum(c.isdigit() for c in token) >= 3 and not parse_uk_phone(token):
            return token.upper()
    return None


def parse_locator(text: str) -> str | None:
    """Where a resident's records are: an address with its postcode, else a tenancy
    reference (forms use it to identify the resident, never to contact them)."""
    if looks_like_markup_or_payload(text) or len(text) > MAX_ADDRESS_CHARS:
        return None
    if parse_postcode(text):  # a postcode alone narrows it to a street: staff ask for more
        return clean_text(text, MAX_ADDRESS_CHARS)
    return parse_tenancy_reference(text)


_NOT_A_NAME = {
    "hi", "hello", "hey", "yes", "no", "ok", "okay", "thanks", "stop", "cancel", "help",
    "email", "phone", "post", "everything", "none", "anonymous",
}  # fmt: skip
_SENTENCE_WORDS = {
    "i", "want", "my", "me", "you", "your", "data", "please", "the", "what", "how", "why",
    "information", "info", "copy", "send", "request", "records", "file", "not", "dont",
    "don't", "know", "is", "are", "to", "of", "can", "do", "have", "would", "like",
}  # fmt: skip
_NAME_PREFIX = re.compile(r"^(my name is|my name's|i am|i'm|im|it is|it's|its|name:?)\s+", re.I)


def parse_name(text: str) -> str | None:
    """A person's name: letters (any alphabet), spaces, hyphens, apostrophes, dots."""
    if len(text) > MAX_NAME_CHARS * 2:  # 2 kB pasted in is not a name, even if all letters
        return None
    name = _NAME_PREFIX.sub("", text.strip()).strip(" .,!")
    if not 2 <= len(name) <= MAX_NAME_CHARS or looks_like_markup_or_payload(name):
        return None
    if not re.fullmatch(r"[^\W\d_]+(?:[ '\-.’][^\W\d_]*)*", name):
        return None
    tokens = words(name)
    if name.lower() in _NOT_A_NAME or sum(c.isalpha() for c in name) < 2:
        return None
    if len(tokens) > 6 or set(tokens) & _SENTENCE_WORDS:  # a sentence, not a name
        return None
    return " ".join(part[:1].upper() + part[1:] for part in name.split())


_MONTH_NAMES = (
    "january february march april may june july august september october november december"
).split()
MONTHS = {m: i + 1 for i, m in enumerate(_MONTH_NAMES)} | {
    m[:3]: i + 1 for i, m in enumerate(_MONTH_NAMES)
}


class DateProblem(ValueError):
    """A date in an answer that cannot be right (does not exist, or is in the future)."""


def find_dates(text: str, today: date | None = None) -> list[date]:
    """Dates mentioned in a free-text answer: 3/1/2024, 2024-01-03, 'March 2023', '2022'.

    Raises DateProblem for a date that does not exist or lies in the future."""
    today = today or date.today()
    found: list[date] = []
    lowered = text.lower()

    def add(year: int, month: int, day: int) -> None:
        try:
            value = date(year, month, day)
        except ValueError as error:
            raise DateProblem(f"{day}/{month}/{year} is not a real date") from error
        if value > today:
            raise DateProblem(f"{format_date(value)} is in the future")
        found.append(value)

    for d, m, y in re.findall(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})\b", lowered):
        year = int(y) + (2000 if len(y) == 2 else 0)
        add(year, int(m), int(d))
    for y, m, d in re.findall(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", lowered):
        add(int(y), int(m), int(d))
    for month, y in re.findall(r"\b([a-z]{3,9})\.? (\d{4})\b", lowered):
        if month in MONTHS:
            add(int(y), MONTHS[month], 1)
    for y in re.findall(r"(?<![/\d-])\b((?:19|20)\d{2})\b(?![/\d-])", lowered):
        if int(y) > today.year:
            raise DateProblem(f"{y} is in the future")
    return found


def date_problem(text: str) -> str | None:
    """Why the dates in an answer cannot be right ("2030 is in the future"), or None."""
    try:
        find_dates(text)
    except DateProblem as problem:
        return str(problem)
    return None
