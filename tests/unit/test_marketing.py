"""Marketing opt-outs: reading channels and contacts, the form's validator (Tracker.from_dict
as Rasa sends it), the record it leaves, the suppression lookup (API, CLI, CSV)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from actions.marketing import (
    ActionAskMktPhone,
    ActionSubmitMarketingOptOut,
    ValidateMarketingOptOutForm,
    parse_channels,
)
from casework import contacts, conversations, ledger, outbox, staff, suppressions
from casework import db as casework_db
from casework.models import AuditEvent, ConsentEvent, OutboundMessage, Ticket
from casework.pseudonym import contact_key
from tests.unit.test_actions import DOMAIN, run, run_async, slot_events, tracker

SECRET = "test-secret-key"  # tests/conftest.py: database_url sets it
FORM = "marketing_opt_out_form"


@pytest.fixture
def db(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ORG", "barnet-homes")
    return database_url


def said(messages: list[dict[str, Any]]) -> str:
    """What the resident sees: each response rendered from domain.yml with its values."""
    out = []
    for message in messages:
        if message.get("response"):
            template = DOMAIN["responses"][message["response"]][0]["text"]
            out.append(template.format(**message))
        else:
            out.append(message.get("text") or "")
    return "\n".join(out)


def responses(messages: list[dict[str, Any]]) -> list[str]:
    return [m.get("response") or "" for m in messages]


def in_form(
    text: str,
    requested: str,
    slots: dict[str, Any] | None = None,
    sender: str = "conv-1",
    history: list[dict[str, Any]] | None = None,
) -> Any:
    """The form asked for `requested` and the resident answered `text` (from_text)."""
    t = tracker(
        sender,
        slots={"requested_slot": requested, **(slots or {})},
        text=text,
        candidates={requested: text},
        history=history,
    )
    t.active_loop = {"name": FORM}
    return t


def opening(text: str, sender: str = "conv-1", intent: str = "request_marketing_opt_out") -> Any:
    t = tracker(sender, text=text, intent=intent)
    t.active_loop = {"name": FORM}
    return t


def sms_conversation(database_url: str, phone: str = "07700900555", blocked: bool = False) -> str:
    with casework_db.session_scope(database_url) as session:
        conversation = conversations.get_or_create_sms(session, phone, "barnet-homes", SECRET)
        conversation.sms_blocked = blocked
        return conversation.id


# --------------------------------------------------------------------------- reading


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stop texting me offers", ["sms"]),
        ("email and texts", ["email", "sms"]),
        ("all of them", ["all"]),
        ("all", ["all"]),
        ("stop all your marketing emails", ["email"]),
        ("opt me out of all marketing - email, text, post, the lot", ["all"]),
        ("stop texting my phone", ["sms"]),
        ("phone calls", ["phone"]),
        ("please stop the junk mail", ["post"]),
        ("no more junk emails", ["email"]),
        ("I never signed up for your newsletter emails, remove me", ["email"]),
        ("stop sending me your newsletter", None),  # e-mail or paper? ask
        ("Sam Smith", None),
        ("stop texting me, my email is sam@example.org", ["sms"]),
        ("stop calling my mobile", ["phone"]),
        ("email me at text@example.org", ["email"]),
    ],
)
def test_channels_are_what_the_resident_named(text: str, expected: list[str] | None) -> None:
    assert parse_channels(text) == expected


def test_contacts_are_normalised_one_way() -> None:
    assert contacts.parse_uk_mobile("my number is 07700 900987") == "+447700900987"
    assert contacts.parse_uk_mobile("020 8080 6587") is None  # a landline takes no texts
    assert contacts.find_uk_phones("020 8080 6587 or 07700 900987") == [
        "+442080806587",
        "+447700900987",
    ]
    assert contacts.normalise("sms", "+44 7700 900987") == contacts.normalise("sms", "07700900987")
    assert contacts.parse_postal_address("12 High Street,  London nw9 4ew.") == (
        "12 High Street, London NW9 4EW"
    )
    assert contacts.parse_postal_address("NW9 4EW") is None  # no house, no letterbox
    assert contacts.parse_postal_address("a" * 2000 + " NW9 4EW") is None
    # "High St" and "High Street, London" are the same letterbox; flat 3 is not flat 4.
    assert contacts.normalise("post", "Flat 3, 12 High St NW9 4EW") == contacts.normalise(
        "post", "flat 3, 12 High Street, London, nw94ew"
    )
    assert contacts.normalise("post", "Flat 3, 12 High St NW9 4EW") != contacts.normalise(
        "post", "Flat 4, 12 High St NW9 4EW"
    )
    assert contacts.mask_email("k.smith@example.org") == "k…@example.org"


def test_a_phone_ledger_key_is_the_sms_conversation_key(db: str) -> None:
    """So a Twilio STOP and a chat opt-out for one number are one suppression."""
    with casework_db.session_scope(db) as session:
        conversation = conversations.get_or_create_sms(session, "07700 900987", "x", SECRET)
        normalised = contacts.normalise("sms", "07700 900987")
        assert normalised is not None
        assert contact_key(normalised, SECRET) == conversation.sender_key


# --------------------------------------------------------------------------- the form


def test_details_in_the_first_message_are_used_not_asked(db: str) -> None:
    t = opening("please stop texting me offers, my number is 07700 900987")
    events, messages = run(ValidateMarketingOptOutForm(), t)
    slots = slot_events(events)
    assert slots["mkt_channels"] == ["sms"]
    assert slots["mkt_mobile"] == "+447700900987"
    assert slots["requested_slot"] is None  # nothing left to ask
    assert "07700 900987" in slots["mkt_said"]["mkt_mobile"]
    assert messages == []


def test_an_email_in_the_first_message_is_used(db: str) -> None:
    events, _ = run(
        ValidateMarketingOptOutForm(),
        opening("stop sending me marketing emails, K.Smith@example.org"),
    )
    slots = slot_events(events)
    assert slots["mkt_email"] == "k.smith@example.org" and slots["requested_slot"] is None


def test_two_numbers_go_to_the_channels_they_can_serve(db: str) -> None:
    events, _ = run(
        ValidateMarketingOptOutForm(),
        opening("stop calling me on 020 8080 6587 and texting 07700 900987"),
    )
    slots = slot_events(events)
    assert slots["mkt_channels"] == ["sms", "phone"]
    assert slots["mkt_mobile"] == "+447700900987"
    assert slots["mkt_phone"] == "+442080806587"


def test_a_contact_for_a_channel_not_chosen_is_not_kept(db: str) -> None:
    events, _ = run(
        ValidateMarketingOptOutForm(), opening("stop texting me, my email is sam@example.org")
    )
    slots = slot_events(events)
    assert "mkt_email" not in slots
    assert slots["requested_slot"] == "mkt_mobile"


def test_channels_asked_then_the_number_from_the_opening_is_used(db: str) -> None:
    history = [
        {
            "event": "user",
            "text": "my number is 07700 900987, stop the marketing",
            "parse_data": {"intent": {"name": "request_marketing_opt_out"}},
        },
        {"event": "active_loop", "name": FORM},
        {"event": "slot", "name": "requested_slot", "value": "mkt_channels"},
    ]
    t = in_form("texts", "mkt_channels", history=history)
    events, _ = run(ValidateMarketingOptOutForm(), t)
    slots = slot_events(events)
    assert slots["mkt_channels"] == ["sms"] and slots["mkt_mobile"] == "+447700900987"
    assert slots["requested_slot"] is None


def test_a_later_opt_out_does_not_reuse_an_earlier_ones_details(db: str) -> None:
    """While a form starts, the tracker holds only the earlier form's activation."""
    history = [
        {"event": "user", "text": "stop texting me on 07700 900111"},
        {"event": "active_loop", "name": FORM},
        {"event": "active_loop", "name": None},
    ]
    t = tracker(text="stop calling me", intent="request_marketing_opt_out", history=history)
    events, _ = run(ValidateMarketingOptOutForm(), t)
    slots = slot_events(events)
    assert slots["mkt_channels"] == ["phone"] and "mkt_phone" not in slots
    assert slots["requested_slot"] == "mkt_phone"


