"""Subject Access Request: `sar_form`, its validator, the confirmation and the record.

No special words are needed in law; the NLU recognises a request in any wording and
this form collects only what staff need to find the records and reply."""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    CONTACT_HELP,
    CountingFormValidation,
    DateProblem,
    Validation,
    casework_session,
    channel_of,
    clean_text,
    current_org,
    find_dates,
    format_date,
    is_sms,
    looks_like_markup_or_payload,
    org_id,
    parse_email,
    parse_name,
    parse_postcode,
    parse_tenancy_reference,
    parse_uk_phone,
    parse_yes_no,
    sms_number_of,
    words,
)
from actions.transcript import transcript_of

SAR_SLOTS = (
    "sar_name",
    "sar_for_someone_else",
    "sar_subject_name",
    "sar_locator",
    "sar_scope",
    "sar_scope_detail",
    "sar_contact_method",
    "sar_contact",
    "sar_change",
    "sar_confirm",
)

# At the confirmation, "change an answer" re-asks one answer instead of starting again.
_LEAVE_WORDS = {"stop", "cancel", "leave", "quit", "forget", "nevermind"}
_CHANGE_WORDS = {"change", "edit", "amend", "fix", "alter", "wrong", "mistake"}


class Changeable(NamedTuple):
    slots: tuple[str, ...]  # cleared, so the form asks them again
    words: frozenset[str]  # words that name this answer


# Answer to change -> what it clears (later answers that depend on it go too) and the
# words that name it, most specific first: "email address" is the contact, not the address.
CHANGEABLE = {
    "what you want": Changeable(
        ("sar_scope", "sar_scope_detail"),
        frozenset({"what", "want", "wanted", "information", "records", "dates", "everything"}),
    ),
    "how we contact you": Changeable(
        ("sar_contact_method", "sar_contact"),
        frozenset({"contact", "email", "phone", "number", "post", "how", "reply"}),
    ),
    "address or reference": Changeable(
        ("sar_locator",), frozenset({"address", "postcode", "reference", "tenancy", "home"})
    ),
    "who it is for": Changeable(
        ("sar_for_someone_else", "sar_subject_name"),
        frozenset({"who", "whose", "behalf", "someone", "myself", "for"}),
    ),
    "name": Changeable(("sar_name",), frozenset({"name", "spelling", "spelt", "surname"})),
}

_EVERYTHING = {"everything", "all", "lot", "whole", "entire", "full", "complete", "anything"}
_SPECIFIC = {"specific", "some", "part", "particular", "certain", "only"}
_SELF = {"own", "mine", "me", "myself", "self", "i"}
_OTHER = {
    "someone",
    "else",
    "other",
    "behalf",
    "mum",
    "mother",
    "dad",
    "father",
    "son",
    "daughter",
    "husband",
    "wife",
    "partner",
    "client",
    "brother",
    "sister",
    "child",
    "parent",
    "grandmother",
    "grandfather",
    "friend",
    "tenant",
}


def parse_acting_for(text: str) -> str | None:
    tokens = set(words(text))
    if tokens & _OTHER:
        return "other"
    if tokens & _SELF:
        return "self"
    return None


def parse_contact_method(text: str) -> str | None:
    tokens = set(words(text))
    if parse_email(text) or "email" in tokens or "e-mail" in text.lower():
        return "email"
    if parse_uk_phone(text) or tokens & {"phone", "call", "ring", "mobile", "telephone", "text"}:
        return "phone"
    if tokens & {"post", "letter", "postal", "address", "mail", "posted"}:
        return "post"
    return None


def parse_scope(text: str) -> tuple[str, str | None] | None:
    """('everything', None), ('specific', None) to ask for detail, or ('specific', detail)."""
    tokens = words(text)
    if not tokens:
        return None
    if set(tokens) & _EVERYTHING and not set(tokens) & {"only", "just", "except"}:
        return "everything", None
    if set(tokens) & _SPECIFIC and len(tokens) <= 3:
        return "specific", None
    if len(tokens) >= 2 or len(tokens[0]) >= 4:  # "repairs", "complaints from 2022"
        return "specific", clean_text(text)
    return None


