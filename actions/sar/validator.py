"""`validate_sar_form`: which questions to ask, and whether each answer will do."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.deployment import is_sms
from actions.forms import (
    ContactFormValidation,
    ContactSlots,
    Validation,
    latest_intent,
    latest_text,
    unusable,
    validates,
)
from actions.parsers import date_problem, parse_locator, parse_name, parse_yes_no
from actions.sar.answers import CHANGEABLE, SAR_CONTACT_METHODS
from actions.sar.asks import named_in_opening
from actions.sar.parsers import (
    LEAVE_WORDS,
    names_records,
    opening_scope,
    parse_acting_for,
    parse_change_choice,
    parse_scope,
    wants_change,
)
from actions.text import clean_text, words


class ValidateSarForm(ContactFormValidation):
    contact_slots = ContactSlots(
        "sar_contact_method", "sar_contact", "sar_locator", SAR_CONTACT_METHODS, "post"
    )
    validate_sar_name = validates("sar_name", parse_name)
    validate_sar_subject_name = validates("sar_subject_name", parse_name)
    validate_sar_locator = validates("sar_locator", parse_locator)
    validate_sar_contact_method = ContactFormValidation.validate_contact_method
    validate_sar_contact = ContactFormValidation.validate_contact

    def name(self) -> str:
        return "validate_sar_form"

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
        # Asked only when the scope came from the first message: an answer to the
        # scope question inside the form marks itself as confirmed.
        slots.append("sar_scope_check")
        if not is_sms(tracker):  # on SMS the number is already known
            slots += ["sar_contact_method", "sar_contact"]
        if tracker.get_slot("sar_confirm") == "change":
            slots.append("sar_change")
        slots.append("sar_confirm")
        return slots

    # ----------------------------------------------------------------- first message

    async def extract_sar_scope(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """'I want everything about my repairs since 2023' already says what: kept in
        those words ("repairs since 2023") and confirmed later, not asked again."""
        if tracker.get_slot("requested_slot") or tracker.get_slot("sar_scope"):
            return {}
        text = latest_text(tracker)
        if unusable(text):
            return {}
        scope = opening_scope(text)
        if scope is None or date_problem(scope):  # a wrong date is asked about in the form
            return {}
        return {"sar_scope": scope}

    # ----------------------------------------------------------------- answers

    def validate_sar_for_someone_else(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        def acting_for(text: str) -> str | None:
            # "yes" / "no" answer the named question ("Is this request for their
            # information rather than your own?"), not the plain one, which has two halves.
            reading = parse_acting_for(text)
            if reading is None and named_in_opening(tracker):
                answer = parse_yes_no(text, latest_intent(tracker))
                reading = None if answer is None else ("other" if answer else "self")
            return reading

        return self.check(dispatcher, tracker, "sar_for_someone_else", value, acting_for)

    def validate_sar_scope(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        # From the first message (nothing asked yet) it still needs the resident's "yes".
        opening = not tracker.get_slot("requested_slot")
        text = self.answer_text(tracker, value)
        parsed = None if unusable(text) else parse_scope(text)
        if parsed is None:
            return self.reject(dispatcher, tracker, "sar_scope")
        scope, detail = parsed
        problem = date_problem(detail) if detail else None
        if problem:
            return self.reject(
                dispatcher, tracker, "sar_scope", response="utter_invalid_date", problem=problem
            )
        more: dict[str, Any] = {} if opening else {"sar_scope_check": "yes"}
        if detail is not None:
            more["sar_scope_detail"] = detail
        said = latest_text(tracker) if opening else text
        return self.accept(tracker, "sar_scope", scope, said=said, **more)

    def validate_sar_scope_detail(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        text = self.answer_text(tracker, value)
        detail = clean_text(text)
        if unusable(text) or len(detail) < 3:
            return self.reject(dispatcher, tracker, "sar_scope_detail")
        problem = date_problem(detail)
        if problem:
            return self.reject(
                dispatcher,
                tracker,
                "sar_scope_detail",
                response="utter_invalid_date",
                problem=problem,
            )
        return self.accept(tracker, "sar_scope_detail", detail, said=text, sar_scope_check="yes")

    def validate_sar_scope_check(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        """ "Yes" keeps the scope said in the first message; "change it" asks the scope
        question; a new description ("no, only my rent since 2022") replaces it."""
        text = self.answer_text(tracker, value)
        if unusable(text):
            return self.reject(dispatcher, tracker, "sar_scope_check")
        answer = parse_yes_no(text, latest_intent(tracker))
        if names_records(text) and not (answer is True and len(words(text)) <= 3):
            return self.validate_sar_scope(text, dispatcher, tracker, domain)
        if wants_change(text) or answer is False:
            return self.accept(
                tracker, "sar_scope_check", None, sar_scope=None, sar_scope_detail=None
            )
        if answer is True:
            return self.accept(tracker, "sar_scope_check", "yes", said=text)
        return self.reject(dispatcher, tracker, "sar_scope_check")

    def validate_sar_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        text = self.answer_text(tracker, value)
        if wants_change(text):
            return self.accept(tracker, "sar_confirm", "change")
        if set(words(text)) & LEAVE_WORDS:
            return self.accept(tracker, "sar_confirm", "no")
        answer = parse_yes_no(text, latest_intent(tracker))
        if answer is None:
            return self.reject(dispatcher, tracker, "sar_confirm")
        return self.accept(tracker, "sar_confirm", "yes" if answer else "no", said=text)

    def validate_sar_change(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        choice = parse_change_choice(self.answer_text(tracker, value), is_sms(tracker))
        if choice is None:
            return self.reject(dispatcher, tracker, "sar_change")
        # Clearing the answer makes the form ask it again, then show the summary again.
        cleared = dict.fromkeys(CHANGEABLE[choice].slots)
        return self.accept(tracker, "sar_change", None, sar_confirm=None, **cleared)