def test_a_yes_to_the_offer_keeps_the_details_of_the_question(db: str) -> None:
    history = [
        {"event": "user", "text": "can you stop emailing sam@example.org?"},
        {"event": "bot", "text": "Would you like me to stop marketing messages to you now?"},
    ]
    t = tracker(text="yes please", intent="affirm", history=history)
    events, _ = run(ValidateMarketingOptOutForm(), t)
    slots = slot_events(events)
    assert "mkt_channels" not in slots  # a question: the channels are confirmed by asking
    assert slots["requested_slot"] == "mkt_channels"
    history += [
        {"event": "user", "text": "yes please", "parse_data": {"intent": {"name": "affirm"}}},
        {"event": "active_loop", "name": FORM},
    ]
    events, _ = run(
        ValidateMarketingOptOutForm(), in_form("email", "mkt_channels", history=history)
    )
    slots = slot_events(events)
    assert slots["mkt_channels"] == ["email"] and slots["mkt_email"] == "sam@example.org"


def test_only_the_contacts_the_channels_need_are_asked(db: str) -> None:
    form = ValidateMarketingOptOutForm()

    def required(sender: str, channels: Any) -> list[str]:
        t = tracker(sender, slots={"mkt_channels": channels})
        return run_async(form.required_slots([], None, t, DOMAIN))  # type: ignore[arg-type]

    assert required("web-1", ["email"]) == ["mkt_channels", "mkt_email"]
    assert required("web-1", ["post"]) == ["mkt_channels", "mkt_name", "mkt_address"]
    assert required("web-1", ["all"]) == [
        "mkt_channels",
        "mkt_email",
        "mkt_mobile",
        "mkt_phone",
        "mkt_name",
        "mkt_address",
    ]
    on_sms = sms_conversation(db)
    assert required(on_sms, ["sms"]) == ["mkt_channels"]  # the number texting us
    assert required("web-1", None) == ["mkt_channels"]


