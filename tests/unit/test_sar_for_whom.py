"""A first message that names someone else starts the SAR as a question about it, with
buttons: never recorded as on someone's behalf (or as their own) on a guess."""

from __future__ import annotations

from typing import Any

import pytest

from actions.sar.asks import ActionAskSarForSomeoneElse
from actions.sar.parsers import named_other, parse_acting_for
from tests.unit.test_actions import run, tracker


def opened_with(first: str) -> Any:
    """The form asked the resident's name after `first`, and now asks for whom."""
    history = [
        {"event": "user", "text": first, "parse_data": {"intent": {"name": "request_sar"}}},
        {"event": "active_loop", "name": "sar_form"},
        {"event": "slot", "name": "requested_slot", "value": "sar_name"},
    ]
    t = tracker(
        slots={"requested_slot": "sar_name", "sar_name": "Sam Smith"},
        text="Sam Smith",
        active_loop="sar_form",
        history=history,
    )
    return t


@pytest.mark.parametrize(
    ("text", "who"),
    [
        ("I want my mum's records", "your mum"),
        ("can I get a copy of what you hold, it's for my son", "your son"),
        ("I'm asking on behalf of my client", "your client"),
        ("I want someone else's data", "someone else"),
        ("what do you hold about my late husband", "your late husband"),
        ("I want a copy of my data", None),
        ("my repair records and other letters", None),
        ("my records please, not for someone else", None),
    ],
)
def test_who_else_a_first_message_names(text: str, who: str | None) -> None:
    assert named_other(text) == who


def test_a_named_person_is_asked_about_with_buttons() -> None:
    _, [message] = run(ActionAskSarForSomeoneElse(), opened_with("I want my mum's records"))
    assert message["response"] == "utter_ask_sar_for_someone_else_named"
    assert message["who"] == "your mum"


def test_no_one_named_gets_the_plain_question() -> None:
    _, [message] = run(ActionAskSarForSomeoneElse(), opened_with("I want a copy of my data"))
    assert message["response"] == "utter_ask_sar_for_someone_else"


def test_both_buttons_read_as_the_answer_they_say() -> None:
    from tests.unit.test_actions import DOMAIN

    [response] = DOMAIN["responses"]["utter_ask_sar_for_someone_else_named"]
    readings = {b["title"]: parse_acting_for(b["payload"]) for b in response["buttons"]}
    assert readings == {"Yes, for someone else": "other", "No, it's for me": "self"}


def answered(first: str, answer: str, intent: str = "inform") -> dict[str, Any]:
    """The slots after `answer` to the for-whom question, in a form `first` started."""
    from actions.sar.validator import ValidateSarForm
    from tests.unit.test_actions import slot_events

    history = [
        {"event": "user", "text": first, "parse_data": {"intent": {"name": "request_sar"}}},
        {"event": "active_loop", "name": "sar_form"},
        {"event": "slot", "name": "requested_slot", "value": "sar_name"},
        {"event": "user", "text": "Sam Smith", "parse_data": {"intent": {"name": "inform"}}},
        {"event": "slot", "name": "requested_slot", "value": "sar_for_someone_else"},
    ]
    t = tracker(
        slots={"requested_slot": "sar_for_someone_else", "sar_name": "Sam Smith"},
        text=answer,
        intent=intent,
        active_loop="sar_form",
        history=history,
        candidates={"sar_for_someone_else": answer},
    )
    events, _ = run(ValidateSarForm(), t)
    return slot_events(events)


@pytest.mark.parametrize(
    ("answer", "intent", "reading"),
    [("yes", "affirm", "other"), ("yes", "inform", "other"), ("nope", "deny", "self")],
)
def test_yes_or_no_answers_the_named_question(answer: str, intent: str, reading: str) -> None:
    """ "Is this request for their information rather than your own?" - "yes"."""
    slots = answered("I want my mum's records", answer, intent)
    assert slots["sar_for_someone_else"] == reading


def test_yes_to_the_plain_question_is_asked_again() -> None:
    """ "Your own information, or someone else's?" has two halves: "yes" says neither."""
    slots = answered("I want a copy of my data", "yes", "affirm")
    assert slots["sar_for_someone_else"] is None


def test_no_its_for_me_is_their_own_after_a_named_person() -> None:
    slots = answered("my son is typing this for me, I want a copy of my records", "no, it's for me")
    assert slots["sar_for_someone_else"] == "self"


def rasa_choices(response: str, slots: dict[str, Any]) -> list[str]:
    """Every text Rasa may pick for a response (it chooses at random among the variations
    whose conditions all match, and uses the unconditional ones only when none does)."""
    from tests.unit.test_actions import DOMAIN

    variations = DOMAIN["responses"][response]
    matching = [
        v
        for v in variations
        if v.get("condition") and all(slots.get(c["name"]) == c["value"] for c in v["condition"])
    ]
    chosen = matching or [v for v in variations if not v.get("condition")]
    return [v["text"] for v in chosen]


def test_the_first_words_of_a_sar_do_not_assume_whose_data_it_is() -> None:
    """'I want my mum's records': the form's opening comes before the question of whose
    information it is, so it must not say it is the resident's own."""
    [start] = rasa_choices("utter_sar_start", {})
    lowered = start.lower()
    assert "about you" not in lowered and "your information" not in lowered
    assert "someone else" in lowered


@pytest.mark.parametrize(
    ("for_whom", "expected", "never"),
    [
        ("other", "everything we hold about {sar_subject_name}", "about you"),
        ("self", "everything we hold about you", "{sar_subject_name}"),
    ],
)
def test_the_scope_check_names_whose_information_it_is(
    for_whom: str, expected: str, never: str
) -> None:
    slots = {"sar_scope": "everything", "sar_for_someone_else": for_whom}
    choices = rasa_choices("utter_ask_sar_scope_check", slots)
    assert choices and all(expected in text and never not in text for text in choices)
