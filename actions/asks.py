"""The questions the forms ask (one `action_ask_<slot>` each). Kept here rather than as
domain responses so the wording sits beside the validators that read the answers.
Every question names its choices in words too: SMS shows no buttons."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict


def _buttons(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"title": title, "payload": payload} for title, payload in pairs]


QUESTIONS: dict[str, dict[str, Any]] = {
    "sar_name": {"text": "What is your full name?"},
    "sar_for_someone_else": {
        "text": "Is the request for your own information, or are you asking for someone else?",
        "buttons": _buttons(("My own", "my own"), ("Someone else", "someone else")),
    },
    "sar_subject_name": {
        "text": "What is the full name of the person whose information you are asking for?"
    },
    "sar_locator": {
        "text": "To find the records, what is the address with postcode, or the tenancy reference?"
    },
    "sar_scope": {
        "text": "Do you want everything we hold, or something specific (a topic or dates)?",
        "buttons": _buttons(("Everything", "everything"), ("Something specific", "specific")),
    },
    "sar_scope_detail": {
        "text": 'What would you like? For example "repairs and complaints from January 2023 '
        'to now".'
    },
    "sar_contact_method": {
        "text": "How should we send the information and contact you about it: by email, "
        "phone or post?",
        "buttons": _buttons(("Email", "email"), ("Phone", "phone"), ("Post", "post")),
    },
    "consent_detail": {
        "text": "Please tell me briefly what you would like us to stop doing with your information."
    },
}


class AskAction(Action, ABC):
    """Asks for one slot with the text (and buttons) in QUESTIONS."""

    @property
    @abstractmethod
    def slot(self) -> str:
        """The slot asked for (a class attribute in each subclass)."""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        question = QUESTIONS[self.slot]
        dispatcher.utter_message(text=question["text"], buttons=question.get("buttons", []))
        return []


class ActionAskSarName(AskAction):
    slot = "sar_name"


class ActionAskSarForSomeoneElse(AskAction):
    slot = "sar_for_someone_else"


class ActionAskSarSubjectName(AskAction):
    slot = "sar_subject_name"


class ActionAskSarLocator(AskAction):
    slot = "sar_locator"


class ActionAskSarScope(AskAction):
    slot = "sar_scope"


class ActionAskSarScopeDetail(AskAction):
    slot = "sar_scope_detail"


class ActionAskSarContactMethod(AskAction):
    slot = "sar_contact_method"


class ActionAskConsentDetail(AskAction):
    slot = "consent_detail"
