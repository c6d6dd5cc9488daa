"""The action server's actions and validators, run directly against a temp casework DB."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import answer, common
from actions import text as text_helpers
from actions.consent import ActionSubmitConsentWithdrawal, ValidateConsentWithdrawalForm
from actions.general import ActionCancelForm, ActionOutOfScope, ActionTriageStop
from actions.handoff import ActionPrepareHandoff, ActionSubmitHandoff, ValidateHandoffForm
from actions.marketing import (
    ValidateMarketingOptOutForm,
    parse_channels,
)
from actions.sar import ActionAskSarConfirm, ActionSubmitSar, ValidateSarForm, parse_scope

DOMAIN = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "bot" / "domain.yml").read_text(encoding="utf-8")
)


def tracker(
    sender: str = "conv-1",
    slots: dict[str, Any] | None = None,
    text: str = "",
    intent: str = "inform",
    active_loop: str | None = None,
    candidates: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
) -> Tracker:
    """A tracker as Rasa sends it: `candidates` are slots just extracted from `text`."""
    slot_values = {**(slots or {}), **(candidates or {})}
    events = list(history or [])
    events.append({"event": "user", "text": text, "timestamp": 1_700_000_000.0})
    events += [{"event": "slot", "name": k, "value": v} for k, v in (candidates or {}).items()]
    return Tracker.from_dict(
        {
            "sender_id": sender,
            "slots": slot_values,
            "latest_message": {
                "text": text,
                "intent": {"name": intent, "confidence": 1.0},
                "entities": [],
            },
            "events": events,
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action_name": "action_listen",
        }
    )


def run_async(coroutine: Any) -> Any:
    """asyncio.run in a worker thread: a session-wide Playwright browser (browser tests)
    keeps an event loop running in the main thread, where asyncio.run would refuse."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def run(action: Any, t: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = run_async(action.run(dispatcher, t, DOMAIN))
    return events, dispatcher.messages


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _variation(message: dict[str, Any], slots: dict[str, Any]) -> dict[str, Any]:
    """The domain variation Rasa would pick for a response (conditions on slots)."""
    variations = DOMAIN["responses"][message["response"]]
    for variation in variations:
        conditions = variation.get("condition") or []
        if conditions and all(slots.get(c["name"]) == c["value"] for c in conditions):
            return variation
    return next(v for v in variations if not v.get("condition"))


def render(message: dict[str, Any], slots: dict[str, Any] | None = None) -> str:
    """A message as the resident sees it: domain responses filled like Rasa fills them."""
    if message.get("text") or not message.get("response"):
        return message.get("text") or ""
    values = {**(slots or {}), **{k: v for k, v in message.items() if v is not None}}
    return _variation(message, slots or {})["text"].format_map(_Blank(values))


def buttons_of(message: dict[str, Any], slots: dict[str, Any] | None = None) -> list[Any]:
    if message.get("buttons"):
        return message["buttons"]
    return _variation(message, slots or {}).get("buttons", []) if message.get("response") else []


def texts(messages: list[dict[str, Any]], slots: dict[str, Any] | None = None) -> str:
    return "\n".join(render(m, slots) for m in messages)


@pytest.fixture
def db(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ORG", "barnet-homes")
    return database_url


# --------------------------------------------------------------------------- parsers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("07700 900123", "+447700900123"),
        ("+44 7700 900456", "+447700900456"),
        ("call me on 020 8080 6587 please", "+442080806587"),
        ("+44 (0)20 8080 6587", "+442080806587"),
        ("12345", None),
        ("07700", None),
        ("+33 6 12 34 56 78", None),
    ],
)
def test_uk_phone(text: str, expected: str | None) -> None:
    assert common.parse_uk_phone(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sam.smith@example.com", "sam.smith@example.com"),
        ("my email is Priya@Example.org.", "priya@example.org"),
        ("sam@", None),
        ("not an email", None),
    ],
)
def test_email(text: str, expected: str | None) -> None:
    assert common.parse_email(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nw9 4ew", "NW9 4EW"),
        ("12 High St, London EC1A1BB", "EC1A 1BB"),
        ("Flat 3, 12 High Street", None),
        ("ZZZ 123", None),
    ],
)
def test_postcode(text: str, expected: str | None) -> None:
    assert common.parse_postcode(text) == expected


def test_dates_are_checked() -> None:
    today = date(2025, 6, 1)
    assert common.find_dates("from 3/1/2024 to March 2025", today) == [
        date(2024, 1, 3),
        date(2025, 3, 1),
    ]
    with pytest.raises(common.DateProblem):
        common.find_dates("from 31/02/2024", today)
    with pytest.raises(common.DateProblem):
        common.find_dates("everything since 2030", today)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my name is priya patel", "Priya Patel"),
        ("John O'Neill", "John O'Neill"),
        ("Zoë Ångström", "Zoë Ångström"),
        ("<b>Sam</b>", None),
        ('{"name": "x"}', None),
        ("12345", None),
        ("hello", None),
        ("I want my data", None),
        ("what do you need my name for", None),
        ("Mary Ann De La Cruz", "Mary Ann De La Cruz"),
    ],
)
def test_names(text: str, expected: str | None) -> None:
    assert common.parse_name(text) == expected


def test_scope_and_channels() -> None:
    assert parse_scope("I want it all") == ("everything", None)
    assert parse_scope("something specific") == ("specific", None)
    assert parse_scope("only my repair records") == ("specific", "only my repair records")
    assert parse_channels("email and texts") == ["email", "sms"]
    assert parse_channels("all of them") == ["all"]
    assert parse_channels("Sam Smith") is None


def test_clean_text_drops_markup() -> None:
    assert "<" not in common.clean_text("<script>alert(1)</script> repairs")
    assert common.looks_like_markup_or_payload('/sar_form{"sar_name": "x"}')
    assert common.looks_like_markup_or_payload("<img src=x onerror=alert(1)>")
    assert not common.looks_like_markup_or_payload("repairs from 2022")


# --------------------------------------------------------------------------- validation


