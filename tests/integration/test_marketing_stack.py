"""Marketing opt-outs over the real stack (rasa + actions + web) through the front doors a
resident uses (POST /api/chat, signed /sms/inbound), found again the way staff look
(GET /api/suppressions with a bearer token)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
import requests

from casework.outbox import NO_EMAIL_SENDER
from tests.integration.test_sar_consent_records import outbox_of
from tests.integration.test_web_stack import WebResident, signed_sms

pytestmark = pytest.mark.integration

REFERENCE = re.compile(r"MKT-[2-9A-HJ-NP-Z]{6}")


def staff_token(stack: Any) -> dict[str, str]:
    from casework import staff
    from casework.db import session_scope

    with session_scope(stack.database_url) as session:
        staff.add_or_update(session, "it-lookup@example.org", "integration password", "agent", "L")
        token = staff.issue_token(session, "it-lookup@example.org")
    return {"Authorization": f"Bearer {token}"}


def lookup(stack: Any, channel: str, contact: str) -> dict[str, Any]:
    response = requests.get(
        f"{stack.web_url}/api/suppressions",
        params={"channel": channel, "contact": contact},
        headers=staff_token(stack),
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()


def records_of(stack: Any, conversation_id: str) -> tuple[list[Any], list[Any]]:
    from casework.db import session_scope
    from casework.models import ConsentEvent, Ticket

    with session_scope(stack.database_url) as session:
        tickets = session.query(Ticket).filter(Ticket.conversation_id == conversation_id).all()
        entries = (
            session.query(ConsentEvent)
            .filter(ConsentEvent.source_conversation == conversation_id)
            .all()
        )
        return tickets, entries


def fresh_mobile() -> tuple[str, str]:
    """(E.164, as a resident types it) for a UK mobile no other test uses."""
    digits = f"{uuid.uuid4().int % 100000:05d}"
    return f"+4477009{digits}", f"07700 9{digits}"


def test_a_web_opt_out_naming_the_email_is_found_by_the_lookup(stack: Any) -> None:
    email = f"k.smith.{uuid.uuid4().hex[:8]}@example.org"
    me = WebResident(stack)
    assert "Which e-mail address" in me.says("stop sending me marketing emails")
    reply = me.says(f"it's {email.upper()}")
    match = REFERENCE.search(reply)
    assert match, reply
    reference = match.group(0)
    assert (
        f"I've recorded that you don't want marketing e-mails at k…@example.org (reference "
        f"{reference}). Talk2Us will take you off our mailing lists within 5 working days and "
        "confirm by e-mail." in reply
    )
    assert "Done" not in reply and "stopped" not in reply
    found = lookup(stack, "email", f"  {email.title()} ")
    assert found["suppressed"] is True and found["reference"] == reference
    assert found["since"] and found["source"] == "chat"
    assert lookup(stack, "email", f"other.{email}")["suppressed"] is False
    ticket = requests.get(
        f"{stack.web_url}/api/tickets/{reference}", headers=staff_token(stack), timeout=30
    ).json()
    assert ticket["contact"] == f"email: {email}" and ticket["kind"] == "marketing_opt_out"
    # The confirmation e-mail waits in the outbox for staff (this stack has no SMTP_URL),
    # and the bot says so rather than that it has gone.
    assert (
        "I can't send e-mails myself, so Talk2Us will send that e-mail to k…@example.org" in reply
    )
    [row] = outbox_of(stack, me.conversation_id or "")
    assert (row.channel, row.to, row.status) == ("email", email, "pending")
    assert row.last_error == NO_EMAIL_SENDER and reference in row.body


def test_an_email_in_the_first_message_is_not_asked_again(stack: Any) -> None:
    email = f"k.smith.{uuid.uuid4().hex[:8]}@example.org"
    me = WebResident(stack)
    reply = me.says(f"stop sending me marketing emails, my address is {email}")
    assert "I've recorded that you don't want marketing e-mails at k…@example.org" in reply
    assert lookup(stack, "email", email)["suppressed"] is True


def test_a_web_sms_opt_out_is_confirmed_by_text(stack: Any, twilio_fake: Any) -> None:
    e164, typed = fresh_mobile()
    me = WebResident(stack)
    assert "mobile number" in me.says("stop sending me marketing texts")
    reply = me.says(typed)
    reference = REFERENCE.search(reply)
    assert reference, reply
    assert f"I've sent a text to the number ending {e164[-3:]} to confirm." in reply
    sent = twilio_fake.wait_for(lambda ms: any(m.to == e164 for m in ms), timeout=30)
    [text] = [m for m in sent if m.to == e164]
    assert reference.group(0) in text.body
    assert lookup(stack, "sms", e164)["reference"] == reference.group(0)


def test_an_sms_opt_out_is_found_by_number(stack: Any, twilio_fake: Any) -> None:
    e164, typed = fresh_mobile()
    assert signed_sms(stack, e164, "stop sending me marketing texts").status_code == 200
    sent = twilio_fake.wait_for(
        lambda ms: any(m.to == e164 and "recorded" in m.body for m in ms), timeout=60
    )
    [reply] = [m for m in sent if m.to == e164]
    assert "texts to this number" in reply.body and "This text is your confirmation" in reply.body
    reference = REFERENCE.search(reply.body)
    assert reference, reply.body
    found = lookup(stack, "sms", typed)  # staff type it as the resident would
    assert found["suppressed"] is True and found["reference"] == reference.group(0)
    assert found["source"] == "sms" and found["all_texts_blocked"] is False
    # Twilio's STOP keyword from another number is an SMS opt-out found the same way.
    other, other_typed = fresh_mobile()
    assert "unsubscribed" in signed_sms(stack, other, "STOP").text
    stopped = lookup(stack, "sms", other_typed)
    assert stopped["suppressed"] and stopped["source"] == "sms_keyword"
    assert stopped["all_texts_blocked"] is True


def test_a_bad_email_is_asked_again_and_never_recorded(stack: Any) -> None:
    me = WebResident(stack)
    me.says("stop sending me marketing emails")
    for bad in ("k.smith.example.org", "<b>k.smith@example.org</b>"):
        reply = me.says(bad)
        assert "doesn't look like an e-mail address" in reply, reply
        assert "Which e-mail address" in reply
    assert me.says("stop")  # leave the form: nothing is saved
    tickets, entries = records_of(stack, me.conversation_id or "")
    assert tickets == [] and entries == []
    assert lookup(stack, "email", "k.smith@example.org")["suppressed"] is False
