"""Rasa over HTTP: the REST channel for messages, the HTTP API for resuming a conversation.

The web process never imports Rasa or the knowledge index; it talks to Rasa like a
resident's channel does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import requests

log = logging.getLogger(__name__)


class RasaUnavailable(RuntimeError):
    """Rasa did not answer (down, timed out or errored): the message stays unprocessed."""


@dataclass
class BotMessage:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "buttons": self.buttons}


def _buttons(raw: Any) -> list[dict[str, str]]:
    buttons = []
    for button in raw or []:
        if isinstance(button, dict) and button.get("title") and button.get("payload"):
            buttons.append({"title": str(button["title"]), "payload": str(button["payload"])})
    return buttons


def parse_reply(payload: Any) -> list[BotMessage]:
    """Rasa's REST channel answers a list of {recipient_id, text, buttons, image, custom}."""
    if not isinstance(payload, list):
        raise RasaUnavailable("unexpected answer from Rasa")
    messages = []
    for item in payload:
        if not isinstance(item, dict):
            continue
        text = item.get("text")
        buttons = _buttons(item.get("buttons"))
        if text or buttons:
            messages.append(BotMessage(text=str(text or ""), buttons=buttons))
    return messages


class RasaClient:
    def __init__(self, base_url: str, token: str, timeout: float = 25.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        # One pooled HTTP session per process: keeps loopback connections warm.
        self._http = requests.Session()

    def send(self, sender: str, text: str) -> list[BotMessage]:
        try:
            response = self._http.post(
                f"{self.base_url}/webhooks/rest/webhook",
                json={"sender": sender, "message": text},
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise RasaUnavailable(str(error)) from error
        if response.status_code != 200:
            raise RasaUnavailable(f"Rasa answered HTTP {response.status_code}")
        try:
            return parse_reply(response.json())
        except ValueError as error:
            raise RasaUnavailable("Rasa answered something other than JSON") from error

    def _append_event(self, sender: str, event: dict[str, Any] | list[dict[str, Any]]) -> None:
        try:
            response = self._http.post(
                f"{self.base_url}/conversations/{sender}/tracker/events",
                params={"token": self.token},
                json=event,
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise RasaUnavailable(str(error)) from error
        if response.status_code != 200:
            raise RasaUnavailable(f"Rasa answered HTTP {response.status_code}")

    def resume(self, sender: str) -> None:
        """ConversationResumed: the bot answers this conversation again after a handoff.

        The action_listen after it gives the policies the state they expect before a
        user message; without it the messages sent while paused leave the bot silent."""
        self._append_event(
            sender, [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
        )

    def restart(self, sender: str) -> None:
        """Forget slots and form state (the resident ended and deleted the chat)."""
        self._append_event(sender, {"event": "restart"})