def validate(action: Any, slot: str, text: str, slots: dict[str, Any] | None = None) -> Any:
    t = tracker(
        text=text,
        slots={"requested_slot": slot, **(slots or {})},
        candidates={slot: text},
        active_loop=action.form_name(),
    )
    return run(action, t)


def test_valid_name_is_kept(db: str) -> None:
    events, messages = validate(ValidateSarForm(), "sar_name", "sam smith")
    slots = slot_events(events)
    assert slots["sar_name"] == "Sam Smith"
    assert slots["requested_slot"] == "sar_for_someone_else"
    assert messages == []


def test_invalid_answer_reasked_twice_then_explained(db: str) -> None:
    form = ValidateSarForm()
    counts: dict[str, int] = {}
    notes = []
    for _ in range(3):
        events, messages = validate(
            form, "sar_locator", "somewhere near the park", {"failed_attempts": counts}
        )
        slots = slot_events(events)
        assert slots["sar_locator"] is None
        counts = slots["failed_attempts"]
        notes.append(texts(messages))
    assert counts == {"sar_locator": 3}
    assert "postcode" in notes[0] and "for example" not in notes[0]
    assert notes[1] == notes[0]
    assert "for example" in notes[2] and "NW9 4EW" in notes[2] and "stop" in notes[2]


def test_success_clears_the_count(db: str) -> None:
    events, _ = validate(
        ValidateSarForm(),
        "sar_locator",
        "12 High Street, London NW9 4EW",
        {"failed_attempts": {"sar_locator": 2}},
    )
    slots = slot_events(events)
    assert slots["sar_locator"] == "12 High Street, London NW9 4EW"
    assert slots["failed_attempts"] == {}


@pytest.mark.parametrize(
    "payload", ['/sar_form{"sar_name": "x"}', "<script>alert(1)</script>", '{"name": "Sam"}']
)
def test_injected_payloads_never_fill_a_slot(db: str, payload: str) -> None:
    events, messages = validate(ValidateSarForm(), "sar_name", payload)
    assert slot_events(events)["sar_name"] is None
    assert "<script>" not in texts(messages)


def test_scope_text_fills_detail_and_checks_dates(db: str) -> None:
    events, _ = validate(ValidateSarForm(), "sar_scope", "emails about my rent since March 2022")
    slots = slot_events(events)
    assert slots["sar_scope"] == "specific"
    assert slots["sar_scope_detail"] == "emails about my rent since March 2022"
    events, messages = validate(
        ValidateSarForm(), "sar_scope_detail", "from 31/02/2023", {"sar_scope": "specific"}
    )
    assert slot_events(events)["sar_scope_detail"] is None
    assert "not a real date" in texts(messages)


def test_post_uses_the_address_already_given(db: str) -> None:
    events, _ = validate(
        ValidateSarForm(), "sar_contact_method", "post", {"sar_locator": "4 Elm Close, NW9 4EW"}
    )
    slots = slot_events(events)
    assert slots["sar_contact_method"] == "post"
    assert slots["sar_contact"] == "4 Elm Close, NW9 4EW"


def test_on_sms_the_number_is_not_asked(db: str) -> None:
    from casework import conversations
    from casework import db as casework_db

    with casework_db.session_scope(db) as session:
        conversation = conversations.get_or_create_sms(session, "07700900123", "barnet-homes", "k")
        sms_id = conversation.id
    form = ValidateSarForm()
    web = run_async(form.required_slots([], CollectingDispatcher(), tracker("web-1"), DOMAIN))
    sms = run_async(form.required_slots([], CollectingDispatcher(), tracker(sms_id), DOMAIN))
    assert "sar_contact_method" in web and "sar_contact" in web
    assert "sar_contact_method" not in sms and "sar_contact" not in sms


def test_marketing_channel_from_the_first_message(db: str) -> None:
    t = tracker(text="stop texting me offers", intent="request_marketing_opt_out")
    t.active_loop = {"name": "marketing_opt_out_form"}
    events, _ = run(ValidateMarketingOptOutForm(), t)
    slots = slot_events(events)
    assert slots["mkt_channels"] == ["sms"]


def test_a_question_about_opting_out_is_not_recorded_at_once(db: str) -> None:
    t = tracker(text="how do I stop marketing emails?", intent="request_marketing_opt_out")
    t.active_loop = {"name": "marketing_opt_out_form"}
    events, _ = run(ValidateMarketingOptOutForm(), t)
    assert "mkt_channels" not in slot_events(events)


def test_consent_purpose_free_text_is_something_else(db: str) -> None:
    events, _ = validate(
        ValidateConsentWithdrawalForm(), "consent_purpose", "using my story in your magazine"
    )
    slots = slot_events(events)
    assert slots["consent_purpose"] == "other"
    assert slots["consent_detail"] == "using my story in your magazine"


def test_handoff_contact_given_with_the_method(db: str) -> None:
    events, _ = validate(ValidateHandoffForm(), "handoff_contact_method", "email me at a@b.co.uk")
    slots = slot_events(events)
    assert slots["handoff_contact_method"] == "email"
    assert slots["handoff_contact"] == "a@b.co.uk"


# --------------------------------------------------------------------------- submitting

SAR_SLOTS = {
    "sar_name": "Sam Smith",
    "sar_for_someone_else": "self",
    "sar_locator": "12 High Street, London NW9 4EW",
    "sar_scope": "everything",
    "sar_scope_check": "yes",
    "sar_contact_method": "email",
    "sar_contact": "sam@example.com",
    "sar_confirm": "yes",
}