class ValidateSarForm(CountingFormValidation):
    help_texts = {
        "sar_name": (
            "Sorry, I couldn't read that as a name.",
            "I need your full name as it appears on your tenancy or account, "
            'for example "Sam Smith".',
        ),
        "sar_for_someone_else": (
            "Sorry, I didn't catch whether it is for you or for someone else.",
            'Please answer "my own" if the information is about you, or '
            '"someone else" if you are asking for another person.',
        ),
        "sar_subject_name": (
            "Sorry, I couldn't read that as a name.",
            "I need the full name of the person the information is about, "
            'for example "Mary Smith".',
        ),
        "sar_locator": (
            "Sorry, I couldn't find a UK postcode or a tenancy reference in that.",
            "To find the records I need an address with its postcode, for example "
            '"12 High Street, London NW9 4EW", or a tenancy reference such as "T123456".',
        ),
        "sar_scope": (
            "Sorry, I didn't catch that.",
            'Please answer "everything", or describe what you want, for example '
            '"repairs and complaints from January 2023 to now".',
        ),
        "sar_scope_detail": (
            "Sorry, I couldn't use that.",
            "Please describe the information in a few words, with dates if you like, "
            'for example "emails about my rent from 1/3/2022 to 31/8/2023".',
        ),
        "sar_contact_method": (
            "Sorry, I didn't catch which one.",
            'Please answer "email", "phone" or "post".',
        ),
        "sar_confirm": (
            "Sorry, I need a yes or a no.",
            'Please answer "yes" to send the request as shown, "change an answer" to correct '
            'something, or "no" to leave it.',
        ),
        "sar_change": (
            "Sorry, I didn't catch which answer.",
            'Please answer "name", "who it is for", "address or reference", "what you want" '
            'or "how we contact you".',
        ),
    }

    def name(self) -> str:
        return "validate_sar_form"

    def help_for(self, slot: str, tracker: Tracker) -> tuple[str, str]:
        if slot != "sar_contact":
            return super().help_for(slot, tracker)
        method = tracker.get_slot("sar_contact_method")
        return CONTACT_HELP[method if method in ("email", "phone") else "post"]

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        slots = ["sar_name", "sar_for_someone_else"]
        if tracker.get_slot("sar_for_someone_else") == "other":
            slots.append("sar_subject_name")
        slots += ["sar_locator", "sar_scope"]
        if tracker.get_slot("sar_scope") == "specific":
            slots.append("sar_scope_detail")
        if not is_sms(tracker):  # on SMS the number is already known
            slots += ["sar_contact_method", "sar_contact"]
        if tracker.get_slot("sar_confirm") == "change":
            slots.append("sar_change")
        slots.append("sar_confirm")
        return slots

    def validate_sar_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        return self.check(dispatcher, tracker, "sar_name", value, parse_name)

    def validate_sar_for_someone_else(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        return self.check(dispatcher, tracker, "sar_for_someone_else", value, parse_acting_for)

    def validate_sar_subject_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        return self.check(dispatcher, tracker, "sar_subject_name", value, parse_name)

    def validate_sar_locator(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        def locator(text: str) -> str | None:
            if parse_postcode(text):
                return clean_text(text, 200)
            return parse_tenancy_reference(text)

        return self.check(dispatcher, tracker, "sar_locator", value, locator)

    def validate_sar_scope(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        text = self.answer_text(tracker, value)
        parsed = None if looks_like_markup_or_payload(text) else parse_scope(text)
        if parsed is None:
            return self.reject(dispatcher, tracker, "sar_scope")
        scope, detail = parsed
        if detail is None:
            return self.accept(tracker, "sar_scope", scope)
        problem = _date_problem(detail)
        if problem:
            return self.reject(dispatcher, tracker, "sar_scope", note=problem)
        return self.accept(tracker, "sar_scope", scope, sar_scope_detail=detail)

    def validate_sar_scope_detail(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        text = self.answer_text(tracker, value)
        detail = clean_text(text)
        if looks_like_markup_or_payload(text) or len(detail) < 3:
            return self.reject(dispatcher, tracker, "sar_scope_detail")
        problem = _date_problem(detail)
        if problem:
            return self.reject(dispatcher, tracker, "sar_scope_detail", note=problem)
        return self.accept(tracker, "sar_scope_detail", detail)

    def validate_sar_contact_method(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        text = self.answer_text(tracker, value)
        method = None if looks_like_markup_or_payload(text) else parse_contact_method(text)
        if method is None:
            return self.reject(dispatcher, tracker, "sar_contact_method")
        # A contact given with the method ("email me at sam@example.com") is used at once.
        contact = _parse_contact(method, text)
        if contact is None and method == "post":
            locator = tracker.get_slot("sar_locator") or ""
            contact = locator if parse_postcode(locator) else None
        return self.accept(tracker, "sar_contact_method", method, sar_contact=contact)

    def validate_sar_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        method = tracker.get_slot("sar_contact_method") or "email"
        return self.check(
            dispatcher, tracker, "sar_contact", value, lambda text: _parse_contact(method, text)
        )

    def validate_sar_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        text = self.answer_text(tracker, value)
        if wants_change(text):
            return self.accept(tracker, "sar_confirm", "change")
        if set(words(text)) & _LEAVE_WORDS:
            return self.accept(tracker, "sar_confirm", "no")
        answer = parse_yes_no(text, intent)
        if answer is None:
            return self.reject(dispatcher, tracker, "sar_confirm")
        return self.accept(tracker, "sar_confirm", "yes" if answer else "no")

    def validate_sar_change(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        on_sms = is_sms(tracker)
        choice = parse_change_choice(self.answer_text(tracker, value), on_sms)
        if choice is None:
            return self.reject(dispatcher, tracker, "sar_change")
        # Clearing the answer makes the form ask it again, then show the summary again.
        cleared = dict.fromkeys(CHANGEABLE[choice].slots)
        return self.accept(tracker, "sar_change", None, sar_confirm=None, **cleared)


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


def change_options(on_sms: bool) -> list[str]:
    """On SMS the reply goes to the number the resident texts from: nothing to change."""
    return [c for c in CHANGEABLE if not (on_sms and c == "how we contact you")]


def _parse_contact(method: str, text: str) -> str | None:
    if method == "email":
        return parse_email(text)
    if method == "phone":
        return parse_uk_phone(text)
    if parse_postcode(text) and re.search(r"[A-Za-z]{3,}", _strip_postcode(text)):
        return clean_text(text, 200)
    return None


def _strip_postcode(text: str) -> str:
    postcode = parse_postcode(text) or ""
    return text.upper().replace(postcode, "")


def _date_problem(text: str) -> str | None:
    try:
        find_dates(text)
    except DateProblem as problem:
        return f"Sorry, {problem}. Please check the dates."
    return None


# --------------------------------------------------------------------------- asking


class ActionAskSarContact(Action):
    def name(self) -> str:
        return "action_ask_sar_contact"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        method = tracker.get_slot("sar_contact_method")
        question = {
            "email": "What email address should we use?",
            "phone": "What UK phone number should we call?",
        }.get(method or "", "What postal address, with postcode, should we send it to?")
        dispatcher.utter_message(text=question)
        return []


def id_explanation(for_someone_else: bool) -> str:
    org = current_org()
    how = (
        f"by email to {org.contact['email']}"
        if org.contact.get("email")
        else f"by post to {org.contact.get('post', org.name)}"
    )
    text = (
        "Staff may need to check who you are before sending anything: usually a photo of "
        "your passport or driving licence, and a recent bill or bank statement showing your "
        f"address. You can send these {how}, quoting your reference."
    )
    if for_someone_else:
        text += (
            " As you are asking for someone else, we also need their written permission "
            "(or proof of legal authority, such as a power of attorney) and ID for both of you."
        )
    return text


def summary_lines(tracker: Tracker, on_sms: bool) -> list[str]:
    """What the resident asked for, in their own (cleaned) words."""
    lines = [f"Name: {clean_text(tracker.get_slot('sar_name'), 100)}"]
    if tracker.get_slot("sar_for_someone_else") == "other":
        lines.append(f"For: {clean_text(tracker.get_slot('sar_subject_name'), 100)}")
    lines.append(f"Records: {clean_text(tracker.get_slot('sar_locator'), 200)}")
    if tracker.get_slot("sar_scope") == "everything":
        lines.append("Wanted: everything we hold")
    else:
        lines.append(f"Wanted: {clean_text(tracker.get_slot('sar_scope_detail'))}")
    if on_sms:
        lines.append("Contact: by text to this number")
    else:
        method = tracker.get_slot("sar_contact_method") or ""
        lines.append(f"Contact: {method} {clean_text(tracker.get_slot('sar_contact'), 200)}")
    return lines


class ActionAskSarConfirm(Action):
    def name(self) -> str:
        return "action_ask_sar_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        on_sms = is_sms(tracker)
        summary = "\n".join(summary_lines(tracker, on_sms))
        dispatcher.utter_message(text=f"Here is your request:\n{summary}")
        dispatcher.utter_message(
            text=id_explanation(tracker.get_slot("sar_for_someone_else") == "other")
        )
        dispatcher.utter_message(
            text="Shall I send the request now?",
            buttons=[
                {"title": "Yes, send it", "payload": "yes"},
                {"title": "Change an answer", "payload": "change something"},
                {"title": "No, leave it", "payload": "no"},
            ],
        )
        return []


class ActionAskSarChange(Action):
    def name(self) -> str:
        return "action_ask_sar_change"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        on_sms = is_sms(tracker)
        dispatcher.utter_message(
            text="Which answer do you want to change?",
            buttons=[{"title": c.capitalize(), "payload": c} for c in change_options(on_sms)],
        )
        return []


# --------------------------------------------------------------------------- submit


def _complete(tracker: Tracker, on_sms: bool) -> bool:
    """Every answer the record needs is there (never a half-filled SAR)."""
    needed = ["sar_name", "sar_locator", "sar_scope"]
    if tracker.get_slot("sar_for_someone_else") == "other":
        needed.append("sar_subject_name")
    if tracker.get_slot("sar_scope") == "specific":
        needed.append("sar_scope_detail")
    if not on_sms:
        needed += ["sar_contact_method", "sar_contact"]
    return all(tracker.get_slot(slot) for slot in needed)


class ActionSubmitSar(Action):
    def name(self) -> str:
        return "action_submit_sar"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        resets = [SlotSet(slot, None) for slot in (*SAR_SLOTS, "failed_attempts")]
        on_sms = is_sms(tracker)
        if tracker.get_slot("sar_confirm") != "yes" or not _complete(tracker, on_sms):
            dispatcher.utter_message(
                text="OK, I haven't sent it, and nothing has been saved. You can start again "
                "any time by asking for a copy of your information."
            )
            return resets
        reference, due_on = self._create(tracker, on_sms)
        dispatcher.utter_message(text=self._receipt(reference, due_on))
        return resets

    @staticmethod
    def _create(tracker: Tracker, on_sms: bool) -> tuple[str, Any]:
        from casework.sar import create_sar

        for_other = tracker.get_slot("sar_for_someone_else") == "other"
        scope = (
            "everything"
            if tracker.get_slot("sar_scope") == "everything"
            else clean_text(tracker.get_slot("sar_scope_detail"))
        )
        with casework_session() as session:
            if on_sms:
                contact, method = sms_number_of(session, tracker.sender_id), "sms"
            else:
                contact = clean_text(tracker.get_slot("sar_contact"), 200)
                method = tracker.get_slot("sar_contact_method")
            ticket = create_sar(
                session,
                org=org_id(),
                channel="sms" if on_sms else channel_of(tracker.sender_id),
                conversation_id=tracker.sender_id,
                requester_name=clean_text(tracker.get_slot("sar_name"), 200),
                contact=contact,
                contact_method=method,
                records_locator=clean_text(tracker.get_slot("sar_locator"), 200),
                scope=scope,
                on_behalf_of=for_other,
                subject_name=clean_text(tracker.get_slot("sar_subject_name"), 200)
                if for_other
                else None,
                transcript=transcript_of(tracker),
            )
            return ticket.reference, ticket.sar.due_on if ticket.sar else None

    @staticmethod
    def _receipt(reference: str, due_on: Any) -> str:
        due = format_date(due_on) if due_on else "within one calendar month"
        return (
            f"Done. Your request is sent. Your reference is {reference}. "
            f"We must reply by {due}. It's free. "
            "If staff need to check your ID, the month starts when they have it, "
            "and they will tell you the new date."
        )
