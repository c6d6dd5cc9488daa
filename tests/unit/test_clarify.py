"""Two close requests get buttons; anything else goes on to be answered."""

from __future__ import annotations

from pathlib import Path

import yaml

from actions.clarify import REQUEST_PAYLOADS, clarify_buttons, close_requests

DOMAIN = yaml.safe_load((Path(__file__).parents[2] / "bot" / "domain.yml").read_text())


def _ranking(*pairs: tuple[str, float]) -> list[dict[str, object]]:
    return [{"name": "nlu_fallback", "confidence": 0.45}] + [
        {"name": n, "confidence": c} for n, c in pairs
    ]


def test_two_close_requests_are_both_offered() -> None:
    ranking = _ranking(("request_marketing_opt_out", 0.41), ("request_consent_withdrawal", 0.38))
    intents = close_requests(ranking)
    assert intents == ["request_marketing_opt_out", "request_consent_withdrawal"]
    text, buttons = clarify_buttons(DOMAIN, intents)
    payloads = [b["payload"] for b in buttons]
    assert text
    assert REQUEST_PAYLOADS["request_marketing_opt_out"] in payloads
    assert REQUEST_PAYLOADS["request_consent_withdrawal"] in payloads
    assert REQUEST_PAYLOADS["request_sar"] not in payloads
    assert len(buttons) == 3  # the two readings and "something else"


def test_a_question_among_the_readings_is_answered_instead() -> None:
    assert close_requests(_ranking(("ask_privacy_question", 0.4), ("request_sar", 0.39))) == []


def test_a_faint_second_reading_is_not_offered() -> None:
    assert close_requests(_ranking(("request_sar", 0.44), ("complain", 0.05))) == []


def test_every_request_has_its_button_in_the_domain() -> None:
    buttons = DOMAIN["responses"]["utter_clarify_route"][0]["buttons"]
    assert set(REQUEST_PAYLOADS.values()) <= {b["payload"] for b in buttons}


def test_an_unclear_stop_offers_both_things_it_can_mean() -> None:
    # "remove me": stop and an opt-out close together -> opt-out or withdrawal, one tap each
    intents = close_requests(_ranking(("stop", 0.40), ("request_marketing_opt_out", 0.30)))
    assert intents == ["request_marketing_opt_out", "request_consent_withdrawal"]


def test_stop_beside_a_question_is_still_answered() -> None:
    assert close_requests(_ranking(("stop", 0.40), ("ask_privacy_question", 0.35))) == []