def test_sar_is_created_with_the_statutory_due_date(db: str) -> None:
    from casework import db as casework_db
    from casework import sar_clock
    from casework.models import Ticket
    from casework.sar import today_uk

    events, messages = run(ActionSubmitSar(), tracker("conv-sar", slots=SAR_SLOTS, text="yes"))
    due = sar_clock.due_date(sar_clock.SarClock(received_on=today_uk()))
    with casework_db.session_scope(db) as session:
        ticket = session.query(Ticket).one()
        assert ticket.kind.value == "sar"
        assert ticket.conversation_id == "conv-sar"
        assert ticket.contact == "sam@example.com" and ticket.contact_method == "email"
        assert ticket.sar.requester_name == "Sam Smith"
        assert ticket.sar.records_locator == "12 High Street, London NW9 4EW"
        assert ticket.sar.due_on == due
        assert ticket.transcript and ticket.transcript[-1]["text"] == "yes"
        reference = ticket.reference
    said = texts(messages)
    assert reference in said and common.format_date(due) in said
    assert "free" in said and "ID" in said
    assert slot_events(events)["sar_name"] is None  # slots are cleared for a next request


def test_sar_not_confirmed_saves_nothing(db: str) -> None:
    from casework import db as casework_db
    from casework.models import Ticket

    run(ActionSubmitSar(), tracker(slots={**SAR_SLOTS, "sar_confirm": "no"}, text="no"))
    run(ActionSubmitSar(), tracker(slots={**SAR_SLOTS, "sar_locator": None}, text="yes"))
    with casework_db.session_scope(db) as session:
        assert session.query(Ticket).count() == 0


FILLED_SAR = {k: v for k, v in SAR_SLOTS.items() if k != "sar_confirm"}


@pytest.mark.parametrize("answer", ["change something", "no, that's wrong", "fix the address"])
def test_sar_confirmation_can_change_one_answer(db: str, answer: str) -> None:
    events, _ = validate(ValidateSarForm(), "sar_confirm", answer, FILLED_SAR)
    slots = slot_events(events)
    assert slots["sar_confirm"] == "change"
    assert slots["requested_slot"] == "sar_change"


@pytest.mark.parametrize("answer", ["no", "stop", "cancel it"])
def test_sar_confirmation_no_still_means_leave_it(db: str, answer: str) -> None:
    events, _ = validate(ValidateSarForm(), "sar_confirm", answer, FILLED_SAR)
    assert slot_events(events)["sar_confirm"] == "no"


@pytest.mark.parametrize(
    ("choice", "cleared", "asked_next"),
    [
        ("name", ["sar_name"], "sar_name"),
        ("address or reference", ["sar_locator"], "sar_locator"),
        ("my email is wrong", ["sar_contact_method", "sar_contact"], "sar_contact_method"),
        ("what you want", ["sar_scope", "sar_scope_detail", "sar_scope_check"], "sar_scope"),
    ],
)
def test_changing_an_answer_clears_it_and_asks_it_again(
    db: str, choice: str, cleared: list[str], asked_next: str
) -> None:
    slots = {**FILLED_SAR, "sar_confirm": "change"}
    events, _ = validate(ValidateSarForm(), "sar_change", choice, slots)
    after = slot_events(events)
    assert all(after[slot] is None for slot in cleared)
    assert after["sar_confirm"] is None and after["sar_change"] is None
    assert after["requested_slot"] == asked_next
    kept = set(FILLED_SAR) - set(cleared)
    assert not kept & {k for k, v in after.items() if v is None}


def test_change_choices_on_sms_leave_out_the_contact() -> None:
    from actions.sar import change_options, parse_change_choice

    assert "how we contact you" not in change_options(on_sms=True)
    assert parse_change_choice("how we contact you", on_sms=True) is None
    assert parse_change_choice("the postcode", on_sms=True) == "address or reference"


def test_sar_confirmation_summary_and_id_explanation(db: str) -> None:
    slots = {**SAR_SLOTS, "sar_for_someone_else": "other", "sar_subject_name": "Asha Patel"}
    _, messages = run(ActionAskSarConfirm(), tracker(slots=slots))
    said = texts(messages)
    assert "Sam Smith" in said and "Asha Patel" in said
    assert "passport" in said and "written permission" in said
    assert "Talk2Us@barnethomes.org" in said  # where ID goes, from the org config
    assert buttons_of(messages[-1])[0]["payload"] == "yes"


CONSENT = {
    "consent_purpose": "photos",
    "consent_name": "Sam Smith",
    "consent_locator": "12 High Street, London NW9 4EW",
    "consent_contact_method": "email",
    "consent_contact": "sam@example.com",
    "form_said": {
        "consent_purpose": "stop using my photos",
        "consent_name": "my name is sam smith",
        "consent_contact_method": "email me",
        "consent_contact": "Sam@Example.com",
        "sar_name": "from an earlier form: not this record's",
    },
}


def test_consent_withdrawal_is_recorded(db: str) -> None:
    from casework import db as casework_db
    from casework.models import ConsentEvent, Ticket
    from casework.tickets import ticket_to_dict

    events, messages = run(ActionSubmitConsentWithdrawal(), tracker("conv-con", slots=CONSENT))
    with casework_db.session_scope(db) as session:
        entry = session.query(ConsentEvent).one()
        assert (entry.purpose, entry.decision) == ("photos", "withdrawn")
        ticket = session.query(Ticket).one()
        assert ticket.kind.value == "consent_withdrawal"
        assert (ticket.contact, ticket.contact_method) == ("sam@example.com", "email")
        assert ticket.details["name"] == "Sam Smith"
        assert ticket.details["records_locator"] == "12 High Street, London NW9 4EW"
        assert ticket.details["said"]["consent_name"] == "my name is sam smith"
        assert "sar_name" not in ticket.details["said"]  # only this form's answers
        assert entry.ticket_reference == ticket.reference
        assert ticket_to_dict(ticket)["conversation_id"] == "conv-con"
        reference = ticket.reference
    said = texts(messages)
    recorded = "I've recorded that you withdraw your consent for photos and publicity"
    assert f"{recorded} (reference {reference})" in said
    assert "within 5 working days" in said and "e-mail a confirmation to s…@example.com" in said
    assert "What stops: Staff will stop using photos" in said and "What may continue" in said
    assert "Done" not in said and "{" not in said
    assert slot_events(events)["form_said"] is None


