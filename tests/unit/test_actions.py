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
from actions.consent import ActionSubmitConsentWithdrawal, ValidateConsentWithdrawalForm
from actions.general import ActionCancelForm, ActionOutOfScope
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


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


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
        ("what you want", ["sar_scope", "sar_scope_detail"], "sar_scope"),
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
    assert messages[-1]["buttons"][0]["payload"] == "yes"


def test_consent_withdrawal_is_recorded(db: str) -> None:
    from casework import db as casework_db
    from casework.models import ConsentEvent, Ticket

    _, messages = run(
        ActionSubmitConsentWithdrawal(), tracker("conv-con", slots={"consent_purpose": "photos"})
    )
    with casework_db.session_scope(db) as session:
        entry = session.query(ConsentEvent).one()
        assert (entry.purpose, entry.decision) == ("photos", "withdrawn")
        assert session.query(Ticket).one().kind.value == "consent_withdrawal"
    said = texts(messages)
    assert "stop using photos" in said and "carry on" in said


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

    def ask(self, question: str, notice: str | None = None) -> dict[str, Any]:
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


def test_sar_question_answered_from_the_rules(db: str) -> None:
    q = tracker(text="how long does a SAR take?", intent="ask_sar_question")
    events, messages = run(answer.ActionAnswerQuestion(), q)
    assert "one calendar month" in texts(messages)
    assert slot_events(events)["answer_status"] == "answered"


def test_digression_inside_a_form_does_not_count(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(answer, "_answerer", lambda: FakeAnswerer(False))
    q = tracker(text="who sees my data?", intent="ask_privacy_question", active_loop="sar_form")
    events, messages = run(answer.ActionAnswerQuestion(), q)
    assert slot_events(events) == {"answer_status": None}
    assert "Back to your request" in texts(messages)


def test_every_domain_action_is_served_and_nothing_more() -> None:
    import inspect

    from rasa_sdk import Action, utils

    import actions.asks  # noqa: F401 - registers the ask actions

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
    assert expected in answer.sar_answer(question)


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
        ("how can i withdraw my consent", "request_consent_withdrawal", "not_a_question"),
        (
            "housing officer wants to record our call, is that allowed",
            "request_consent_withdrawal",
            "answered",
        ),
        ("how do i stop your marketing emails", "request_marketing_opt_out", "not_a_question"),
        ("do you build a profile on me", "request_sar", "answered"),
        ("how do i get a copy of my data", "request_sar", "not_a_question"),
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


def test_a_question_the_notices_cannot_answer_still_goes_to_a_person(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(answer, "_answerer", lambda: FakeAnswerer(False))
    events, _ = run(
        answer.ActionAnswerIfQuestion(),
        tracker(text="why did nobody ring me back?", intent="complain"),
    )
    assert slot_events(events)["question_route"] == "not_a_question"
