"""Whole conversations over Rasa's REST channel against the real rasa + action servers,
checking the casework records they leave behind."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.integration


class Resident:
    """One conversation with the assistant (a fresh pseudonymous sender id)."""

    def __init__(self, stack: Any, sender: str | None = None) -> None:
        self.stack = stack
        self.sender = sender or f"it-{uuid.uuid4().hex[:12]}"

    def say(self, text: str) -> list[dict[str, Any]]:
        response = requests.post(
            f"{self.stack.rasa_url}/webhooks/rest/webhook",
            json={"sender": self.sender, "message": text},
            timeout=60,
        )
        response.raise_for_status()
        return response.json()

    def says(self, text: str) -> str:
        return "\n".join(m.get("text") or "" for m in self.say(text))

    def tracker(self) -> dict[str, Any]:
        response = requests.get(
            f"{self.stack.rasa_url}/conversations/{self.sender}/tracker",
            params={"token": self.stack.rasa_token},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()


def tickets_of(stack: Any, sender: str) -> list[Any]:
    from casework import db
    from casework.models import Ticket

    with db.session_scope(stack.database_url) as session:
        tickets = session.query(Ticket).filter(Ticket.conversation_id == sender).all()
        for ticket in tickets:  # load what the tests read before the session closes
            _ = ticket.sar, ticket.transcript
        return tickets


def ledger_of(stack: Any, subject_key: str) -> list[Any]:
    from casework import db
    from casework.models import ConsentEvent

    with db.session_scope(stack.database_url) as session:
        query = session.query(ConsentEvent).filter(ConsentEvent.subject_key == subject_key)
        return query.order_by(ConsentEvent.id).all()


def ledger_from(stack: Any, conversation_id: str) -> list[Any]:
    """The ledger rows a conversation wrote, whatever contact they are keyed on."""
    from casework import db
    from casework.models import ConsentEvent

    with db.session_scope(stack.database_url) as session:
        query = session.query(ConsentEvent).filter(
            ConsentEvent.source_conversation == conversation_id
        )
        return query.order_by(ConsentEvent.id).all()


def test_sar_in_new_words_gets_the_statutory_due_date(stack: Any) -> None:
    from actions.common import format_date
    from casework import sar_clock
    from casework.sar import today_uk

    me = Resident(stack)
    assert "full name" in me.says("what do you hold on me? I want it all")
    me.say("Sam Smith")
    me.say("my own")
    assert "postcode" in me.says("somewhere near the park")  # does not validate: asked again
    # "I want it all" already said what: confirmed, not asked again.
    assert "everything we hold" in me.says("12 High Street, London NW9 4EW")
    me.say("yes")
    me.say("email")
    assert "look like an email address" in me.says("not-an-email")
    summary = me.says("sam.smith@example.com")
    assert "Sam Smith" in summary and "passport" in summary
    receipt = me.says("yes")

    due = sar_clock.due_date(sar_clock.SarClock(received_on=today_uk()))
    [ticket] = tickets_of(stack, me.sender)
    assert ticket.kind.value == "sar"
    assert ticket.sar.due_on == due
    assert ticket.sar.requester_name == "Sam Smith"
    assert ticket.contact == "sam.smith@example.com"
    assert ticket.reference in receipt and format_date(due) in receipt and "free" in receipt


def sar_up_to_the_scope(stack: Any) -> Resident:
    """A resident who has started a SAR and is asked what they want."""
    me = Resident(stack)
    for text in ("i want a copy of my records", "Sam Smith", "my own"):
        me.say(text)
    me.say("12 High Street, London NW9 4EW")
    return me


def test_sar_answer_changed_at_the_confirmation_without_starting_again(stack: Any) -> None:
    me = sar_up_to_the_scope(stack)
    me.say("everything")
    me.say("email")
    assert "sam.smith@example.com" in me.says("sam.smith@example.com")
    assert "Which answer" in me.says("change something")
    assert "email" in me.says("how we contact you").lower()
    me.say("email")
    summary = me.says("sam@example.org")
    assert "sam@example.org" in summary and "sam.smith@example.com" not in summary
    assert "Sam Smith" in summary and "NW9 4EW" in summary  # the other answers are kept
    me.say("yes")
    [ticket] = tickets_of(stack, me.sender)
    assert ticket.contact == "sam@example.org"


def test_records_about_a_complaint_are_a_scope_not_a_new_complaint(stack: Any) -> None:
    me = sar_up_to_the_scope(stack)
    reply = me.says("the complaint i made last year about repairs")
    assert "email" in reply.lower()  # the form goes on to the contact question
    assert not tickets_of(stack, me.sender)  # no handoff was opened


def test_marketing_opt_out_writes_the_ledger(stack: Any) -> None:
    from casework.pseudonym import contact_key

    me = Resident(stack)
    me.say("unsubscribe me from your marketing")
    assert "e-mail address" in me.says("email and texts")
    assert "mobile number" in me.says("sam.smith@example.com")
    reply = me.says("07700 900123")
    # Keyed on the contact, not the conversation: a lookup by address or number finds it.
    email = ledger_of(stack, contact_key("sam.smith@example.com", "integration-pseudonym-key"))
    mobile = ledger_of(stack, contact_key("+447700900123", "integration-pseudonym-key"))
    assert [(e.purpose, e.channel, e.decision) for e in email + mobile] == [
        ("marketing", "email", "opt_out"),
        ("marketing", "sms", "opt_out"),
    ]
    assert ledger_of(stack, me.sender) == []
    [ticket] = tickets_of(stack, me.sender)
    assert ticket.kind.value == "marketing_opt_out"
    assert ticket.contact == "email: sam.smith@example.com; sms: +447700900123"
    assert "not marketing" in reply


def test_consent_withdrawal_is_recorded(stack: Any) -> None:
    from casework.pseudonym import contact_key

    me = Resident(stack)
    me.say("I want to withdraw my consent")
    assert "full name" in me.says("photos")
    me.say("Sam Smith")
    me.say("T123456")
    me.say("email")
    reply = me.says("sam@example.com")
    [entry] = ledger_from(stack, me.sender)
    assert entry.subject_key == contact_key("sam@example.com", "integration-pseudonym-key")
    assert (entry.purpose, entry.decision) == ("photos", "withdrawn")
    assert tickets_of(stack, me.sender)[0].kind.value == "consent_withdrawal"
    assert "stop" in reply


def test_handoff_pauses_the_conversation_with_its_ticket(stack: Any) -> None:
    me = Resident(stack)
    me.say("hello")
    me.say("I want to speak to a real person")
    reply = me.says("here")
    assert "Monday to Friday" in reply
    [ticket] = tickets_of(stack, me.sender)
    assert ticket.kind.value == "handoff"
    assert any("real person" in line["text"] for line in ticket.transcript)
    assert me.tracker()["paused"] is True
    assert me.say("hello?") == []  # the bot stays silent while staff own it


def test_cancel_mid_form_saves_nothing(stack: Any) -> None:
    me = Resident(stack)
    me.say("I want a copy of my records")
    me.say("Sam Smith")
    assert "Nothing has been saved" in me.says("cancel")
    assert tickets_of(stack, me.sender) == []
    assert me.tracker()["active_loop"] in ({}, None) or not me.tracker()["active_loop"].get("name")


def test_digression_is_answered_then_the_form_resumes(stack: Any) -> None:
    me = Resident(stack)
    me.say("send me my file")
    reply = me.says("how long does a subject access request take?")
    assert "calendar month" in reply and "full name" in reply
    assert me.tracker()["active_loop"]["name"] == "sar_form"


@pytest.mark.parametrize(
    "payload",
    [
        "/restart",
        '/sar_form{"sar_name": "x", "sar_confirm": "yes"}',
        '{"sar_name": "Mallory", "sar_confirm": "yes"}',
        "<script>alert(1)</script>",
        "x" * 5000,
        "¿Dónde están mis datos personales?",
    ],
)
def test_injected_or_odd_input_mid_form(stack: Any, payload: str) -> None:
    me = Resident(stack)
    me.say("I want all the info you hold on me")
    replies = me.say(payload)
    for message in replies:
        assert "<script" not in (message.get("text") or "")
    me.say("yes")
    assert tickets_of(stack, me.sender) == []  # never a half-filled record


def test_sms_conversation_does_not_ask_for_a_phone(stack: Any) -> None:
    from casework import conversations, db

    phone = f"07700 9{uuid.uuid4().int % 100000:05d}"  # a fresh conversation every run
    with db.session_scope(stack.database_url) as session:
        conversation = conversations.get_or_create_sms(
            session, phone, "barnet-homes", "integration-pseudonym-key"
        )
        sender, key = conversation.id, conversation.sender_key
    me = Resident(stack, sender)
    me.say("I want a copy of my data")
    me.say("Priya Patel")
    me.say("mine")
    me.say("T123456")
    summary = me.says("everything")
    assert "by text to this number" in summary
    me.say("yes")
    [ticket] = tickets_of(stack, sender)
    assert ticket.contact_method == "sms" and ticket.contact == "+44" + phone[1:].replace(" ", "")
    me.say("stop sending me marketing texts")
    assert [e.channel for e in ledger_of(stack, key)] == ["sms"]


def test_out_of_scope_and_questions(stack: Any) -> None:
    me = Resident(stack)
    assert "020 8080 6587" in me.says("my boiler is broken")
    reply = me.says("who do you share my personal information with?")
    assert reply  # answered with a citation, or plainly not sure with a person offered
    assert "—" in reply or "person" in reply


@pytest.mark.parametrize(
    "question",
    [
        "is my data sent abroad",
        "do u give my details to the gas and electric company",
        "can barnet homes use my data without asking me",
    ],
)
def test_a_worried_question_is_answered_not_handed_off(stack: Any, question: str) -> None:
    """Whatever intent the NLU picks (these have read as complaints), a plain question the
    notices answer gets the answer with its citation, and no hand-off or ticket."""
    me = Resident(stack)
    reply = me.says(question)
    assert "— Barnet Homes privacy policy" in reply, reply
    assert tickets_of(stack, me.sender) == []


def test_a_complaint_still_goes_to_a_person(stack: Any) -> None:
    me = Resident(stack)
    reply = me.says("you sent my letter to my neighbour and I want to complain")
    assert "pass it to them" in reply, reply


def test_a_question_read_as_asking_for_a_person_is_answered_then_a_person_offered(
    stack: Any,
) -> None:
    me = Resident(stack)
    reply = me.says("do staff listen back to my phone calls")
    assert "— " in reply and tickets_of(stack, me.sender) == []
    me.says("can i speak to someone please")
    assert me.tracker()["active_loop"].get("name") == "handoff_form"


def test_household_questions_are_not_a_safety_risk_but_a_risk_still_is(stack: Any) -> None:
    """'partner' or 'kids' in a question is not distress (it used to read as it, and the
    resident got the emergency text and a hand-off); a real risk still gets both."""
    emergency = "999"
    me = Resident(stack)
    # Read as distress (0.63) before household examples joined the NLU data.
    reply = me.says("If I put my partner down as emergency contact, do I have to tell him first?")
    assert emergency not in reply and me.tracker()["active_loop"].get("name") is None
    at_risk = Resident(stack)
    reply = at_risk.says("my ex is violent and i'm scared he will get my new address from you")
    assert emergency in reply, reply
    assert at_risk.tracker()["active_loop"].get("name") == "handoff_form"


def test_a_question_with_risk_words_gets_the_emergency_route_and_a_person_offered(
    stack: Any,
) -> None:
    """The NLU reads this as a privacy question and the notices answer it; the risk words
    still bring the emergency text first, and a person is offered after the answer."""
    me = Resident(stack)
    reply = me.says("is information about domestic abuse kept private")
    assert "999" in reply and "— " in reply and "person on our team" in reply, reply


def test_a_request_asked_as_a_question_starts_after_one_yes(stack: Any) -> None:
    me = Resident(stack)
    reply = me.say("could I get a copy of the notes you keep about me?")
    assert me.tracker()["active_loop"].get("name") is None, reply
    assert [b["payload"] for b in reply[-1].get("buttons") or []] == ["yes", "no"], reply
    me.says("yes")
    assert me.tracker()["active_loop"].get("name") == "sar_form"


def test_asking_whether_a_person_is_there_offers_one(stack: Any) -> None:
    me = Resident(stack)
    reply = me.say("hang on, is this an actual person replying?")
    assert "automated" in reply[0]["text"] and reply[-1].get("buttons"), reply
    me.says("yes please")
    assert me.tracker()["active_loop"].get("name") == "handoff_form"


def test_stop_that_is_not_an_opt_out_is_not_nothing_to_stop(stack: Any) -> None:
    question = Resident(stack)
    reply = question.says("how do I get you to stop passing my details to the council?")
    assert "Nothing is in progress" not in reply, reply
    fed_up = Resident(stack)
    fed_up.says("stop ignoring me, this is useless")
    assert fed_up.tracker()["active_loop"].get("name") == "handoff_form"


def test_someone_elses_letter_sent_to_me_goes_to_a_person_not_a_sar(stack: Any) -> None:
    me = Resident(stack)
    reply = me.says("I've been sent a letter with another tenant's rent account on it")
    assert me.tracker()["active_loop"].get("name") == "handoff_form", reply
    assert me.tracker()["slots"]["handoff_reason"] == "complain"
