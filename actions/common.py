"""What every action shares: the deployment's organisation, casework sessions, the
parsers that read residents' answers, and the form-validation base class."""

from __future__ import annotations

import logging
import re
from abc import abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import cache
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from sqlalchemy.orm import Session

# One reader per contact method for every part (forms, suppression lookups, ledger keys).
from casework.contacts import parse_email, parse_postcode, parse_uk_phone  # noqa: F401
from privacybot.orgs import Org, load_org

logger = logging.getLogger(__name__)

MAX_ANSWER_CHARS = 300  # longer answers to a form question are cut (never echoed whole)
# After this many answers that did not validate, explain with an example instead of re-asking.
PLAIN_REASKS = 2

# --------------------------------------------------------------------------- config


def org_id() -> str:
    from privacybot.settings import load_settings

    return load_settings().org


def current_org() -> Org:
    return load_org(org_id())


@cache
def _upgraded(url: str) -> bool:
    from casework import db

    db.upgrade(url)
    return True


def database_url() -> str:
    from privacybot.settings import load_settings

    return load_settings().database_url


@contextmanager
def casework_session() -> Iterator[Session]:
    """One transaction per action: all of a request's records are written, or none."""
    from casework import db

    url = database_url()
    _upgraded(url)  # idempotent; normally done once at server start already
    with db.session_scope(url) as session:
        yield session


_channels: dict[str, str] = {}


def channel_of(sender_id: str) -> str:
    """web | sms | rest. A known conversation never changes channel, so it is cached
    (forms ask several times per turn); an unknown one is looked up again next time."""
    if sender_id in _channels:
        return _channels[sender_id]
    from casework import conversations

    with casework_session() as session:
        channel = conversations.channel_of(session, sender_id)
        if conversations.get(session, sender_id) is not None and len(_channels) < 100_000:
            _channels[sender_id] = channel
        return channel


def is_sms(tracker: Tracker) -> bool:
    """Is this conversation a text-message one (the number is known; no buttons to tap)?"""
    return channel_of(tracker.sender_id) == "sms"


def sms_number_of(session: Session, sender_id: str) -> str | None:
    """The phone number of an SMS conversation (needed to reply; never logged)."""
    from casework import conversations

    conversation = conversations.get(session, sender_id)
    if conversation is None or conversation.channel != "sms":
        return None
    return conversation.address


# --------------------------------------------------------------------------- text

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


_QUESTION_START = re.compile(
    r"^\s*(how|what|can|could|is|are|do|does|will|would|should|why|when|where)\b", re.I
)


def is_question(text: str) -> bool:
    """'How do I stop marketing emails?' asks; it does not yet tell us to act."""
    return text.strip().endswith("?") or bool(_QUESTION_START.match(text))


def opening_request(tracker: Tracker, intent: str, slot: str) -> str | None:
    """The text of a first message that already says what to act on ("stop texting me
    offers"), or None: when the form has asked already, the slot is filled, the message
    is a question (confirm before recording), or the message was another intent."""
    if tracker.get_slot("requested_slot") or tracker.get_slot(slot):
        return None
    text = str(tracker.latest_message.get("text") or "")
    if is_question(text):
        return None
    if (tracker.latest_message.get("intent") or {}).get("name") != intent:
        return None
    return text


def format_date(day: date) -> str:
    """'Monday 4 January 2027' (no zero padding, no markup)."""
    return f"{day:%A} {day.day} {day:%B %Y}"


# --------------------------------------------------------------------------- parsers

YES_WORDS = {"yes", "y", "yeah", "yep", "yup", "ok", "okay", "sure", "correct", "confirm", "right"}
NO_WORDS = {"no", "n", "nope", "nah", "wrong", "incorrect", "not"}


def parse_tenancy_reference(text: str) -> str | None:
    """A reference such as T123456, 10045678 or T/000123: 5-15 characters, 3+ digits."""
    for token in re.findall(r"[A-Za-z0-9/-]{5,15}", text):
        if sum(c.isdigit() for c in token) >= 3 and not parse_uk_phone(token):
            return token.upper()
    return None


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


_NOT_A_NAME = {
    "hi",
    "hello",
    "hey",
    "yes",
    "no",
    "ok",
    "okay",
    "thanks",
    "stop",
    "cancel",
    "help",
    "email",
    "phone",
    "post",
    "everything",
    "none",
    "anonymous",
}
_SENTENCE_WORDS = {
    "i",
    "want",
    "my",
    "me",
    "you",
    "your",
    "data",
    "please",
    "the",
    "what",
    "how",
    "why",
    "information",
    "info",
    "copy",
    "send",
    "request",
    "records",
    "file",
    "not",
    "dont",
    "don't",
    "know",
    "is",
    "are",
    "to",
    "of",
    "can",
    "do",
    "have",
    "would",
    "like",
}
_NAME_PREFIX = re.compile(r"^(my name is|my name's|i am|i'm|im|it is|it's|its|name:?)\s+", re.I)