def test_consent_withdrawal_needs_the_person_and_a_contact(db: str) -> None:
    from casework import db as casework_db
    from casework.models import Ticket

    for missing in ("consent_name", "consent_locator", "consent_contact"):
        _, messages = run(
            ActionSubmitConsentWithdrawal(), tracker(slots={**CONSENT, missing: None})
        )
        assert "nothing has been recorded" in texts(messages)
    with casework_db.session_scope(db) as session:
        assert session.query(Ticket).count() == 0


def test_handoff_opens_a_ticket_and_pauses(db: str) -> None:
    from casework import db as casework_db
    from casework.models import ConversationState, Ticket

    history = [
        {"event": "user", "text": "I want a person", "timestamp": 1_700_000_000.0},
        {"event": "bot", "text": "Of course.", "timestamp": 1_700_000_001.0},
    ]
    slots = {
        "handoff_contact_method": "phone",
        "handoff_contact": "+447700900123",
        "handoff_reason": "distress",
        "handoff_urgent": True,
    }
    events, messages = run(
        ActionSubmitHandoff(), tracker("conv-hlp", slots=slots, text="07700900123", history=history)
    )
    assert events[-1]["event"] == "pause"
    with casework_db.session_scope(db) as session:
        ticket = session.query(Ticket).one()
        assert ticket.kind.value == "handoff" and ticket.details["urgent"] is True
        assert ticket.contact_method == "phone"
        assert [line["text"] for line in ticket.transcript][:2] == ["I want a person", "Of course."]
        assert ticket.conversation_id == "conv-hlp"
        from casework import conversations

        assert conversations.get(session, "conv-hlp").state == ConversationState.STAFF
    said = texts(messages)
    assert "Monday to Friday" in said and ticket.reference in said and "urgent" in said


def test_distress_gives_the_emergency_route_first(db: str) -> None:
    events, messages = run(ActionPrepareHandoff(), tracker(text="I'm scared", intent="distress"))
    assert "999" in messages[0]["text"]
    assert slot_events(events)["handoff_urgent"] is True


def test_cancel_leaves_the_form(db: str) -> None:
    events, messages = run(ActionCancelForm(), tracker(active_loop="sar_form", text="stop"))
    assert {"event": "active_loop", "name": None} in [
        {k: e.get(k) for k in ("event", "name")} for e in events
    ]
    assert "Nothing has been saved" in texts(messages)


# --------------------------------------------------------------------------- answers


class FakeAnswerer:
    def __init__(self, answered: bool) -> None:
        self.answered = answered
        self.previous: str | None = None

    def ask(
        self, question: str, notice: str | None = None, previous: str | None = None
    ) -> dict[str, Any]:
        self.previous = previous
        citation = {
            "notice": "barnet-homes-privacy-policy",
            "notice_title": "Barnet Homes privacy policy",
            "section": "How long we keep it",
            "organisation": "Barnet Homes",
        }
        return {
            "question": question,
            "answered": self.answered,
            "answer": "We keep tenancy records for six years after the tenancy ends.",
            "citation": citation if self.answered else None,
            "passages": [],
        }


