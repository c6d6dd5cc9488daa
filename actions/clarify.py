"""When the NLU cannot tell two requests apart, ask the resident which one with buttons.

A form started on a guess writes a wrong record ("I never signed up for your newsletter,
remove me" filed as a consent withdrawal for photos). So when the message is unclear
(nlu_fallback) and its two best readings are both requests, the assistant offers those
two as buttons; otherwise the message goes on to be answered as a question, as before.
The words and buttons are the domain's `utter_clarify_route`; this action only picks
which of its buttons apply.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

RESPONSE = "utter_clarify_route"
# Each request intent and the payload of its button in utter_clarify_route.
REQUEST_PAYLOADS = {
    "request_sar": "I want a copy of my data",
    "request_marketing_opt_out": "Stop sending me marketing",
    "request_consent_withdrawal": "I want to withdraw my consent",
    "request_human": "I want to speak to a person",
    "complain": "I want to make a complaint about my data",
}
# A reading below this is noise, not a second meaning worth a button.
MIN_CONFIDENCE = 0.15


# An unclear "remove me" / "take me off" outside a form leans on `stop`: it can mean
# either of these requests, so it is offered as both rather than guessed.
STOP_MEANS = ("request_marketing_opt_out", "request_consent_withdrawal")


def close_requests(ranking: list[dict[str, Any]]) -> list[str]:
    """The requests the two best readings stand for, when both are requests (or `stop`)
    and both are plausible, else []."""
    readings = [r for r in ranking if r.get("name") != "nlu_fallback"][:2]
    if len(readings) < 2:
        return []
    if any(float(r.get("confidence") or 0.0) < MIN_CONFIDENCE for r in readings):
        return []
    intents: list[str] = []
    for name in (str(r.get("name")) for r in readings):
        meant = STOP_MEANS if name == "stop" else (name,)
        if not all(intent in REQUEST_PAYLOADS for intent in meant):
            return []
        intents += [intent for intent in meant if intent not in intents]
    return intents


def clarify_buttons(domain: DomainDict, intents: list[str]) -> tuple[str, list[dict[str, str]]]:
    """The response's text and the buttons for these intents, in the domain's order."""
    response = (domain.get("responses", {}).get(RESPONSE) or [{}])[0]
    wanted = {REQUEST_PAYLOADS[name] for name in intents}
    buttons = response.get("buttons") or []
    chosen = [b for b in buttons if b.get("payload") in wanted]
    chosen += [b for b in buttons if b.get("payload") not in REQUEST_PAYLOADS.values()]
    return str(response.get("text") or ""), chosen


class ActionClarifyRoute(Action):
    """Sets `clarify_route`: asked (buttons sent) or not_needed (answer it instead)."""

    def name(self) -> str:
        return "action_clarify_route"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intents = close_requests(tracker.latest_message.get("intent_ranking") or [])
        if not intents:
            return [SlotSet("clarify_route", "not_needed")]
        text, buttons = clarify_buttons(domain, intents)
        dispatcher.utter_message(text=text, buttons=buttons)
        return [SlotSet("clarify_route", "asked")]