@pytest.mark.parametrize(
    ("slot", "bad", "response"),
    [
        ("mkt_channels", "Sam Smith", "utter_invalid_mkt_channels"),
        ("mkt_email", "k.smith.example.org", "utter_invalid_mkt_email"),
        ("mkt_email", "k.smith@example", "utter_invalid_mkt_email"),
        ("mkt_email", "<b>k.smith@example.org</b>", "utter_invalid_mkt_email"),
        ("mkt_mobile", "12345", "utter_invalid_mkt_mobile"),
        ("mkt_mobile", "020 8080 6587", "utter_invalid_mkt_mobile_landline"),
        ("mkt_phone", "my flat is number 42", "utter_invalid_mkt_phone"),
        ("mkt_name", "Sam " * 512, "utter_invalid_mkt_name"),
        ("mkt_name", "<script>alert(1)</script>", "utter_invalid_mkt_name"),
        ("mkt_address", "NW9 4EW", "utter_invalid_mkt_address"),
        ("mkt_address", "12 High Street " * 150 + "NW9 4EW", "utter_invalid_mkt_address"),
        ("mkt_address", '<a href="x">12 High St NW9 4EW</a>', "utter_invalid_mkt_address"),
    ],
)
def test_bad_answers_get_a_polite_reask_and_no_value(
    db: str, slot: str, bad: str, response: str
) -> None:
    channel = {"mkt_email": "email", "mkt_mobile": "sms", "mkt_phone": "phone"}.get(slot, "post")
    earlier = {"mkt_channels": [channel], "mkt_name": "Sam Smith"} if slot == "mkt_address" else {}
    channels = earlier or ({"mkt_channels": [channel]} if slot != "mkt_channels" else {})
    events, messages = run(ValidateMarketingOptOutForm(), in_form(bad, slot, channels))
    slots = slot_events(events)
    assert slots[slot] is None
    assert slots["requested_slot"] == slot  # asked again
    assert responses(messages) == [response]
    assert response in DOMAIN["responses"]


def test_the_third_bad_answer_explains_with_an_example(db: str) -> None:
    slots = {"mkt_channels": ["email"], "failed_attempts": {"mkt_email": 2}}
    events, messages = run(
        ValidateMarketingOptOutForm(), in_form("sam at home", "mkt_email", slots)
    )
    assert responses(messages) == ["utter_explain_mkt_email"]
    assert '"stop"' in said(messages) and "@" in said(messages)


