"""The SAR questions that need the answers so far: the confirmation (a summary in the
resident's own words, what ID staff may ask for) and which answer to change. The other
questions are plain domain responses (`utter_ask_sar_<slot>`)."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.deployment import current_org, is_sms
from actions.forms import opening_texts
from actions.sar.answers import SAR_SLOTS, change_options
from actions.sar.parsers import named_other
from actions.text import clean_text


def id_route() -> str:
    """Where ID goes: the organisation's e-mail, else its postal address."""
    org = current_org()
    if org.contact.get("email"):
        return f"by email to {org.contact['email']}"
    return f"by post to {org.contact.get('post', org.name)}"


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
        summary = "\n".join(summary_lines(tracker, is_sms(tracker)))
        dispatcher.utter_message(response="utter_sar_summary", summary=summary)
        dispatcher.utter_message(response="utter_sar_id_check", id_route=id_route())
        if tracker.get_slot("sar_for_someone_else") == "other":
            dispatcher.utter_message(response="utter_sar_authority_check")
        dispatcher.utter_message(response="utter_sar_confirm_question")
        return []


class ActionAskSarChange(Action):
    def name(self) -> str:
        return "action_ask_sar_change"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        options = change_options(is_sms(tracker))
        dispatcher.utter_message(
            response="utter_ask_sar_change",
            buttons=[{"title": c.capitalize(), "payload": c} for c in options],
        )
        return []


def named_in_opening(tracker: Tracker) -> str | None:
    """Who else the message that started the form named ("your mum"), or None."""
    named = [
        who for text in opening_texts(tracker, "sar_form", SAR_SLOTS) if (who := named_other(text))
    ]
    return named[-1] if named else None


class ActionAskSarForSomeoneElse(Action):
    """A first message that named someone else ("my mum's records") is put to the
    resident as a yes/no with buttons, never recorded on a guess; otherwise the plain
    question."""

    def name(self) -> str:
        return "action_ask_sar_for_someone_else"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        named = named_in_opening(tracker)
        if named:
            dispatcher.utter_message(response="utter_ask_sar_for_someone_else_named", who=named)
        else:
            dispatcher.utter_message(response="utter_ask_sar_for_someone_else")
        return []
