"""The web side on the real stack (rasa + actions + gunicorn web) on loopback: a web
SAR that lands in the inbox with the statutory due date, a signed SMS conversation
through the real twilio client and the local Twilio stand-in, and a handoff where the
bot stays silent, staff reply, the resident gets it, staff resolve and the bot speaks."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pytest
import requests
from twilio.request_validator import RequestValidator

pytestmark = pytest.mark.integration

STAFF = ("it-agent@example.org", "integration password")


class WebResident:
    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self.conversation_id: str | None = None
        self.cursor = 0

    def says(self, text: str) -> str:
        body: dict[str, Any] = {"text": text}
        if self.conversation_id:
            body["conversation_id"] = self.conversation_id
        response = requests.post(f"{self.stack.web_url}/api/chat", json=body, timeout=90)
        assert response.status_code == 200, response.text
        data = response.json()
        self.conversation_id = data["conversation_id"]
        self.cursor = data["cursor"]
        return "\n".join(m["text"] for m in data["messages"])

    def new_messages(self) -> list[dict[str, Any]]:
        url = f"{self.stack.web_url}/api/chat/{self.conversation_id}/messages"
        data = requests.get(url, params={"after": self.cursor}, timeout=10).json()
        self.cursor = data["cursor"]
        return data["messages"]


def staff_session(stack: Any) -> requests.Session:
    from casework import staff
    from casework.db import session_scope

    with session_scope(stack.database_url) as session:
        staff.add_or_update(session, STAFF[0], STAFF[1], "admin", "Integration Agent")
    http = requests.Session()
    login = http.post(
        f"{stack.web_url}/inbox/login",
        data={
            "email": STAFF[0],
            "password": STAFF[1],
            "csrf_token": csrf(http, stack, "/inbox/login"),
        },
        timeout=30,
    )
    assert login.ok and "Queue" in login.text
    return http


def csrf(http: requests.Session, stack: Any, path: str) -> str:
    html = http.get(stack.web_url + path, timeout=30).text
    match = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html)
    assert match, html[:300]
    return match.group(1)


def ticket_action(
    http: requests.Session, stack: Any, reference: str, name: str, **form: str
) -> str:
    token = csrf(http, stack, f"/inbox/tickets/{reference}")
    response = http.post(
        f"{stack.web_url}/inbox/tickets/{reference}/{name}",
        data={**form, "csrf_token": token},
        timeout=60,
    )
    assert response.ok
    return response.text


def test_web_sar_shows_in_the_inbox_with_the_due_date(stack: Any) -> None:
    from casework import sar_clock
    from casework.sar import today_uk

    me = WebResident(stack)
    assert "full name" in me.says("what do you hold on me? I want it all")
    me.says("Sam Smith")
    me.says("my own")
    me.says("12 High Street, London NW9 4EW")
    me.says("everything")
    me.says("email")
    me.says("sam.smith@example.com")
    receipt = me.says("yes")
    match = re.search(r"SAR-[0-9A-Z]{6}", receipt)
    assert match, receipt
    reference = match.group(0)
    due = sar_clock.due_date(sar_clock.SarClock(received_on=today_uk()))

    http = staff_session(stack)
    queue = http.get(f"{stack.web_url}/inbox/queue.json?kind=sar", timeout=30).json()["tickets"]
    row = next(r for r in queue if r["reference"] == reference)
    assert row["due_date"] == due.isoformat() and row["channel"] == "web"
    page = http.get(f"{stack.web_url}/inbox/tickets/{reference}", timeout=30).text
    assert due.isoformat() in page and "Sam Smith" in page
    api = http.get(f"{stack.web_url}/api/tickets/{reference}", timeout=30).json()
    assert api["kind"] == "sar" and api["due_date"] == due.isoformat()


def test_handoff_bot_silent_staff_reply_then_bot_speaks_again(stack: Any) -> None:
    me = WebResident(stack)
    me.says("hello")
    me.says("I want to speak to a real person")
    me.says("here")
    from casework import tickets
    from casework.db import session_scope

    with session_scope(stack.database_url) as session:
        ticket = tickets.open_handoff_for(session, me.conversation_id or "")
        assert ticket is not None
        reference = ticket.reference
    # The bot stays silent: only our one-time acknowledgement.
    first = me.says("hello? anyone?")
    assert "Talk2Us" in first
    assert me.says("still waiting") == ""
    http = staff_session(stack)
    ticket_action(http, stack, reference, "assign")
    ticket_action(http, stack, reference, "reply", text="Hi, this is Talk2Us. How can we help?")
    deadline = time.monotonic() + 2.0  # the widget polls every 1.5 s
    got: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not got:
        got = [m for m in me.new_messages() if m["author"] == "staff"]
        time.sleep(0.2)
    assert [m["text"] for m in got] == ["Hi, this is Talk2Us. How can we help?"]
    page = ticket_action(http, stack, reference, "close", outcome="Question answered")
    assert "handed back" in page
    tracker = requests.get(
        f"{stack.rasa_url}/conversations/{me.conversation_id}/tracker",
        params={"token": stack.rasa_token},
        timeout=30,
    ).json()
    assert tracker["paused"] is False
    assert me.says("what is a subject access request?") != ""


def signed_sms(stack: Any, phone: str, body: str) -> requests.Response:
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": stack.env.get("TWILIO_ACCOUNT_SID", "AC" + "0" * 32),
        "From": phone,
        "To": "+447700900000",
        "Body": body,
        "NumMedia": "0",
    }
    url = stack.settings.public_base_url + "/sms/inbound"
    signature = RequestValidator(stack.settings.twilio_auth_token).compute_signature(url, params)
    return requests.post(
        f"{stack.web_url}/sms/inbound",
        data=params,
        headers={"X-Twilio-Signature": signature},
        timeout=30,
    )


def test_sms_conversation_with_signed_requests(stack: Any, twilio_fake: Any) -> None:
    from casework.db import session_scope
    from casework.models import OutboundMessage

    phone = "+4477009" + str(uuid.uuid4().int)[:5]
    started = time.monotonic()
    response = signed_sms(stack, phone, "what do you hold on me? I want it all")
    assert response.status_code == 200 and time.monotonic() - started < 5
    sent = twilio_fake.wait_for(lambda ms: any(m.to == phone for m in ms), timeout=60)
    [reply] = [m for m in sent if m.to == phone]
    assert "full name" in reply.body
    # Twilio reports delivery; staff see it on the outbox row.
    assert twilio_fake.deliver(reply.sid).status_code == 204
    with session_scope(stack.database_url) as session:
        row = session.query(OutboundMessage).filter(OutboundMessage.provider_id == reply.sid).one()
        assert row.status == "delivered"
    # A forged request is refused.
    forged = requests.post(
        f"{stack.web_url}/sms/inbound",
        data={"From": phone, "Body": "STOP", "MessageSid": "SM" + "0" * 32},
        headers={"X-Twilio-Signature": "forged"},
        timeout=30,
    )
    assert forged.status_code == 403
    stop = signed_sms(stack, phone, "STOP")
    assert "unsubscribed" in stop.text


def test_end_and_delete_removes_the_chat_and_rasas_copy(stack: Any) -> None:
    from sqlalchemy import create_engine, text

    me = WebResident(stack)
    me.says("hello")
    me.says("what is personal data")
    conversation_id = me.conversation_id
    tracker = create_engine(stack.env["TRACKER_URL"])
    count = text("SELECT count(*) FROM events WHERE sender_id = :sid")
    with tracker.connect() as connection:
        assert connection.execute(count, {"sid": conversation_id}).scalar() > 0
    ended = requests.delete(f"{stack.web_url}/api/chat/{conversation_id}", timeout=30)
    assert ended.status_code == 200 and ended.json()["deleted"] is True
    with tracker.connect() as connection:
        assert connection.execute(count, {"sid": conversation_id}).scalar() == 0
    gone = requests.get(f"{stack.web_url}/api/chat/{conversation_id}/messages", timeout=10)
    assert gone.status_code == 404
    tracker.dispose()