def parse_name(text: str) -> str | None:
    """A person's name: letters (any alphabet), spaces, hyphens, apostrophes, dots."""
    name = _NAME_PREFIX.sub("", text.strip()).strip(" .,!")
    if not 2 <= len(name) <= 100 or looks_like_markup_or_payload(name):
        return None
    if not re.fullmatch(r"[^\W\d_]+(?:[ '\-.’][^\W\d_]*)*", name):
        return None
    tokens = words(name)
    if name.lower() in _NOT_A_NAME or sum(c.isalpha() for c in name) < 2:
        return None
    if len(tokens) > 6 or set(tokens) & _SENTENCE_WORDS:  # a sentence, not a name
        return None
    return " ".join(part[:1].upper() + part[1:] for part in name.split())


_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ]
    )
}
_MONTHS.update({m[:3]: n for m, n in list(_MONTHS.items())})


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
        if month in _MONTHS:
            add(int(y), _MONTHS[month], 1)
    for y in re.findall(r"(?<![/\d-])\b((?:19|20)\d{2})\b(?![/\d-])", lowered):
        if int(y) > today.year:
            raise DateProblem(f"{y} is in the future")
    return found


# --------------------------------------------------------------------------- forms

Validation = dict[str, Any]


# What a contact detail must look like, by contact method: the SAR and handoff forms
# both ask for one and explain it the same way.
CONTACT_HELP: dict[str, tuple[str, str]] = {
    "email": (
        "Sorry, that doesn't look like an email address.",
        'I need an email address such as "sam.smith@example.com".',
    ),
    "phone": (
        "Sorry, that doesn't look like a UK phone number.",
        'I need a UK phone number such as "07700 900123" or "020 8080 6587".',
    ),
    "post": (
        "Sorry, I couldn't find a UK postcode in that address.",
        'I need a postal address with its postcode, for example "12 High Street, London NW9 4EW".',
    ),
}


class CountingFormValidation(FormValidationAction):
    """Base for every form's validator.

    Counts answers that did not validate, per slot (slot `failed_attempts`): the first
    two times the form simply asks again after a short note; from the third time it
    explains what it needs, with an example, and how to leave or get a person.
    """

    form_slots: tuple[str, ...] = ()

    @abstractmethod
    def name(self) -> str:
        """validate_<form name>"""

    # Subclasses: {slot: (short note on failure, explanation with an example)}
    help_texts: dict[str, tuple[str, str]] = {}

    @staticmethod
    def answer_text(tracker: Tracker, value: Any) -> str:
        """The resident's own words for the slot (the slot value is the message text)."""
        return str(value if value is not None else tracker.latest_message.get("text") or "")

    def accept(self, tracker: Tracker, slot: str, value: Any, **more: Any) -> Validation:
        counts = dict(tracker.get_slot("failed_attempts") or {})
        counts.pop(slot, None)
        return {slot: value, "failed_attempts": counts, **more}

    def help_for(self, slot: str, tracker: Tracker) -> tuple[str, str]:
        """(short note, explanation with an example) for a slot; may depend on answers."""
        return self.help_texts.get(slot, ("Sorry, I didn't understand that.", "Please try again."))

    def reject(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, note: str | None = None
    ) -> Validation:
        counts = dict(tracker.get_slot("failed_attempts") or {})
        counts[slot] = int(counts.get(slot, 0)) + 1
        short, explanation = self.help_for(slot, tracker)
        if counts[slot] <= PLAIN_REASKS:
            dispatcher.utter_message(text=note or short)
        else:
            dispatcher.utter_message(
                text=f'{explanation} You can also say "stop" to leave this, or "speak to a person".'
            )
        return {slot: None, "failed_attempts": counts}

    def check(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        slot: str,
        value: Any,
        parser: Callable[[str], Any],
    ) -> Validation:
        """Parse the answer with `parser` (None = invalid) and accept or reject it."""
        text = self.answer_text(tracker, value)
        if looks_like_markup_or_payload(text):
            return self.reject(dispatcher, tracker, slot)
        parsed = parser(text)
        if parsed is None:
            return self.reject(dispatcher, tracker, slot)
        return self.accept(tracker, slot, parsed)


def form_slot_resets(slots: tuple[str, ...]) -> dict[str, None]:
    return dict.fromkeys((*slots, "failed_attempts", "requested_slot"))