def test_good_answers_are_normalised_and_keep_the_words(db: str) -> None:
    events, _ = run(
        ValidateMarketingOptOutForm(),
        in_form("it's Sam.Smith@Example.COM thanks", "mkt_email", {"mkt_channels": ["email"]}),
    )
    slots = slot_events(events)
    assert slots["mkt_email"] == "sam.smith@example.com"
    assert slots["mkt_said"]["mkt_email"] == "it's Sam.Smith@Example.COM thanks"
    events, _ = run(
        ValidateMarketingOptOutForm(),
        in_form("12 high st, london nw9 4ew", "mkt_address", {"mkt_channels": ["post"]}),
    )
    assert slot_events(events)["mkt_address"] == "12 high st, london NW9 4EW"


def test_same_number_for_calls_on_the_web_and_on_sms(db: str) -> None:
    events, _ = run(
        ValidateMarketingOptOutForm(),
        in_form(
            "same number",
            "mkt_phone",
            {"mkt_channels": ["sms", "phone"], "mkt_mobile": "+447700900987"},
        ),
    )
    assert slot_events(events)["mkt_phone"] == "+447700900987"
    on_sms = sms_conversation(db)
    events, _ = run(
        ValidateMarketingOptOutForm(),
        in_form("this number", "mkt_phone", {"mkt_channels": ["phone"]}, sender=on_sms),
    )
    assert slot_events(events)["mkt_phone"] == "this number"
    _, messages = run(ActionAskMktPhone(), tracker("web-1", slots={"mkt_mobile": "+447700900987"}))
    assert "ending 987" in said(messages) and messages[0]["response"] == "utter_mkt_ask_phone_same"


# --------------------------------------------------------------------------- the record


