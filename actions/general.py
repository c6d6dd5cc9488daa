"""Small talk around the forms: leaving a form, "stop" with no form to leave, and topics
the assistant does not cover."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answer import ask_index, format_answer, is_nonsense
from actions.deployment import current_org
from actions.handoff import HANDOFF_SLOTS, OTHER_FORM_SLOTS
from actions.text import stop_is_not_optout, stop_names_contact, wants_a_person


class ActionCancelForm(Action):
    """ "Stop", "cancel", "never mind" inside any form: leave it, nothing is saved
    (records are only written by the submit actions)."""

    def name(self) -> str:
        return "action_cancel_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.active_loop.get("name") == "handoff_form":
            dispatcher.utter_message(
                text="OK, I won't pass anything on. Is there anything else I can help with?"
            )
        else:
            dispatcher.utter_message(
                text="OK, I've stopped. Nothing has been saved or sent. "
                "Is there anything else I can help with?"
            )
        slots = (*OTHER_FORM_SLOTS, *HANDOFF_SLOTS, "failed_attempts", "requested_slot")
        return [ActiveLoop(None), *[SlotSet(slot, None) for slot in slots]]


def stop_route(text: str) -> str:
    """person (a person or a complaint is wanted), question (answer it), marketing (offer
    the opt-out) or cancel (nothing to leave)."""
    if wants_a_person(text):
        return "person"
    if stop_is_not_optout(text):
        return "question"
    return "marketing" if stop_names_contact(text) else "cancel"


class ActionTriageStop(Action):
    """The NLU read "stop" with no form in progress. A bare "stop" / "cancel" has nothing
    to leave, but "how can I stop you passing my file to social services?" asks something
    and "stop ignoring me" wants a person: sets `stop_route` and the rules answer, hand
    off, offer the opt-out ("stop the texts"), or say nothing is in progress."""

    def name(self) -> str:
        return "action_triage_stop"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = str(tracker.latest_message.get("text") or "")[:1000]
        return [SlotSet("stop_route", stop_route(text))]


class ActionOutOfScope(Action):
    """Repairs, rent, bins...: say what the assistant covers and how to reach the landlord.

    The intent classifier is a small model and sometimes files a privacy question under
    out-of-scope; the knowledge index's calibrated abstention gets the last word, so such
    a question is still answered."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = str(tracker.latest_message.get("text") or "")[:1000]
        result = None if is_nonsense(text) else ask_index(text)
        if result and result.get("answered"):
            dispatcher.utter_message(text=format_answer(result))
            return []
        org = current_org()
        dispatcher.utter_message(
            text="Sorry, I can't help with that here. I only cover privacy: questions about "
            "your personal information, getting a copy of it, stopping marketing and "
            "withdrawing consent."
        )
        website = f" More on {org.contact['website']}." if org.contact.get("website") else ""
        route = org.contact_line().rstrip(".")
        route = route[:1].lower() + route[1:]
        dispatcher.utter_message(
            text=f"For repairs, rent and other services, {route}. "
            f"They are open {org.office_hours.text}.{website}"
        )
        return []
