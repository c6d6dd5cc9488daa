"""Questions still asked from Python (one `action_ask_<slot>` each). The SAR and consent
forms ask theirs as domain responses (`utter_ask_<slot>` in bot/domain.yml).
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
    "mkt_channels": {
        "text": "Which marketing would you like to stop: email, text messages, phone calls, "
        "post, or all of them?",
        "buttons": _buttons(
            ("All of them", "all"),
            ("Email", "email"),
            ("Text messages", "text messages"),
            ("Phone calls", "phone calls"),
            ("Post", "post"),
        ),
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


class ActionAskMktChannels(AskAction):
    slot = "mkt_channels"