def submit(sender: str, **slots: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return run(ActionSubmitMarketingOptOut(), tracker(sender, slots=slots))


def test_an_email_opt_out_says_exactly_what_happens(db: str) -> None:
    events, messages = submit(
        "web-mkt",
        mkt_channels=["email"],
        mkt_email="k.smith@example.org",
        mkt_said={"mkt_email": "it's K.Smith@example.org"},
    )
    text = said(messages)
    match = re.search(r"MKT-[2-9A-HJ-NP-Z]{6}", text)
    assert match, text
    assert text.startswith(
        "I've recorded that you don't want marketing e-mails at k…@example.org "
        f"(reference {match.group(0)}). Talk2Us will take you off our mailing lists within "
        "5 working days and confirm by e-mail."
    )
    assert "Done" not in text and "stopped" not in text
    assert "not marketing" in text
    with casework_db.session_scope(db) as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.contact == "email: k.smith@example.org" and ticket.contact_method == "email"
        assert ticket.details["contacts"] == {"email": "k.smith@example.org"}
        assert ticket.details["said"] == {"mkt_email": "it's K.Smith@example.org"}
        [entry] = session.scalars(select(ConsentEvent)).all()
        assert entry.subject_key == contact_key("k.smith@example.org", SECRET) != "web-mkt"
        assert entry.ticket_reference == ticket.reference
        found = suppressions.status(
            session,
            org="barnet-homes",
            channel="email",
            contact="K.Smith@Example.org ",
            secret=SECRET,
        )
        assert found["suppressed"] and found["reference"] == ticket.reference
    assert {e["name"]: e["value"] for e in events}["mkt_email"] is None  # the form is reset


def test_an_email_opt_out_queues_its_confirmation_and_says_staff_send_it(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No e-mail sender configured: the e-mail waits in the outbox with the reason, and
    the bot says staff will send it (never that it has gone)."""
    monkeypatch.delenv("SMTP_URL", raising=False)
    _, messages = submit("web-mail", mkt_channels=["email"], mkt_email="k.smith@example.org")
    text = said(messages)
    assert "confirm by e-mail." in text
    assert (
        "I can't send e-mails myself, so Talk2Us will send that e-mail to k…@example.org." in text
    )
    assert "on its way" not in text and "won't ring" not in text
    with casework_db.session_scope(db) as session:
        [row] = session.scalars(select(OutboundMessage)).all()
        ticket = session.scalars(select(Ticket)).one()
        assert (row.channel, row.to, row.status) == ("email", "k.smith@example.org", "pending")
        assert row.conversation_id == "web-mail"
        assert row.last_error == outbox.NO_EMAIL_SENDER
        expected = DOMAIN["responses"]["utter_mkt_confirmation_email"][0]["text"].format(
            org="Barnet Homes",
            reference=ticket.reference,
            team="Talk2Us",
            days=5,
            phone="020 8080 6587",
        )
        assert row.body == expected
        assert ticket.details["confirmation_email"] == "pending"
        assert "confirm by e-mail" in ticket.summary  # staff still owe the e-mail


def test_with_an_email_sender_the_confirmation_is_emailed_by_itself(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SMTP configured: the bot says the e-mail is on its way and the sender delivers it
    to the address given (a real SMTP stand-in on loopback)."""
    from privacybot.orgs import load_org
    from privacybot.settings import load_settings
    from tests.fakes.smtp import SmtpStandIn
    from webhook.mailer import EmailSender

    server = SmtpStandIn().start()
    try:
        monkeypatch.setenv("SMTP_URL", server.url)
        _, messages = submit(
            "web-mail2",
            mkt_channels=["email", "post"],
            mkt_email="k.smith@example.org",
            mkt_name="Sam Smith",
            mkt_address="12 High Street, London NW9 4EW",
        )
        text = said(messages)
        assert "An e-mail confirming it is on its way to k…@example.org." in text
        assert "confirm by letter." in text and "e-mail and letter" not in text
        assert "can't send e-mails" not in text
        with casework_db.session_scope(db) as session:
            [row] = session.scalars(select(OutboundMessage)).all()
            ticket = session.scalars(select(Ticket)).one()
            assert (row.channel, row.status, row.last_error) == ("email", "pending", None)
            reference = ticket.reference
            assert "confirm by letter" in ticket.summary and "e-mail," not in ticket.summary
        assert EmailSender(load_settings(), load_org("barnet-homes")).send_due() == 1
    finally:
        server.stop()
    [received] = server.behaviour.received
    assert received.message["To"] == "k.smith@example.org"
    assert reference in received.message.get_content()
    assert "marketing e-mails" in received.message.get_content()


def test_a_web_sms_opt_out_is_confirmed_by_text_through_the_outbox(db: str) -> None:
    _, messages = submit(
        "web-sms",
        mkt_channels=["email", "sms"],
        mkt_email="k.smith@example.org",
        mkt_mobile="+447700900987",
    )
    text = said(messages)
    assert "e-mails at k…@example.org or texts to the number ending 987 (reference MKT-" in text
    assert "I've sent a text to the number ending 987 to confirm." in text
    with casework_db.session_scope(db) as session:
        text_row, email_row = session.scalars(select(OutboundMessage)).all()
        ticket = session.scalars(select(Ticket)).one()
        assert (text_row.to, text_row.channel, text_row.status) == (
            "+447700900987",
            "sms",
            "pending",
        )
        assert ticket.reference in text_row.body and "Barnet Homes" in text_row.body
        assert (email_row.to, email_row.channel) == ("k.smith@example.org", "email")
        assert [e.channel for e in session.scalars(select(ConsentEvent))] == ["email", "sms"]


def test_a_number_that_texted_stop_is_not_texted_and_the_bot_says_why(db: str) -> None:
    sms_conversation(db, "07700900987", blocked=True)
    _, messages = submit("web-stop", mkt_channels=["sms"], mkt_mobile="+447700900987")
    assert "replied STOP" in said(messages)
    with casework_db.session_scope(db) as session:
        [row] = session.scalars(select(OutboundMessage)).all()
        assert row.status == "blocked"


def test_on_sms_the_reply_is_the_confirmation_and_the_key_is_the_number(db: str) -> None:
    sender = sms_conversation(db, "07700900555")
    _, messages = submit(sender, mkt_channels=["sms", "phone"], mkt_phone="this number")
    text = said(messages)
    assert "texts to this number or phone calls to this number" in text
    assert "This text is your confirmation." in text
    with casework_db.session_scope(db) as session:
        assert session.scalars(select(OutboundMessage)).all() == []
        conversation = conversations.get(session, sender)
        entries = session.scalars(select(ConsentEvent)).all()
        assert {e.subject_key for e in entries} == {conversation.sender_key}
        assert {e.source for e in entries} == {"sms"}


def test_post_and_calls_are_confirmed_as_the_org_config_says(db: str) -> None:
    _, messages = submit(
        "web-post",
        mkt_channels=["post"],
        mkt_name="Sam Smith",
        mkt_address="12 High Street, London NW9 4EW",
    )
    assert "post to Sam Smith at NW9 4EW" in said(messages)
    assert "confirm by letter." in said(messages)
    _, messages = submit("web-call", mkt_channels=["phone"], mkt_phone="+442080806587")
    text = said(messages)
    assert "phone calls to the number ending 587" in text and "confirm by" not in text
    assert "We won't ring you to confirm" in text


def test_a_missing_contact_records_nothing(db: str) -> None:
    _, messages = submit("web-none", mkt_channels=["email"])
    assert responses(messages) == ["utter_mkt_nothing_changed"]
    with casework_db.session_scope(db) as session:
        assert session.scalars(select(Ticket)).all() == []
        assert session.scalars(select(ConsentEvent)).all() == []


# --------------------------------------------------------------------------- the lookup


def test_suppression_since_the_first_opt_out_after_an_opt_in(db: str) -> None:
    with casework_db.session_scope(db) as session:
        for ref in ("MKT-AAAAAA", None, "MKT-BBBBBB", "MKT-CCCCCC"):
            if ref is None:  # staff recorded a later opt-in
                key = contact_key("a@example.org", SECRET)
                ledger.record(
                    session,
                    subject_key=key,
                    org="barnet-homes",
                    purpose="marketing",
                    decision="opt_in",
                    channel="email",
                    source="staff",
                )
                continue
            suppressions.record_opt_out(
                session,
                org="barnet-homes",
                channel="email",
                contact="a@example.org",
                secret=SECRET,
                source="chat",
                ticket_reference=ref,
            )
        found = suppressions.status(
            session, org="barnet-homes", channel="email", contact="A@example.org", secret=SECRET
        )
        assert found["suppressed"] and found["reference"] == "MKT-BBBBBB"
        assert found["opt_outs"] == 2
        other_org = suppressions.status(
            session, org="twenty11", channel="email", contact="a@example.org", secret=SECRET
        )
        assert not other_org["suppressed"]
        phone = suppressions.status(
            session, org="barnet-homes", channel="phone", contact="07700 900987", secret=SECRET
        )
        assert not phone["suppressed"] and phone["reference"] is None
        with pytest.raises(suppressions.InvalidContact):
            suppressions.status(
                session, org="barnet-homes", channel="email", contact="nope", secret=SECRET
            )


def test_the_lookup_lists_withdrawn_consent_until_it_is_given_again(db: str) -> None:
    """A withdrawal is keyed on the contact the resident gave (as opt-outs are): the
    staff lookup of that contact names each use withdrawn, when and under which ticket."""
    key = suppressions.key_for("email", "Res.Ident@Example.org", SECRET)
    entries = [
        ("photos", "withdrawn", "CON-AAAAAA"),
        ("recordings", "withdrawn", "CON-BBBBBB"),
        ("recordings", "opt_in", None),  # staff recorded consent given again
    ]
    with casework_db.session_scope(db) as session:
        for purpose, decision, ref in entries:
            ledger.record(
                session,
                subject_key=key,
                org="barnet-homes",
                purpose=purpose,
                decision=decision,
                source="chat" if ref else "staff",
                ticket_reference=ref,
            )
        found = suppressions.status(
            session,
            org="barnet-homes",
            channel="email",
            contact="res.ident@example.org",
            secret=SECRET,
        )
        assert not found["suppressed"]
        assert [(w["purpose"], w["reference"]) for w in found["consent_withdrawn"]] == [
            ("photos", "CON-AAAAAA")
        ]
        other = suppressions.status(
            session,
            org="barnet-homes",
            channel="email",
            contact="someone@example.org",
            secret=SECRET,
        )
        assert other["consent_withdrawn"] == []


@pytest.fixture
def app(tmp_path: Path, rasa: Any) -> Flask:
    from tests.browser.webapp import settings_for
    from tests.unit.test_web_sms import PUBLIC
    from webhook import create_app

    app = create_app(settings_for(tmp_path, rasa.url, public_base_url=PUBLIC), background=False)
    with casework_db.session_scope(app.extensions["privacybot"].settings.database_url) as session:
        staff.add_or_update(session, "agent@example.org", "correct horse battery", "agent", "A")
        staff.add_or_update(session, "admin@example.org", "correct horse battery", "admin", "B")
    return app


def _app_db(app: Flask) -> Any:
    return casework_db.session_scope(app.extensions["privacybot"].settings.database_url)


def test_suppressions_api_and_stop_found_by_number(app: Flask) -> None:
    from tests.unit.test_web_sms import inbound, post_signed

    client = app.test_client()
    response = post_signed(client, "/sms/inbound", inbound("STOP", phone="+447700900321"))
    assert response.status_code == 200
    with _app_db(app) as session:
        token = staff.issue_token(session, "agent@example.org")
    headers = {"Authorization": f"Bearer {token}"}
    url = "/api/suppressions"
    assert client.get(url, query_string={"channel": "sms", "contact": "x"}).status_code == 401
    found = client.get(
        url, query_string={"channel": "sms", "contact": "07700 900321"}, headers=headers
    ).get_json()
    assert found["suppressed"] and found["source"] == "sms_keyword"
    assert found["all_texts_blocked"] is True
    assert found["reference"] and found["reference"].startswith("MKT-")  # the STOP ticket
    other = client.get(
        url, query_string={"channel": "sms", "contact": "07700 900322"}, headers=headers
    ).get_json()
    assert other["suppressed"] is False and other["since"] is None
    bad = client.get(url, query_string={"channel": "email", "contact": "nope"}, headers=headers)
    assert bad.status_code == 400
    bad = client.get(url, query_string={"channel": "fax", "contact": "1"}, headers=headers)
    assert bad.status_code == 400
    with _app_db(app) as session:
        checks = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "suppressions.checked")
        ).all()
        assert len(checks) == 2
        assert "900321" not in json.dumps([c.detail for c in checks])  # no contact in the log