def test_out_of_scope_gives_the_contact_route(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(answer, "_answerer", lambda: FakeAnswerer(False))
    _, messages = run(ActionOutOfScope(), tracker(text="my boiler is broken"))
    said = texts(messages)
    assert "Talk2Us" in said and "020 8080 6587" in said


def test_privacy_question_filed_as_out_of_scope_is_still_answered(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(answer, "_answerer", lambda: FakeAnswerer(True))
    _, messages = run(ActionOutOfScope(), tracker(text="how long are my records kept for"))
    said = texts(messages)
    assert "six years" in said and "Talk2Us" not in said


def test_answer_with_citation(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(answer, "_answerer", lambda: FakeAnswerer(True))
    q = tracker(text="how long do you keep my data?", intent="ask_privacy_question")
    events, messages = run(answer.ActionAnswerQuestion(), q)
    assert messages[0]["text"].endswith("— Barnet Homes privacy policy, How long we keep it")
    assert slot_events(events)["answer_status"] == "answered"


def test_follow_up_is_asked_with_the_previous_question(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeAnswerer(True)
    monkeypatch.setattr(answer, "_answerer", lambda: fake)
    history = [
        {"event": "user", "text": "do you share my data with the council?"},
        {"event": "bot", "text": "We share it when the law requires."},
        {"event": "user", "text": "ok"},
    ]
    q = tracker(text="how long for?", intent="ask_privacy_question", history=history)
    run(answer.ActionAnswerQuestion(), q)
    assert fake.previous == "do you share my data with the council?"
    run(answer.ActionAnswerQuestion(), tracker(text="how long for?", intent="ask_privacy_question"))
    assert fake.previous is None


def test_two_unanswered_questions_escalate(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(answer, "_answerer", lambda: FakeAnswerer(False))
    q = tracker(text="do you share my data with aliens?", intent="ask_privacy_question")
    events, messages = run(answer.ActionAnswerQuestion(), q)
    assert slot_events(events)["answer_status"] == "not_sure"
    assert "not sure" in texts(messages)
    again = tracker(
        text="what about martians?",
        intent="ask_privacy_question",
        slots={"failed_answers": slot_events(events)["failed_answers"]},
    )
    events, _ = run(answer.ActionAnswerQuestion(), again)
    assert slot_events(events)["answer_status"] == "escalate"


def test_index_failure_is_not_a_crash(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> Any:
        raise RuntimeError("no index")

    monkeypatch.setattr(answer, "_answerer", broken)
    events, messages = run(
        answer.ActionAnswerQuestion(),
        tracker(text="who sees my data?", intent="ask_privacy_question"),
    )
    assert slot_events(events)["answer_status"] == "not_sure"


@pytest.mark.parametrize("found", [True, False])
def test_sar_question_answered_from_the_rules_then_the_notice(
    db: str, monkeypatch: pytest.MonkeyPatch, found: bool
) -> None:
    """The law's fact first; the landlord's own words on it follow, cited, when found."""
    monkeypatch.setattr(answer, "_answerer", lambda: FakeAnswerer(found))
    q = tracker(text="how long does a SAR take?", intent="ask_sar_question")
    events, messages = run(answer.ActionAnswerQuestion(), q)
    assert messages[0]["response"] == "utter_sar_fact_time"
    assert "one calendar month" in texts(messages[:1])
    assert len(messages) == (2 if found else 1)
    if found:
        assert "— Barnet Homes privacy policy" in messages[1]["text"]
    assert slot_events(events)["answer_status"] == "answered"


def test_every_sar_fact_has_a_domain_response() -> None:
    for topic in answer.SAR_FACT_TOPICS:
        assert render({"response": answer.sar_fact(topic)}).strip()


@pytest.mark.parametrize("found", [True, False])
def test_a_sar_question_no_rule_covers_asks_the_notices_first(
    db: str, monkeypatch: pytest.MonkeyPatch, found: bool
) -> None:
    """ "will you black out other people's names?" is about a SAR but no fact of ours says
    it: the notices answer it, else the general "how to ask" fact."""
    monkeypatch.setattr(answer, "_answerer", lambda: FakeAnswerer(found))
    q = tracker(text="will you black out other people's names?", intent="ask_sar_question")
    events, messages = run(answer.ActionAnswerQuestion(), q)
    assert slot_events(events)["answer_status"] == "answered"
    if found:
        assert "— Barnet Homes privacy policy" in messages[0]["text"]
    else:
        assert messages[0]["response"] == "utter_sar_fact_how"


def test_digression_inside_a_form_does_not_count(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(answer, "_answerer", lambda: FakeAnswerer(False))
    q = tracker(text="who sees my data?", intent="ask_privacy_question", active_loop="sar_form")
    events, messages = run(answer.ActionAnswerQuestion(), q)
    assert slot_events(events) == {"answer_status": None}
    assert "Back to your request" in texts(messages)


def test_every_domain_action_is_served_and_nothing_more() -> None:
    import importlib
    import inspect
    import pkgutil

    from rasa_sdk import Action, utils

    import actions

    for module in pkgutil.walk_packages(actions.__path__, "actions."):
        importlib.import_module(module.name)  # registers every action, as the server does

    served = {
        cls().name()
        for cls in utils.all_subclasses(Action)
        if cls.__module__.startswith("actions.") and not inspect.isabstract(cls)
    }
    assert served == set(DOMAIN["actions"])


def test_risk_words_bring_the_emergency_route(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(answer, "_answerer", lambda: FakeAnswerer(True))
    q = tracker(text="my abusive ex got my address, who do you share it with?")
    events, messages = run(answer.ActionAnswerQuestion(), q)
    assert "999" in messages[0]["text"] and "—" in messages[1]["text"]
    # Answered, and a person is offered too (the rules offer one on not_sure).
    assert slot_events(events)["answer_status"] == "not_sure"
    events, _ = run(answer.ActionAnswerQuestion(), tracker(text="who do you share it with?"))
    assert slot_events(events)["answer_status"] == "answered"
    events, messages = run(ActionPrepareHandoff(), tracker(text="I'm terrified", intent="complain"))
    assert "999" in messages[0]["text"] and slot_events(events)["handoff_reason"] == "distress"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("how long does a SAR take?", "one calendar month"),
        ("is there a fee for a subject access request?", "free"),
        ("what ID do you need?", "passport"),
        ("can my solicitor ask for my records?", "written permission"),
        ("do I have to give a reason?", "don't have to say why"),
        ("what if you don't reply to my SAR?", "Information Commissioner"),
    ],
)
def test_sar_questions_get_the_right_rule(question: str, expected: str) -> None:
    assert expected in render({"response": answer.sar_answer(question)})


@pytest.mark.parametrize(
    ("text", "intent", "status"),
    [
        ("do you give my details to the gas company?", "complain", "answered"),
        ("is my data sent abroad", "complain", "answered"),
        ("my name is spelt wrong how do i get it fixed", "inform", "answered"),
        ("you sent my letter to my neighbour", "complain", "not_a_question"),
        ("why did you leak my address? I want to complain", "complain", "not_a_question"),
        ("Priya Patel", "inform", "not_a_question"),
        (
            "why are you asking for my ethnicity and religion",
            "request_consent_withdrawal",
            "answered",
        ),
        ("how can i withdraw my consent", "request_consent_withdrawal", "offer"),
        (
            "housing officer wants to record our call, is that allowed",
            "request_consent_withdrawal",
            "answered",
        ),
        ("how do i stop your marketing emails", "request_marketing_opt_out", "offer"),
        ("do you build a profile on me", "request_sar", "answered"),
        ("how do i get a copy of my data", "request_sar", "offer"),
        ("what do you hold on me? I want it all", "request_sar", "not_a_question"),
        ("do staff listen back to my phone calls", "request_human", "answered"),
        ("can i speak to someone?", "request_human", "not_a_question"),
        ("can a person call me back", "request_human", "not_a_question"),
        ("speak to someone", "request_human", "not_a_question"),
    ],
)
def test_a_plain_question_is_answered_not_handed_off(
    db: str, monkeypatch: pytest.MonkeyPatch, text: str, intent: str, status: str
) -> None:
    monkeypatch.setattr(answer, "_answerer", lambda: FakeAnswerer(True))
    events, messages = run(answer.ActionAnswerIfQuestion(), tracker(text=text, intent=intent))
    assert slot_events(events)["question_route"] == status
    if status == "answered":
        assert "— Barnet Homes privacy policy" in messages[0]["text"]
    else:
        assert messages == []  # the rules go on to the hand-off, the help text or the form


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        # what an opt-out leaves in place: the domain's own sentence, then the form offered
        (
            "if I opt out of marketing will I still get letters about my rent?",
            "request_marketing_opt_out",
            {"response": "utter_mkt_service_messages"},
        ),
        (
            "does unsubscribing stop my repair appointment texts too?",
            "request_marketing_opt_out",
            {"response": "utter_mkt_service_messages"},
        ),
        # any other question about what it changes: the notices answer it
        (
            "if I unsubscribe will you delete my email address?",
            "request_marketing_opt_out",
            "notices",
        ),
        (
            "what happens to the old newsletters if I withdraw consent for my photo?",
            "request_consent_withdrawal",
            "notices",
        ),
        # asking for someone else, or about the cost: the SAR facts
        ("my gran is in a care home, can I ask for her records?", "request_sar", "behalf"),
        ("do I have to pay anything for that?", "request_sar", "cost"),
    ],
)
def test_a_question_about_what_a_request_changes_is_answered_and_the_form_offered(
    db: str, monkeypatch: pytest.MonkeyPatch, text: str, intent: str, expected: Any
) -> None:
    monkeypatch.setattr(answer, "_answerer", lambda: FakeAnswerer(True))
    events, messages = run(answer.ActionAnswerIfQuestion(), tracker(text=text, intent=intent))
    assert slot_events(events)["question_route"] == "answered"  # the rules offer the form
    if expected == "notices":
        assert "— Barnet Homes privacy policy" in messages[0]["text"]
    elif isinstance(expected, str):
        assert messages[0]["response"] == answer.sar_fact(expected)
    else:
        assert messages[0]["response"] == expected["response"]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("how do I stop your marketing emails?", "request_marketing_opt_out"),
        ("If I get one more email I will scream, can you stop them?", "request_marketing_opt_out"),
        ("can I opt out of texts?", "request_marketing_opt_out"),
        ("can I put in a SAR?", "request_sar"),
    ],
)
def test_a_request_phrased_as_a_question_is_offered_not_answered(
    db: str, monkeypatch: pytest.MonkeyPatch, text: str, intent: str
) -> None:
    """Not answered from the notices: the rules offer its form for one "yes"."""
    monkeypatch.setattr(answer, "_answerer", lambda: FakeAnswerer(True))
    assert not answer.is_plain_question(text, intent)
    events, messages = run(answer.ActionAnswerIfQuestion(), tracker(text=text, intent=intent))
    assert slot_events(events)["question_route"] == "offer"
    assert messages == []


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("can u send me my data pls", "request_sar"),
        ("what do you hold on me? I want it all", "request_sar"),
        ("I want a copy of my repair records", "request_sar"),
        ("stop sending me marketing emails", "request_marketing_opt_out"),
        ("why do you keep emailing me after I complained?", "request_marketing_opt_out"),
        ("can I speak to someone?", "request_human"),
    ],
)
def test_a_request_to_act_now_is_not_only_offered(text: str, intent: str) -> None:
    """A "please", "I want", a grievance, a statement, or a wish for a person: acted on."""
    assert not answer.asks_to_start(text, intent)
    assert answer.route_before_answering(text, intent) == "not_a_question"


