"""The form-validation base class every form's validator extends, and the helpers forms
share: reading a first message that already answers, what the resident said, the plain
answers (`validates`: a name, where the records are) and how to reach the resident
(`ContactFormValidation`: the method, then the detail it needs).

Re-asks are domain responses: a slot's answer that does not validate gets
`utter_invalid_<slot>` (a short note) the first two times and `utter_explain_<slot>`
(what is needed, with an example and the way out) from the third; the form then asks
`utter_ask_<slot>` again. Validators that still keep their texts in Python
(`help_texts`) get the old behaviour."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.contact import parse_contact, parse_contact_method, parse_postal_address
from actions.parsers import parse_yes_no
from actions.text import (
    MAX_ANSWER_CHARS,
    clean_text,
    is_question,
    looks_like_markup_or_payload,
    words,
)

# After this many answers that did not validate, explain with an example instead of re-asking.
PLAIN_REASKS = 2
# What the resident typed for each accepted answer, by slot ({slot: words}): the records
# keep it beside the parsed value, so staff can see what was actually said.
SAID_SLOT = "form_said"
# Longer than any real answer: pasted text, not an answer (the chat takes 1000 characters).
TOO_LONG = 2 * MAX_ANSWER_CHARS

Validation = dict[str, Any]
ValidateMethod = Callable[[Any, Any, CollectingDispatcher, Tracker, DomainDict], Validation]


def unusable(text: str) -> bool:
    """Markup, a payload or pasted pages: never an answer, not even cut short."""
    return looks_like_markup_or_payload(text) or len(text) > TOO_LONG


def latest_text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "")


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def opening_request(tracker: Tracker, intent: str, slot: str) -> str | None:
    """The text of a first message that already says what to act on ("stop texting me
    offers"), or None: when the form has asked already, the slot is filled, the message
    is a question (confirm before recording), or the message was another intent."""
    if tracker.get_slot("requested_slot") or tracker.get_slot(slot):
        return None
    text = latest_text(tracker)
    if is_question(text) or latest_intent(tracker) != intent:
        return None
    return text


def _user_events(tracker: Tracker) -> list[tuple[int, dict[str, Any]]]:
    return [(i, e) for i, e in enumerate(tracker.events) if e.get("event") == "user"]


def opening_texts(tracker: Tracker, form: str, form_slots: tuple[str, ...]) -> list[str]:
    """What the resident said to start this form: the message that started it, and,
    when that was a "yes" to our offer, the message the offer answered.

    While the form starts, Rasa's tracker does not yet hold the form's activation (the
    latest one may be an earlier run's), so then the opening is the latest message."""
    user = _user_events(tracker)
    if tracker.get_slot("requested_slot") in form_slots:
        events = tracker.events
        start = next(
            (
                i
                for i in range(len(events) - 1, -1, -1)
                if events[i].get("event") == "active_loop" and events[i].get("name") == form
            ),
            len(events),
        )
        user = [(i, e) for i, e in user if i < start]
    if not user:
        return []
    last = user[-1][1]
    texts = [str(last.get("text") or "")]
    intent = ((last.get("parse_data") or {}).get("intent") or {}).get("name")
    if len(user) > 1 and len(words(texts[0])) <= 3 and parse_yes_no(texts[0], intent):
        texts.insert(0, str(user[-2][1].get("text") or ""))
    return texts


def said_for(tracker: Tracker, slots: tuple[str, ...]) -> dict[str, str]:
    """What the resident said for each of `slots` (a form's own), for its record."""
    said = tracker.get_slot(SAID_SLOT) or {}
    return {slot: said[slot] for slot in slots if isinstance(said, dict) and said.get(slot)}


class CountingFormValidation(FormValidationAction):
    """Base for every form's validator.

    Counts answers that did not validate, per slot (slot `failed_attempts`): the first
    two times the form simply asks again after a short note; from the third time it
    explains what it needs, with an example, and how to leave or get a person.
    """

    @abstractmethod
    def name(self) -> str:
        """validate_<form name>"""

    # Legacy: {slot: (short note on failure, explanation with an example)} in Python.
    # Slots not listed here use the domain responses utter_invalid_/utter_explain_<slot>.
    help_texts: dict[str, tuple[str, str]] = {}

    @staticmethod
    def answer_text(tracker: Tracker, value: Any) -> str:
        """The resident's own words for the slot (the slot value is the message text)."""
        return str(value if value is not None else latest_text(tracker))

    def accept(
        self, tracker: Tracker, slot: str, value: Any, said: str | None = None, **more: Any
    ) -> Validation:
        """Fill `slot` (and `more`); `said` is what the resident typed, kept for the record."""
        counts = dict(tracker.get_slot("failed_attempts") or {})
        counts.pop(slot, None)
        result: Validation = {slot: value, "failed_attempts": counts, **more}
        if said is not None:
            kept = dict(tracker.get_slot(SAID_SLOT) or {})
            kept[slot] = clean_text(said, MAX_ANSWER_CHARS)
            result[SAID_SLOT] = kept
        return result

    def help_for(self, slot: str, tracker: Tracker) -> tuple[str, str]:
        """(short note, explanation with an example) for a slot; may depend on answers."""
        return self.help_texts.get(slot, ("Sorry, I didn't understand that.", "Please try again."))

    def reask_responses(self, slot: str, tracker: Tracker) -> tuple[str, str]:
        """(short note, explanation) domain responses for a slot; may depend on answers."""
        return f"utter_invalid_{slot}", f"utter_explain_{slot}"

    def reject(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        slot: str,
        note: str | None = None,
        *,
        response: str | None = None,
        **values: Any,
    ) -> Validation:
        """Empty the slot so the form asks again, after a note that says why.

        `response` replaces the short note (e.g. `utter_invalid_date` for a date that
        cannot be right); `values` fill its {placeholders}."""
        counts = dict(tracker.get_slot("failed_attempts") or {})
        counts[slot] = int(counts.get(slot, 0)) + 1
        plain = counts[slot] <= PLAIN_REASKS
        if slot in self.help_texts:
            short, explanation = self.help_for(slot, tracker)
            way_out = ' You can also say "stop" to leave this, or "speak to a person".'
            dispatcher.utter_message(text=(note or short) if plain else explanation + way_out)
        else:
            short, explanation = self.reask_responses(slot, tracker)
            dispatcher.utter_message(
                response=(response or short) if plain else explanation, **values
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
        """Parse the answer with `parser` (None = invalid) and accept or reject it.

        Markup, payloads and answers far longer than any real one are rejected before
        parsing: they never reach a record, not even cut short."""
        text = self.answer_text(tracker, value)
        if unusable(text):
            return self.reject(dispatcher, tracker, slot)
        parsed = parser(text)
        if parsed is None:
            return self.reject(dispatcher, tracker, slot)
        return self.accept(tracker, slot, parsed, said=text)


def validates(slot: str, parser: Callable[[str], Any]) -> ValidateMethod:
    """A `validate_<slot>` method that reads the answer with `parser` (None: re-ask).
    For the plain answers forms share: a name (parse_name), where the records are
    (parse_locator)."""

    def validate(
        self: CountingFormValidation,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Validation:
        return self.check(dispatcher, tracker, slot, value, parser)

    validate.__name__ = f"validate_{slot}"
    return validate


@dataclass(frozen=True)
class ContactSlots:
    """A form's "how should we reach you?" pair of slots, and the slot holding the
    address already given to find the records (used for post when none is given)."""

    method: str
    contact: str
    locator: str
    methods: Collection[str]
    default: str  # whose re-ask is used while no method is known


class ContactFormValidation(CountingFormValidation):
    """A form that asks how to reach the resident and then the detail that method needs.
    Subclasses set `contact_slots` and name the two validators:
    `validate_<method slot> = ContactFormValidation.validate_contact_method` and
    `validate_<contact slot> = ContactFormValidation.validate_contact`."""

    contact_slots: ContactSlots

    def reask_responses(self, slot: str, tracker: Tracker) -> tuple[str, str]:
        """The contact's re-ask says what the chosen method needs (an e-mail, a number)."""
        slots = self.contact_slots
        if slot != slots.contact:
            return super().reask_responses(slot, tracker)
        method = tracker.get_slot(slots.method)
        method = method if method in slots.methods else slots.default
        return f"utter_invalid_contact_{method}", f"utter_explain_contact_{method}"

    def validate_contact_method(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        """The method named; a contact given with it ("email me at sam@example.com") is
        taken at once, and for post the address already given to find the records."""
        slots = self.contact_slots
        text = self.answer_text(tracker, value)
        method = None if unusable(text) else parse_contact_method(text, slots.methods)
        if method is None:
            return self.reject(dispatcher, tracker, slots.method)
        contact = parse_contact(method, text)
        if contact is None and method == "post":
            contact = parse_postal_address(tracker.get_slot(slots.locator) or "")
        more = {slots.contact: contact}
        return self.accept(tracker, slots.method, method, said=text, **more)

    def validate_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        slots = self.contact_slots
        method = tracker.get_slot(slots.method) or "email"
        return self.check(
            dispatcher, tracker, slots.contact, value, lambda text: parse_contact(method, text)
        )


def form_slot_resets(slots: tuple[str, ...]) -> dict[str, None]:
    return dict.fromkeys((*slots, "failed_attempts", "requested_slot"))