def _login(client: Any, email: str) -> None:
    from tests.unit.test_web_inbox import login

    assert login(client, email, "correct horse battery").status_code == 302


def test_admins_export_current_suppressions_as_csv(app: Flask) -> None:
    from casework import tickets
    from casework.models import TicketKind

    with _app_db(app) as session:
        ticket = tickets.create_ticket(
            session,
            kind=TicketKind.MARKETING_OPT_OUT,
            org="barnet-homes",
            channel="web",
            summary="Stop marketing",
            details={"contacts": {"sms": "+447700900987"}},
        )
        suppressions.record_opt_out(
            session,
            org="barnet-homes",
            channel="sms",
            contact="+447700900987",
            secret=SECRET,
            source="chat",
            ticket_reference=ticket.reference,
        )
        reference = ticket.reference
    agent = app.test_client()
    _login(agent, "agent@example.org")
    assert agent.get("/inbox/suppressions.csv").status_code == 403
    admin = app.test_client()
    _login(admin, "admin@example.org")
    assert "/inbox/suppressions.csv" in admin.get("/inbox").get_data(as_text=True)
    response = admin.get("/inbox/suppressions.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["channel"], r["reference"], r["source"]) for r in rows] == [
        ("sms", reference, "chat")
    ]
    assert rows[0]["contact"] == "'+447700900987"  # a leading + is a formula to a spreadsheet
    assert rows[0]["contact_key"] == contact_key("+447700900987", SECRET)
    with _app_db(app) as session:
        exported = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "suppressions.exported")
        ).one()
        assert exported.detail == {"count": 1}


def test_cli_check_says_it_and_exits_by_it(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    from privacybot.cli import main

    with casework_db.session_scope(db) as session:
        suppressions.record_opt_out(
            session,
            org="barnet-homes",
            channel="email",
            contact="k.smith@example.org",
            secret=SECRET,
            source="chat",
            ticket_reference="MKT-ABCDEF",
        )
    assert main(["suppressions", "check", "email", "K.Smith@example.org"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["suppressed"] and result["reference"] == "MKT-ABCDEF"
    assert main(["suppressions", "check", "email", "other@example.org"]) == 1
    assert json.loads(capsys.readouterr().out)["suppressed"] is False
    assert main(["suppressions", "check", "sms", "020 8080 6587"]) == 2  # not a mobile
