"""Consent withdrawals: the ledger row is keyed on the resident's contact, and the
written confirmation goes through the outbox to that contact, or the bot says why not."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from actions.consent import ActionSubmitConsentWithdrawal, ValidateConsentWithdrawalForm
from casework import db as casework_db
from casework import outbox, suppressions
from casework.models import ConsentEvent, OutboundMessage, Ticket
from tests.unit.test_actions import CONSENT, run, tracker
from tests.unit.test_marketing import SECRET, said, sms_conversation


@pytest.fixture
def db(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ORG", "barnet-homes")
    return database_url


def withdraw(sender: str, **slots: Any) -> list[dict[str, Any]]:
    _, messages = run(ActionSubmitConsentWithdrawal(), tracker(sender, slots={**CONSENT, **slots}))
    return messages


def rows(database_url: str) -> tuple[ConsentEvent, Ticket, list[OutboundMessage]]:
    with casework_db.session_scope(database_url) as session:
        entry = session.scalars(select(ConsentEvent)).one()
        ticket = session.scalars(select(Ticket)).one()
        outbox = list(session.scalars(select(OutboundMessage)))
        session.expunge_all()
        return entry, ticket, outbox


def test_the_ledger_row_is_keyed_on_the_email_given_and_confirmed_by_email(db: str) -> None:
    text = said(withdraw("web-1", consent_contact="Sam@Example.com"))
    entry, ticket, [row] = rows(db)
    assert entry.subject_key == suppressions.key_for("email", "sam@example.com", SECRET)
    assert entry.subject_key != "web-1" and entry.source_conversation == "web-1"
    assert ticket.details["name"] == "Sam Smith" and ticket.contact == "Sam@Example.com"
    # An e-mail row: queued for an e-mail sender, never for the SMS sender.
    assert (row.channel, row.to, row.status) == ("email", "Sam@Example.com", "pending")
    assert row.last_error == outbox.NO_EMAIL_SENDER  # why it has not gone, for staff
    assert ticket.reference in row.body and "photos and publicity" in row.body
    assert ticket.details["confirmation"] == {"email": "pending"}
    told = "I can't send e-mails myself: Talk2Us will e-mail a confirmation to S…@Example.com"
    assert told in text
    assert "I've sent" not in text


def test_with_an_email_sender_the_bot_says_the_email_is_on_its_way(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMTP_URL", "smtp://127.0.0.1:2525")
    text = said(withdraw("web-1b", consent_contact="Sam@Example.com"))
    *_, [row] = rows(db)
    assert (row.channel, row.status, row.last_error) == ("email", "pending", None)
    assert "An e-mail confirming it is on its way to S…@Example.com." in text
    assert "can't send e-mails" not in text


def test_a_web_withdrawal_confirmed_by_text_is_texted_to_that_number(db: str) -> None:
    text = said(withdraw("web-2", consent_contact_method="sms", consent_contact="07700 900987"))
    entry, ticket, [row] = rows(db)
    assert entry.subject_key == suppressions.key_for("sms", "+447700900987", SECRET)
    assert (row.channel, row.status) == ("sms", "pending") and ticket.reference in row.body
    assert row.last_error is None
    assert "I've sent a text to the number ending 987 to confirm it." in text


def test_a_number_that_texted_stop_is_not_texted_and_the_bot_says_why(db: str) -> None:
    sms_conversation(db, "07700900987", blocked=True)
    text = said(withdraw("web-3", consent_contact_method="sms", consent_contact="+447700900987"))
    *_, [row] = rows(db)
    assert row.status == "blocked"
    assert "can't text the number ending 987" in text and "replied STOP" in text


def test_post_is_not_queued_and_the_bot_says_who_posts_it(db: str) -> None:
    address = "12 High Street, London NW9 4EW"
    text = said(withdraw("web-4", consent_contact_method="post", consent_contact=address))
    entry, _, outbox = rows(db)
    assert entry.subject_key == suppressions.key_for("post", address, SECRET)
    assert outbox == []
    assert "I can't send letters myself: Talk2Us will post a confirmation" in text
    assert "NW9 4EW" in text


def test_on_sms_the_key_is_the_number_and_the_reply_confirms(db: str) -> None:
    sender = sms_conversation(db, "07700900555")
    text = said(withdraw(sender, consent_contact_method=None, consent_contact=None))
    entry, ticket, outbox = rows(db)
    assert entry.subject_key == suppressions.key_for("sms", "07700900555", SECRET)
    assert (ticket.contact_method, outbox) == ("sms", [])
    assert "This text is your confirmation." in text


def test_a_contact_that_cannot_key_the_record_records_nothing(db: str) -> None:
    text = said(withdraw("web-5", consent_contact="not an address"))
    assert "nothing has been recorded" in text
    with casework_db.session_scope(db) as session:
        assert session.scalars(select(Ticket)).all() == []
        assert session.scalars(select(ConsentEvent)).all() == []


@pytest.mark.parametrize(
    ("method_slot", "contact_slot", "locator_slot"),
    [
        ("consent_contact_method", "consent_contact", "consent_locator"),
        ("sar_contact_method", "sar_contact", "sar_locator"),
    ],
)
def test_both_forms_read_how_to_reach_the_resident_one_way(
    db: str, method_slot: str, contact_slot: str, locator_slot: str
) -> None:
    """actions.forms.ContactFormValidation: a contact given with the method is taken at
    once; post uses the address given to find the records; the re-ask names the method."""
    from actions.sar.validator import ValidateSarForm
    from tests.unit.test_actions import slot_events, validate

    form = ValidateSarForm() if method_slot.startswith("sar") else ValidateConsentWithdrawalForm()
    events, _ = validate(form, method_slot, "email me at Sam@Example.com")
    assert slot_events(events)[contact_slot] == "sam@example.com"
    events, _ = validate(form, method_slot, "post", {locator_slot: "4 Elm  Close, nw9 4ew"})
    assert slot_events(events)[contact_slot] == "4 Elm Close, NW9 4EW"
    events, _ = validate(form, method_slot, "post", {locator_slot: "T123456"})
    slots = slot_events(events)  # a tenancy reference is no address: asked next
    assert (slots[method_slot], slots[contact_slot]) == ("post", None)
    _, messages = validate(form, contact_slot, "12345", {method_slot: "post"})
    assert messages[0]["response"] == "utter_invalid_contact_post"
