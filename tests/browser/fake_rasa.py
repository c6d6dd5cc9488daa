"""A small stand-in of Rasa's REST channel and tracker-events API, for testing the web
side without the real bot. Like the real action server it writes to the casework
database: a handoff opens a ticket and pauses the conversation; a SAR creates one."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.loopback import LoopbackServer

LONG_ANSWER = (
    "You have the right to ask for a copy of the personal information we hold about you. "
    "This is called a subject access request. We must answer within one calendar month. "
    "We may ask you for proof of identity before we answer. It is free in most cases. "
    "We can extend the time by two further months if the request is complex. "
    "If you are asking for someone else you need their written authority. "
    "(Source: Barnet Homes privacy policy, section 'The right of access', paragraph 4)"
)


class FakeRasa(LoopbackServer):
    def __init__(self, database_url: str, org: str = "barnet-homes") -> None:
        self.database_url = database_url
        self.org = org
        self.received: list[tuple[str, str]] = []
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.paused: set[str] = set()
        self.down = False
        self.actions_down = False  # it also plays the action server's /health
        self.delay = 0.0
        # Rasa's tracker as the web side reads it: user events (with the turn's metadata)
        # and the bot events of each answer.
        self.trackers: dict[str, list[dict[str, Any]]] = {}
        super().__init__()

    def texts_from(self, sender: str) -> list[str]:
        return [m for s, m in self.received if s == sender]

    # --- the "bot" --------------------------------------------------------------------------
    def answer(self, sender: str, text: str) -> list[dict[str, Any]]:
        from casework import conversations, handoff, sar
        from casework.db import session_scope

        self.received.append((sender, text))
        if self.actions_down:
            return []  # as Rasa does: HTTP 200, the turn's actions lost
        if sender in self.paused:
            return []  # Rasa ignores messages to a paused conversation
        lowered = text.lower()
        reply: list[dict[str, Any]]
        if "person" in lowered:
            with session_scope(self.database_url) as session:
                ticket = handoff.open_handoff(
                    session,
                    conversation_id=sender,
                    org=self.org,
                    reason="The resident asked for a person",
                    transcript=conversations.transcript(session, sender),
                )
                reference = ticket.reference
            self.paused.add(sender)
            reply = [{"text": f"I have passed this to the Talk2Us team (reference {reference})."}]
        elif "copy of my data" in lowered:
            with session_scope(self.database_url) as session:
                channel = conversations.channel_of(session, sender)
                ticket = sar.create_sar(
                    session,
                    org=self.org,
                    channel=channel,
                    conversation_id=sender,
                    requester_name="Alex Resident",
                    contact="alex@example.org",
                    contact_method="email",
                    records_locator="1 Example Road",
                    scope="everything",
                )
                reference, due = ticket.reference, ticket.sar.due_on  # type: ignore[union-attr]
            reply = [
                {"text": f"Your request is logged as {reference}. We will reply by {due:%d %B %Y}."}
            ]
        elif "options" in lowered:
            reply = [
                {
                    "text": "Would you like to stop marketing?",
                    "buttons": [
                        {"title": "Yes", "payload": "/affirm"},
                        {"title": "No", "payload": "/deny"},
                    ],
                }
            ]
        elif text == "/affirm":
            reply = [{"text": "You chose yes."}]
        elif text == "/deny":
            reply = [{"text": "You chose no."}]
        elif "stay silent" in lowered:
            reply = []  # a turn whose actions failed inside Rasa, the action server up
        elif "long" in lowered:
            reply = [{"text": LONG_ANSWER}]
        else:
            reply = [{"text": f"You said: {text}"}]
        return [{"recipient_id": sender, **r} for r in reply]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, payload: Any) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                if self.path.startswith("/health"):
                    self._reply(503 if fake.actions_down else 200, {"status": "ok"})
                    return
                path = self.path.split("?")[0]
                if path.startswith("/conversations/") and path.endswith("/tracker"):
                    if fake.down:
                        self._reply(500, {"error": "down"})
                        return
                    sender = path.split("/")[2]
                    self._reply(200, {"sender_id": sender, "events": fake.trackers.get(sender, [])})
                    return
                self._reply(200, {"version": "fake", "model_id": "fake"})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                data = json.loads(self.rfile.read(length) or b"{}")
                if fake.delay:
                    time.sleep(fake.delay)
                if fake.down:
                    self._reply(500, {"error": "down"})
                    return
                path = self.path.split("?")[0]
                if path == "/webhooks/rest/webhook":
                    sender = data["sender"]
                    answer = fake.answer(sender, data["message"])
                    fake.trackers.setdefault(sender, []).extend(
                        [
                            {
                                "event": "user",
                                "text": data["message"],
                                "metadata": data.get("metadata") or {},
                            },
                            *(
                                {
                                    "event": "bot",
                                    "text": r.get("text"),
                                    "data": {"buttons": r.get("buttons")},
                                }
                                for r in answer
                            ),
                        ]
                    )
                    self._reply(200, answer)
                elif path.startswith("/conversations/") and path.endswith("/tracker/events"):
                    sender = path.split("/")[2]
                    for event in data if isinstance(data, list) else [data]:
                        fake.events.append((sender, event))
                        if event.get("event") == "resume":
                            fake.paused.discard(sender)
                    self._reply(200, {"sender_id": sender, "events": []})
                else:
                    self._reply(404, {})

        return Handler


@contextmanager
def running_fake_rasa(database_url: str) -> Iterator[FakeRasa]:
    fake = FakeRasa(database_url).start()
    try:
        yield fake
    finally:
        fake.stop()
