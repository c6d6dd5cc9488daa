"""SMS opt-in words and outbox claims on the real stack (gunicorn, Rasa, the action
server, Twilio's REST API faked): YES opts back in only while a number is opted out
(otherwise Rasa answers it), UNSTOP and START always do; a reply claimed by a sender
that died is texted later, once."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.integration.test_web_stack import signed_sms

pytestmark = pytest.mark.integration

SWITCHED_ON = "switched back on"


def _phone() -> str:
    return "+4477009" + str(uuid.uuid4().int)[:5]


def _conversation(stack: Any, phone: str) -> Any:
    from casework.db import session_scope
    from casework.models import Conversation

    with session_scope(stack.database_url) as session:
        conversation = session.scalars(
            select(Conversation).where(Conversation.address == phone)
        ).one()
        session.expunge(conversation)
        return conversation


def _decisions(stack: Any, phone: str) -> list[str]:
    from casework import ledger
    from casework.db import session_scope

    key = _conversation(stack, phone).sender_key
    with session_scope(stack.database_url) as session:
        return [event.decision for event in ledger.history(session, key)]


def _user_turns(stack: Any, sender_id: str) -> list[str]:
    import requests

    tracker = requests.get(
        f"{stack.rasa_url}/conversations/{sender_id}/tracker",
        params={"token": stack.rasa_token},
        timeout=30,
    ).json()
    return [e.get("text") for e in tracker["events"] if e["event"] == "user"]


def _wait_until(condition: Any, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.3)


def test_yes_opts_in_only_while_opted_out(stack: Any, twilio_fake: Any) -> None:
    phone = _phone()
    # Not opted out: YES is an answer for Rasa, texted back through the outbox.
    first = signed_sms(stack, phone, "YES")
    assert first.status_code == 200 and SWITCHED_ON not in first.text
    sender_id = _conversation(stack, phone).id
    _wait_until(lambda: _user_turns(stack, sender_id) == ["YES"])
    twilio_fake.wait_for(lambda sent: any(m.to == phone for m in sent), timeout=90)
    assert _decisions(stack, phone) == []

    assert "unsubscribed" in signed_sms(stack, phone, "STOP").text
    assert _conversation(stack, phone).sms_blocked
    assert SWITCHED_ON in signed_sms(stack, phone, "Yes").text
    assert not _conversation(stack, phone).sms_blocked
    assert _decisions(stack, phone)[-1] == "opt_in"
    # Keywords are answered in the TwiML: Rasa saw only the first YES.
    assert _user_turns(stack, sender_id) == ["YES"]


@pytest.mark.parametrize("word", ["UNSTOP", "start"])
def test_unstop_and_start_opt_back_in(stack: Any, word: str) -> None:
    phone = _phone()
    assert "unsubscribed" in signed_sms(stack, phone, "STOP").text
    assert _conversation(stack, phone).sms_blocked
    answer = signed_sms(stack, phone, word)
    assert answer.status_code == 200 and SWITCHED_ON in answer.text
    conversation = _conversation(stack, phone)
    assert not conversation.sms_blocked
    assert _decisions(stack, phone)[-1] == "opt_in"
    assert _user_turns(stack, conversation.id) == []


def test_a_reply_claimed_by_a_dead_sender_is_texted_later_once(
    stack: Any, twilio_fake: Any
) -> None:
    """The claim a sender took before it died (status claimed, no result) times out like
    an inbound claim; the live web process's sender then texts it, and only once."""
    from casework.db import session_scope
    from casework.models import OutboundMessage, utcnow
    from webhook.outbox import CLAIM_TIMEOUT

    phone = _phone()
    claimed_at = utcnow() - CLAIM_TIMEOUT - timedelta(seconds=30)
    with session_scope(stack.database_url) as session:
        row = OutboundMessage(
            conversation_id=None,
            channel="sms",
            to=phone,
            body="Your reference is SAR-TEST01.",
            status="claimed",
            attempts=1,
            created_at=claimed_at,
            updated_at=claimed_at,
        )
        session.add(row)
        session.flush()
        row_id = row.id
    twilio_fake.wait_for(lambda sent: any(m.to == phone for m in sent), timeout=30)
    time.sleep(3)  # three more rounds of the sender loop: none may send it again
    [sent] = twilio_fake.sent_to(phone)
    assert sent.body == "Your reference is SAR-TEST01."
    with session_scope(stack.database_url) as session:
        row = session.get(OutboundMessage, row_id)
        assert row is not None
        assert (row.status != "claimed", row.attempts, row.provider_id) == (True, 2, sent.sid)


def test_keywords_answered_inline_are_never_replayed(stack: Any, twilio_fake: Any) -> None:
    """STOP, START and HELP are answered in the TwiML and marked processed with it: the
    web process's retry loop, which answers messages a dead worker left, finds nothing
    to send to Rasa or text again, even once their claims would have gone stale."""
    from casework import conversations
    from casework.db import session_scope
    from casework.models import Message, OutboundMessage, utcnow
    from webhook.frontdoor import CLAIM_TIMEOUT

    phone, canary_phone = _phone(), _phone()
    for word in ("STOP", "START", "HELP"):
        assert "<Message>" in signed_sms(stack, phone, word).text
    sender_id = _conversation(stack, phone).id
    long_ago = utcnow() - CLAIM_TIMEOUT - timedelta(minutes=5)
    with session_scope(stack.database_url) as session:
        session.execute(
            update(Message)
            .where(Message.conversation_id == sender_id)
            .values(created_at=long_ago, claimed_at=long_ago)
        )
        # A message a dead worker left behind, stored after them: once the retry loop
        # has answered it, it has looked at the keywords too.
        canary = conversations.get_or_create_sms(
            session, canary_phone, "barnet-homes", stack.settings.pseudonym_key
        )
        stored = conversations.record_inbound(session, canary, "what is personal data")
        assert stored is not None
        stored.created_at = long_ago
    twilio_fake.wait_for(lambda sent: any(m.to == canary_phone for m in sent), timeout=120)
    assert _user_turns(stack, sender_id) == []
    with session_scope(stack.database_url) as session:
        texts = session.scalars(select(OutboundMessage.status).where(OutboundMessage.to == phone))
        assert list(texts) == ["twiml"] * 3  # one answer each, none texted again
    assert twilio_fake.sent_to(phone) == []
