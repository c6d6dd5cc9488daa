"""Rasa over HTTP: the REST channel for messages, the HTTP API for resuming a conversation.

The web process never imports Rasa or the knowledge index; it talks to Rasa like a
resident's channel does.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

log = logging.getLogger(__name__)


# Our message id in a turn's metadata (Rasa keeps it on the user event in the tracker):
# a worker that takes over a dead worker's claim can tell whether its turn happened.
MESSAGE_ID_KEY = "privacybot_message_id"


class RasaUnavailable(RuntimeError):
    """Rasa did not answer (down, timed out or errored): the message stays unprocessed."""


class RasaTimedOut(RasaUnavailable):
    """Rasa took the message but did not answer in time: the turn may still happen (its
    answer then lands in the tracker), so it must not be sent again blind."""


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


def answer_from_events(events: Any, message_id: int) -> list[BotMessage] | None:
    """The bot's answer to our message `message_id` as the tracker recorded it (the bot
    events after its user event), or None when the tracker has no such turn."""
    found = False
    replies: list[BotMessage] = []
    for event in events if isinstance(events, list) else []:
        if not isinstance(event, dict):
            continue
        if event.get("event") == "user":
            if found:
                break
            found = (event.get("metadata") or {}).get(MESSAGE_ID_KEY) == message_id
        elif found and event.get("event") == "bot":
            text = event.get("text")
            buttons = _buttons((event.get("data") or {}).get("buttons"))
            if text or buttons:
                replies.append(BotMessage(text=str(text or ""), buttons=buttons))
    return replies if found else None


def service_session(urls: Sequence[str]) -> requests.Session:
    """A pooled session for our own services (Rasa, the action server). The environment's
    proxy and CA-bundle settings are read once here, not on every request (requests
    otherwise walks os.environ and looks for a .netrc on each call: about a millisecond
    of CPU per turn)."""
    http = requests.Session()
    http.trust_env = False
    if urls:
        http.proxies.update(requests.utils.get_environ_proxies(urls[0]))
    if any(url.startswith("https:") for url in urls):
        # requests looks at a CA bundle's path on disk (a stat) for every request it sends
        # with one set, https or not: only set it where it is used.
        http.verify = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        )
    return http


def instance_order(sender: str, count: int) -> list[int]:
    """Which Rasa instance a conversation goes to first, then where it falls over to: a
    stable hash of its id, the same in every web worker and on every web machine."""
    first = int.from_bytes(hashlib.sha256(sender.encode()).digest()[:8], "big") % count
    return [(first + i) % count for i in range(count)]


class RasaClient:
    """One Rasa, or several sharing a tracker store and a Redis lock store (RASA_URLS).
    With several, each conversation has a home instance; when that one refuses the
    connection the next one takes the turn (the lock store keeps turns in order)."""

    def __init__(self, base_url: str | Sequence[str], token: str, timeout: float = 25.0) -> None:
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        self.base_urls = [url.rstrip("/") for url in urls]
        self.base_url = self.base_urls[0]
        self.token = token
        self.timeout = timeout
        # One pooled HTTP session per process: keeps loopback connections warm.
        self._http = service_session(self.base_urls)

    def _post(self, sender: str, path: str, **kwargs: Any) -> requests.Response:
        return self._request("POST", sender, path, **kwargs)

    def _request(self, method: str, sender: str, path: str, **kwargs: Any) -> requests.Response:
        """To the conversation's instance, falling over only when the connection is
        refused (a timeout may mean the turn is being processed: never sent twice)."""
        call = self._http.post if method == "POST" else self._http.get
        order = instance_order(sender, len(self.base_urls))
        for attempt, index in enumerate(order):
            try:
                return call(f"{self.base_urls[index]}{path}", timeout=self.timeout, **kwargs)
            except requests.ConnectionError as error:
                if attempt == len(order) - 1:
                    raise RasaUnavailable(str(error)) from error
                log.warning("Rasa instance %d refused the connection; trying the next", index)
            except requests.ReadTimeout as error:
                raise RasaTimedOut(str(error)) from error
            except requests.RequestException as error:
                raise RasaUnavailable(str(error)) from error
        raise RasaUnavailable("no Rasa instance configured")

    def send(self, sender: str, text: str, message_id: int | None = None) -> list[BotMessage]:
        body: dict[str, Any] = {"sender": sender, "message": text}
        if message_id is not None:
            body["metadata"] = {MESSAGE_ID_KEY: message_id}
        response = self._post(sender, "/webhooks/rest/webhook", json=body)
        if response.status_code != 200:
            raise RasaUnavailable(f"Rasa answered HTTP {response.status_code}")
        try:
            return parse_reply(response.json())
        except ValueError as error:
            raise RasaUnavailable("Rasa answered something other than JSON") from error

    def answer_in_tracker(self, sender: str, message_id: int) -> list[BotMessage] | None:
        """Did Rasa take the turn of our message `message_id`? Its answer if so (from the
        shared tracker store, so any instance can tell), else None."""
        response = self._request(
            "GET", sender, f"/conversations/{sender}/tracker", params={"token": self.token}
        )
        if response.status_code != 200:
            raise RasaUnavailable(f"Rasa answered HTTP {response.status_code}")
        try:
            events = response.json().get("events")
        except (ValueError, AttributeError) as error:
            raise RasaUnavailable("Rasa answered something other than a tracker") from error
        return answer_from_events(events, message_id)

    def _append_event(self, sender: str, event: dict[str, Any] | list[dict[str, Any]]) -> None:
        response = self._post(
            sender,
            f"/conversations/{sender}/tracker/events",
            params={"token": self.token},
            json=event,
        )
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
