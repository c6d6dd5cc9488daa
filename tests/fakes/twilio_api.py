"""A local stand-in of Twilio's REST API (the Messages resource), on loopback.

The real `twilio` client is pointed at it with TWILIO_API_BASE. It checks HTTP basic
auth, records every message, answers like Twilio (201 + a JSON message with an SM sid)
and can play Twilio's failures (5xx, error 21610 for a number that texted STOP). It
can also call the status callback, signed with the account's auth token as Twilio does.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

import requests

from tests.fakes.loopback import LoopbackServer

_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/Messages\.json$")


@dataclass
class SentMessage:
    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None
    auth_token: str
    status: str = "queued"
    created: float = field(default_factory=time.time)


class FakeTwilioAPI(LoopbackServer):
    def __init__(self) -> None:
        self.messages: list[SentMessage] = []
        self.requests = 0
        self._failures: list[tuple[int, dict[str, Any]]] = []
        self.blocked: set[str] = set()
        self.auto_deliver = False
        self._lock = threading.Lock()
        super().__init__()

    @property
    def base_url(self) -> str:
        return self.url

    def __enter__(self) -> FakeTwilioAPI:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- test controls ---------------------------------------------------------------------
    def fail_next(self, times: int = 1, status: int = 500, code: int = 20500) -> None:
        with self._lock:
            self._failures += [
                (status, {"code": code, "message": "fake failure", "status": status})
            ] * times

    def block(self, number: str) -> None:
        """The number texted STOP: Twilio refuses to send to it (error 21610)."""
        self.blocked.add(number)

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self._failures.clear()
            self.blocked.clear()

    def sent_to(self, number: str) -> list[SentMessage]:
        with self._lock:
            return [m for m in self.messages if m.to == number]

    def wait_for(
        self, predicate: Callable[[list[SentMessage]], bool], timeout: float = 10.0
    ) -> list[SentMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                snapshot = list(self.messages)
            if predicate(snapshot):
                return snapshot
            time.sleep(0.05)
        raise TimeoutError(
            f"fake Twilio: condition not met; messages: {[m.body for m in snapshot]}"
        )

    def deliver(
        self, sid: str, status: str = "delivered", error_code: str | None = None
    ) -> requests.Response:
        """Call the message's status callback as Twilio would (signed form POST)."""
        from twilio.request_validator import RequestValidator

        message = next(m for m in self.messages if m.sid == sid)
        assert message.status_callback, "message has no status callback"
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": message.account_sid,
            "MessageStatus": status,
            "To": message.to,
            "From": message.from_,
        }
        if error_code:
            params["ErrorCode"] = error_code
        signature = RequestValidator(message.auth_token).compute_signature(
            message.status_callback, params
        )
        message.status = status
        return requests.post(
            message.status_callback,
            data=params,
            headers={"X-Twilio-Signature": signature},
            timeout=10,
        )

    # --- the HTTP side -----------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                fake.requests += 1
                match = _MESSAGES.match(self.path.split("?")[0])
                if not match:
                    self._reply(404, {"code": 20404, "message": "not found", "status": 404})
                    return
                account_sid = match.group(1)
                user, token = self._basic_auth()
                if user != account_sid or not token:
                    self._reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
                    return
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                with fake._lock:
                    failure = fake._failures.pop(0) if fake._failures else None
                if failure:
                    self._reply(*failure)
                    return
                to, body = form.get("To", ""), form.get("Body", "")
                if not re.fullmatch(r"\+[1-9][0-9]{6,14}", to) or not body:
                    self._reply(
                        400, {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}
                    )
                    return
                if to in fake.blocked:
                    self._reply(
                        400,
                        {
                            "code": 21610,
                            "message": "Attempt to send to unsubscribed recipient",
                            "status": 400,
                        },
                    )
                    return
                message = SentMessage(
                    sid="SM" + uuid.uuid4().hex,
                    account_sid=account_sid,
                    to=to,
                    from_=form.get("From", ""),
                    body=body,
                    status_callback=form.get("StatusCallback"),
                    auth_token=token,
                )
                with fake._lock:
                    fake.messages.append(message)
                self._reply(
                    201,
                    {
                        "sid": message.sid,
                        "account_sid": account_sid,
                        "to": to,
                        "from": message.from_,
                        "body": body,
                        "status": "queued",
                        "num_segments": "1",
                        "direction": "outbound-api",
                        "api_version": "2010-04-01",
                        "date_created": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
                        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{message.sid}.json",
                    },
                )
                if fake.auto_deliver and message.status_callback:
                    threading.Timer(0.2, fake.deliver, args=(message.sid,)).start()

            def _basic_auth(self) -> tuple[str, str]:
                header = self.headers.get("Authorization", "")
                if not header.startswith("Basic "):
                    return "", ""
                try:
                    user, _, token = base64.b64decode(header[6:]).decode().partition(":")
                except ValueError:
                    return "", ""
                return user, token

        return Handler