@pytest.mark.parametrize(
    "text",
    [
        "I was sent someone else's rent statement in my post",
        "you sent me my neighbours letter by mistake",
        "i got a letter today thats not mine, it has another tenant's bank details",
        "Another resident's file was emailed to me instead of my own",
    ],
)
def test_someone_elses_data_sent_to_me_is_a_complaint_not_a_sar(
    db: str, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setattr(answer, "_answerer", lambda: FakeAnswerer(True))
    events, messages = run(
        answer.ActionAnswerIfQuestion(), tracker(text=text, intent="request_sar")
    )
    assert slot_events(events)["question_route"] == "complaint"
    assert messages == []
    events, _ = run(ActionPrepareHandoff(), tracker(text=text, intent="request_sar"))
    assert slot_events(events)["handoff_reason"] == "complain"


@pytest.mark.parametrize(
    "text",
    [
        "I want a copy of my neighbour's file, I have power of attorney for her",
        "please send me my mum's records",
        "can I get everything you sent to me last year?",
        "I want the letters you sent me about my rent",
    ],
)
def test_a_sar_for_someone_else_or_for_what_i_was_sent_is_still_a_sar(text: str) -> None:
    assert not text_helpers.reports_misdirected_data(text)


@pytest.mark.parametrize(
    ("text", "route"),
    [
        ("stop", "cancel"),
        ("cancel that", "cancel"),
        ("stop asking me questions", "cancel"),
        ("I want to stop", "cancel"),
        ("stop sending me those emails", "marketing"),
        ("how can I stop you passing my file to social services?", "question"),
        ("when does the sharing with the police stop?", "question"),
        ("stop ignoring me", "person"),
        ("stop it, this isn't helping", "person"),
        ("stop, I want to talk to a person", "person"),
        ("stop leaking my details, I want to complain", "person"),
    ],
)
def test_stop_with_no_form_in_progress(text: str, route: str) -> None:
    events, messages = run(ActionTriageStop(), tracker(text=text, intent="stop"))
    assert slot_events(events)["stop_route"] == route
    assert messages == []  # the rules answer, hand off or say nothing is in progress


def test_a_stop_complaint_is_handed_off_as_a_complaint(db: str) -> None:
    events, _ = run(
        ActionPrepareHandoff(),
        tracker(text="stop leaking my details, I want to complain", intent="stop"),
    )
    assert slot_events(events)["handoff_reason"] == "complain"


def test_a_question_the_notices_cannot_answer_still_goes_to_a_person(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(answer, "_answerer", lambda: FakeAnswerer(False))
    events, _ = run(
        answer.ActionAnswerIfQuestion(),
        tracker(text="why did nobody ring me back?", intent="complain"),
    )
    assert slot_events(events)["question_route"] == "not_a_question"


# --------------------------------------------------------------------------- SAR scope and
# who it is for, in the resident's own words


@pytest.mark.parametrize(
    ("first_message", "scope"),
    [
        ("I want everything about my repairs since 2023", "repairs since 2023"),
        ("I want a copy of my repair records from 2023 only", "repair records from 2023 only"),
        (
            "can I have my complaint records from March 2022, my name is Sam",
            "complaint records from March 2022",
        ),
        ("I want everything since 2023", "everything since 2023"),
        ("what do you hold on me? I want it all", "everything"),
        ("I want a copy of my data", None),
        ("I want to make a subject access request", None),
    ],
)
def test_scope_said_in_the_first_message(first_message: str, scope: str | None) -> None:
    from actions.sar import opening_scope

    assert opening_scope(first_message) == scope


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("no, it's for me", "self"),
        ("for me", "self"),
        ("my own", "self"),
        ("myself", "self"),
        ("it's mine", "self"),
        ("no one else, just me", "self"),
        ("someone else", "other"),
        ("for my mum", "other"),
        ("it's not for me, it's for my dad", "other"),
        ("no", None),
        ("yes", None),
    ],
)
def test_who_the_request_is_for(answer: str, expected: str | None) -> None:
    from actions.sar import parse_acting_for

    assert parse_acting_for(answer) == expected


