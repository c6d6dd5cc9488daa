"""Handing a conversation to staff (`handoff_form`): on request, on a complaint, after
two unanswered questions, or when the resident seems at risk (emergency route first).

The ticket carries the transcript so far; the conversation is then paused in Rasa
(`ConversationPaused`) so the assistant stays silent while staff own it."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.consent import CONSENT_SLOTS
from actions.contact import parse_contact, parse_contact_method
from actions.deployment import casework_session, current_org, is_sms, org_id, sms_number_of
from actions.forms import SAID_SLOT, CountingFormValidation, Validation
from actions.sar import SAR_SLOTS
from actions.text import (
    at_risk,
    looks_like_markup_or_payload,
    reports_misdirected_data,
    states_grievance,
)
from actions.transcript import transcript_of

HANDOFF_SLOTS = ("handoff_contact_method", "handoff_contact", "handoff_reason", "handoff_urgent")
# Other forms' answers: dropped when the resident switches to a person mid-form.
OTHER_FORM_SLOTS = (*SAR_SLOTS, "mkt_channels", *CONSENT_SLOTS, SAID_SLOT)
# How staff can get back to the resident: "text" here means a reply in this conversation.
HANDOFF_METHODS = ("email", "phone", "chat")

REASONS = {
    "distress": "The resident may be distressed or at risk",
    "complain": "Complaint",
    "escalate": "The assistant could not answer two questions in a row",
    "request_human": "The resident asked for a person",
}


def reason_of(tracker: Tracker) -> str:
    intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
    text = str(tracker.latest_message.get("text") or "")
    if at_risk(text):
        return "distress"
    if intent in ("distress", "complain", "request_human"):
        return intent
    # "stop ignoring me", "I was sent someone else's letter": complaints under another intent
    if intent in ("stop", "request_sar") and (
        states_grievance(text) or reports_misdirected_data(text)
    ):
        return "complain"
    if tracker.get_slot("answer_status") in ("escalate", "not_sure"):
        return "escalate" if tracker.get_slot("answer_status") == "escalate" else "request_human"
    return "request_human"


class ActionPrepareHandoff(Action):
    """Says why a person is taking over (the emergency route first if at risk)."""

    def name(self) -> str:
        return "action_prepare_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        org = current_org()
        reason = reason_of(tracker)
        if reason == "distress":
            dispatcher.utter_message(text=org.emergency)
            dispatcher.utter_message(
                text=f"I'm sorry you're going through this. I'll ask {org.contact_team} "
                "to contact you as a priority."
            )
        elif reason == "complain":
            dispatcher.utter_message(
                text=f"I'm sorry about that. A person at {org.contact_team} needs to look "
                "at this, so I'll pass it to them."
            )
        elif reason == "escalate":
            dispatcher.utter_message(
                text=f"Sorry I couldn't answer. I'll pass you to a person at {org.contact_team}."
            )
        else:
            dispatcher.utter_message(text=f"Of course. I'll pass you to {org.contact_team}.")

        urgent = reason == "distress" or bool(tracker.get_slot("handoff_urgent"))
        if tracker.active_loop.get("name") == "handoff_form":  # already collecting details
            return [SlotSet("handoff_urgent", urgent), SlotSet("handoff_reason", reason)]
        events: list[EventType] = [SlotSet(slot, None) for slot in OTHER_FORM_SLOTS]
        return [
            *events,
            SlotSet("handoff_contact_method", None),
            SlotSet("handoff_contact", None),
            SlotSet("handoff_reason", reason),
            SlotSet("handoff_urgent", urgent),
            SlotSet("failed_attempts", None),
        ]


def needs_contact(method: str | None, on_sms: bool) -> bool:
    return method == "email" or (method == "phone" and not on_sms)


class ValidateHandoffForm(CountingFormValidation):
    def name(self) -> str:
        return "validate_handoff_form"

    def reask_responses(self, slot: str, tracker: Tracker) -> tuple[str, str]:
        if slot != "handoff_contact":
            return super().reask_responses(slot, tracker)
        method = "email" if tracker.get_slot("handoff_contact_method") == "email" else "phone"
        return f"utter_invalid_contact_{method}", f"utter_explain_contact_{method}"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        method = tracker.get_slot("handoff_contact_method")
        if needs_contact(method, is_sms(tracker)):
            return ["handoff_contact_method", "handoff_contact"]
        return ["handoff_contact_method"]

    def validate_handoff_contact_method(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        text = self.answer_text(tracker, value)
        method = (
            None
            if looks_like_markup_or_payload(text)
            else parse_contact_method(text, HANDOFF_METHODS)
        )
        if method is None:
            return self.reject(dispatcher, tracker, "handoff_contact_method")
        contact = parse_contact(method, text)  # "email me at a@b.co.uk": no need to ask
        return self.accept(tracker, "handoff_contact_method", method, handoff_contact=contact)

    def validate_handoff_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        method = "email" if tracker.get_slot("handoff_contact_method") == "email" else "phone"
        return self.check(
            dispatcher, tracker, "handoff_contact", value, lambda text: parse_contact(method, text)
        )


class ActionAskHandoffContactMethod(Action):
    def name(self) -> str:
        return "action_ask_handoff_contact_method"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if is_sms(tracker):
            text = (
                "How would you like them to get back to you: by text here, a phone call to "
                "this number, or email?"
            )
            here = "By text here"
        else:
            text = (
                "How would you like them to get back to you: here in this chat, by phone, "
                "or by email?"
            )
            here = "Here in this chat"
        dispatcher.utter_message(
            text=text,
            buttons=[
                {"title": here, "payload": "here"},
                {"title": "Phone call", "payload": "phone"},
                {"title": "Email", "payload": "email"},
            ],
        )
        return []


class ActionAskHandoffContact(Action):
    def name(self) -> str:
        return "action_ask_handoff_contact"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("handoff_contact_method") == "email":
            dispatcher.utter_message(text="What email address should they use?")
        else:
            dispatcher.utter_message(text="What UK phone number should they call?")
        return []


def how_they_reply(method: str, on_sms: bool) -> str:
    if method == "email":
        return "by email"
    if method == "phone":
        return "by phone"
    return "by text to this number" if on_sms else "here in this chat"


class ActionSubmitHandoff(Action):
    def name(self) -> str:
        return "action_submit_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        resets: list[EventType] = [SlotSet(s, None) for s in (*HANDOFF_SLOTS, "failed_attempts")]
        method = tracker.get_slot("handoff_contact_method")
        on_sms = is_sms(tracker)
        if method is None or (
            needs_contact(method, on_sms) and not tracker.get_slot("handoff_contact")
        ):
            dispatcher.utter_message(text="OK, I haven't passed anything on.")
            return resets
        reference, urgent = self._open(tracker, method, on_sms)
        org = current_org()
        hours = org.office_hours.text
        flag = " and marked it urgent" if urgent else ""
        when = (
            "as soon as they can"
            if urgent
            else f"within {org.handoff_reply_working_days} working days"
        )
        dispatcher.utter_message(
            text=f"Thank you. I've passed this to {org.contact_team}{flag}. Your reference is "
            f"{reference}. They work {hours}, and will reply {when}, "
            f"{how_they_reply(method, on_sms)}."
        )
        dispatcher.utter_message(
            text="I'll stay quiet now so a person can help you. "
            "Anything you send here goes to them."
        )
        return [*resets, ConversationPaused()]

    @staticmethod
    def _open(tracker: Tracker, method: str, on_sms: bool) -> tuple[str, bool]:
        from casework.handoff import open_handoff

        reason_key = tracker.get_slot("handoff_reason") or "request_human"
        urgent = bool(tracker.get_slot("handoff_urgent"))
        with casework_session() as session:
            contact = tracker.get_slot("handoff_contact")
            if method == "phone" and on_sms and not contact:
                contact = sms_number_of(session, tracker.sender_id)
            stored_method = {"chat": "sms" if on_sms else "chat"}.get(method, method)
            ticket = open_handoff(
                session,
                conversation_id=tracker.sender_id,
                org=org_id(),
                reason=REASONS.get(reason_key, REASONS["request_human"]),
                contact=contact,
                contact_method=stored_method,
                transcript=transcript_of(tracker),
                urgent=urgent,
            )
            return ticket.reference, urgent