def opening(text: str, intent: str = "request_sar", loop: str = "sar_form") -> Tracker:
    """The turn a form starts on: nothing asked yet, the first message is the latest."""
    return tracker(text=text, intent=intent, active_loop=loop)


def test_the_scope_in_the_first_message_is_kept_and_the_name_asked_first(db: str) -> None:
    text = "I want everything about my repairs since 2023"
    events, messages = run(ValidateSarForm(), opening(text))
    slots = slot_events(events)
    assert (slots["sar_scope"], slots["sar_scope_detail"]) == ("specific", "repairs since 2023")
    assert slots.get("sar_scope_check") is None  # still to be confirmed
    assert slots["requested_slot"] == "sar_name"
    assert slots["form_said"]["sar_scope"] == text
    assert messages == []


def test_the_scope_said_first_is_confirmed_not_asked_again(db: str) -> None:
    form = ValidateSarForm()
    said = {"sar_scope": "specific", "sar_scope_detail": "repairs since 2023"}
    filled = {"sar_name": "Sam Smith", "sar_for_someone_else": "self", "sar_locator": "T123456"}
    required = run_async(
        form.required_slots([], CollectingDispatcher(), tracker(slots={**filled, **said}), DOMAIN)
    )
    assert required.index("sar_scope_check") < required.index("sar_contact_method")
    question = render({"response": "utter_ask_sar_scope_check"}, said)
    assert '"repairs since 2023"' in question and "change it" in question

    events, _ = validate(form, "sar_scope_check", "yes", {**filled, **said})
    after = slot_events(events)
    assert after["sar_scope_check"] == "yes" and after["requested_slot"] == "sar_contact_method"

    events, _ = validate(form, "sar_scope_check", "change it", {**filled, **said})
    after = slot_events(events)
    assert after["sar_scope"] is None and after["requested_slot"] == "sar_scope"

    events, _ = validate(form, "sar_scope_check", "no, only my rent since 2022", {**filled, **said})
    after = slot_events(events)
    assert after["sar_scope_detail"] == "no, only my rent since 2022"
    assert after["sar_scope_check"] == "yes"


def test_everything_about_a_topic_is_not_everything(db: str) -> None:
    events, _ = validate(ValidateSarForm(), "sar_scope", "everything about my repairs since 2023")
    slots = slot_events(events)
    assert slots["sar_scope"] == "specific"
    assert "repairs since 2023" in slots["sar_scope_detail"]
    assert slots["sar_scope_check"] == "yes"  # answered to the question: nothing to confirm


def test_no_its_for_me_is_the_residents_own_request(db: str) -> None:
    events, _ = validate(
        ValidateSarForm(), "sar_for_someone_else", "no, it's for me", {"sar_name": "Sam Smith"}
    )
    slots = slot_events(events)
    assert slots["sar_for_someone_else"] == "self"
    assert slots["requested_slot"] == "sar_locator"  # no third party's name is asked


def test_the_sar_record_keeps_what_was_said(db: str) -> None:
    from casework import db as casework_db
    from casework.models import Ticket

    said = {
        "sar_scope": "I want everything about my repairs since 2023",
        "sar_for_someone_else": "no, it's for me",
        "mkt_channels": "another form's answer",
    }
    slots = {
        **SAR_SLOTS,
        "sar_scope": "specific",
        "sar_scope_detail": "repairs since 2023",
        "form_said": said,
    }
    _, messages = run(ActionSubmitSar(), tracker("conv-said", slots=slots, text="yes"))
    with casework_db.session_scope(db) as session:
        ticket = session.query(Ticket).one()
        assert ticket.sar.scope == "repairs since 2023" and ticket.sar.on_behalf_of is False
        assert ticket.details["said"] == {k: v for k, v in said.items() if k.startswith("sar_")}
    receipt = texts(messages)
    assert receipt.startswith("I've recorded your subject access request") and "Done" not in receipt
    assert "by email to s…@example.com" in receipt and "{" not in receipt


# --------------------------------------------------------------------------- consent


def test_a_use_that_is_not_configured_is_asked_about_never_defaulted(db: str) -> None:
    from actions.consent import ActionAskConsentPurpose

    t = opening(
        "I never signed up for your newsletter emails, remove me",
        intent="request_consent_withdrawal",
        loop="consent_withdrawal_form",
    )
    events, _ = run(ValidateConsentWithdrawalForm(), t)
    slots = slot_events(events)
    assert slots.get("consent_purpose") is None
    assert slots["requested_slot"] == "consent_purpose"
    _, messages = run(ActionAskConsentPurpose(), tracker())
    titles = [b["title"] for b in buttons_of(messages[0])]
    assert titles == [
        "Photos and publicity",
        "Teams meeting recordings",
        "Consultations and research",
        "Diversity information",
        "Website analytics cookies",
        "Something else",
    ]
    assert "diversity information" in render(messages[0])  # named in words too (SMS)


def test_a_use_named_in_the_first_message_is_taken(db: str) -> None:
    t = opening(
        "please stop using my photos", "request_consent_withdrawal", "consent_withdrawal_form"
    )
    events, _ = run(ValidateConsentWithdrawalForm(), t)
    slots = slot_events(events)
    assert slots["consent_purpose"] == "photos"
    assert slots["requested_slot"] == "consent_name"  # then who the resident is


def test_consent_uses_come_from_each_organisations_config(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORG", "twenty11")
    events, _ = validate(ValidateConsentWithdrawalForm(), "consent_purpose", "rent-management help")
    assert slot_events(events)["consent_purpose"] == "rent_help"
    monkeypatch.setenv("ORG", "barnet-homes")
    events, _ = validate(ValidateConsentWithdrawalForm(), "consent_purpose", "rent-management help")
    assert slot_events(events)["consent_purpose"] == "other"  # Barnet Homes has no such use


def test_on_sms_the_withdrawal_is_confirmed_to_the_number(db: str) -> None:
    from casework import conversations
    from casework import db as casework_db

    with casework_db.session_scope(db) as session:
        sms_id = conversations.get_or_create_sms(session, "07700900456", "barnet-homes", "k").id
    form = ValidateConsentWithdrawalForm()
    required = run_async(form.required_slots([], CollectingDispatcher(), tracker(sms_id), DOMAIN))
    assert required == ["consent_purpose", "consent_name", "consent_locator"]


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("form", "slot", "answer", "slots"),
    [
        (ValidateSarForm(), "sar_name", "Sam " * 512, {}),
        (ValidateSarForm(), "sar_name", "<b>Sam Smith</b>", {}),
        (ValidateSarForm(), "sar_contact", "sam.example.com", {"sar_contact_method": "email"}),
        (ValidateSarForm(), "sar_contact", "12345", {"sar_contact_method": "phone"}),
        (ValidateSarForm(), "sar_scope_detail", "repairs " * 300, {"sar_scope": "specific"}),
        (ValidateSarForm(), "sar_locator", "<a href=x>NW9 4EW</a>", {}),
        (ValidateConsentWithdrawalForm(), "consent_name", "x" * 2048, {}),
        (ValidateConsentWithdrawalForm(), "consent_locator", "<script>NW9 4EW</script>", {}),
        (
            ValidateConsentWithdrawalForm(),
            "consent_contact",
            "sam at example dot com",
            {"consent_contact_method": "email"},
        ),
        (
            ValidateConsentWithdrawalForm(),
            "consent_contact",
            "020 8080 6587",  # a landline cannot take the text confirming it
            {"consent_contact_method": "sms"},
        ),
        (ValidateConsentWithdrawalForm(), "consent_purpose", "<img src=x onerror=alert(1)>", {}),
        (ValidateHandoffForm(), "handoff_contact", "sam@", {"handoff_contact_method": "email"}),
    ],
)
def test_bad_input_is_reasked_clearly_and_never_kept(
    db: str, form: Any, slot: str, answer: str, slots: dict[str, Any]
) -> None:
    events, messages = validate(form, slot, answer, slots)
    after = slot_events(events)
    assert after[slot] is None  # emptied: the form asks it again (utter_ask_<slot>)
    assert "form_said" not in after  # what was typed is not kept anywhere
    [note] = messages
    assert note["response"].startswith("utter_invalid_")
    said = render(note, slots)
    assert said.startswith("Sorry,") and "<" not in said and answer[:20] not in said


def test_every_question_and_reask_of_the_forms_is_in_the_domain() -> None:
    responses, actions = set(DOMAIN["responses"]), set(DOMAIN["actions"])
    for form in ("sar_form", "consent_withdrawal_form"):
        for slot in DOMAIN["forms"][form]["required_slots"]:
            assert f"utter_ask_{slot}" in responses or f"action_ask_{slot}" in actions, slot
            if slot not in ("sar_contact", "consent_contact"):  # by contact method, below
                assert {f"utter_invalid_{slot}", f"utter_explain_{slot}"} <= responses, slot
    for method in ("email", "phone", "sms", "post"):
        assert {f"utter_invalid_contact_{method}", f"utter_explain_contact_{method}"} <= responses


# --------------------------------------------------------------------------- shared parsers


@pytest.mark.parametrize(
    ("text", "allowed", "expected"),
    [
        ("email me at Sam@Example.org", ("email", "phone", "post"), "email"),
        ("by text", ("email", "phone", "post"), "phone"),  # SAR: a text goes to a phone
        ("by text here", ("email", "phone", "chat"), "chat"),  # handoff: reply here
        ("text message", ("email", "sms", "post"), "sms"),
        ("07700 900123", ("email", "phone", "post"), "phone"),
        ("send a letter to my address", ("email", "phone", "post"), "post"),
        ("carrier pigeon", ("email", "phone", "post"), None),
    ],
)
def test_one_contact_method_parser(
    text: str, allowed: tuple[str, ...], expected: str | None
) -> None:
    from actions.contact import parse_contact_method

    assert parse_contact_method(text, allowed) == expected


def test_contacts_are_normalised_and_masked() -> None:
    from actions.contact import mask, parse_contact

    assert parse_contact("email", "It's Kim@Example.org") == "kim@example.org"
    assert parse_contact("sms", "07700 900987") == "+447700900987"
    assert parse_contact("sms", "020 8080 6587") is None
    assert parse_contact("post", "NW9 4EW") is None  # a postcode alone is not an address
    assert parse_contact("post", "4 Elm Close, London NW9 4EW") == "4 Elm Close, London NW9 4EW"
    assert mask("email", "kim@example.org") == "k…@example.org"
    assert mask("sms", "+447700900987") == "the number ending 987"


def test_one_reading_of_a_postal_address() -> None:
    """The forms, the records and the ledger keys read an address one way."""
    from actions import contact
    from casework import contacts

    assert contact.parse_postal_address is contacts.parse_postal_address
    read = contacts.parse_postal_address
    assert read("  4 Elm Close,\n London  nw94ew. ") == "4 Elm Close, London NW9 4EW"
    assert read("Rose Cottage, NW9 4EW") == "Rose Cottage, NW9 4EW"  # a name, no number
    assert read("123 NW9 4EW") is None  # numbers and a postcode: no street or place
    assert read("4 Elm Close <b>NW9 4EW</b>") is None  # markup never reaches a record
    assert read("4 Elm Close\x00 NW9 4EW") == "4 Elm Close NW9 4EW"


def test_one_question_detector() -> None:
    from actions import forms, text

    assert answer.is_question is text.is_question is forms.is_question
    assert text.is_question("how do I stop marketing emails")
    assert not text.is_question("stop texting me offers")
