"""Where first messages land, measured through the front door as a browser reaches it.

Each item of the routing sets (tests/bench/data/routing_*.yaml, written blind by people
who never read the NLU data; never used for training) is sent as the first message of a
new web conversation (`POST /api/chat`). Rasa's tracker for that conversation then says
what the assistant did with it:

- a form started (sar_form, marketing_opt_out_form, consent_withdrawal_form, handoff_form);
- the form offered for one confirmation (utter_offer_sar/mkt/consent, utter_offer_person);
- a question answered from the notices (and whether the reply holds the expected fact).

An item's route is right when a request started its form or offered it, a hand-off
item started the hand-off or offered a person, and a question was answered with the
fact (a form offered after the answer is fine). Every wrong route is listed with what
the assistant made of it.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
import yaml

DATA_DIR = Path(__file__).parent / "data"
ROUTES = ("sar", "marketing_opt_out", "consent_withdrawal", "handoff", "answer")
FORM_ROUTE = {
    "sar_form": "sar",
    "marketing_opt_out_form": "marketing_opt_out",
    "consent_withdrawal_form": "consent_withdrawal",
    "handoff_form": "handoff",
}
OFFER_ROUTE = {
    "utter_offer_sar": "sar",
    "utter_offer_mkt": "marketing_opt_out",
    "utter_offer_consent": "consent_withdrawal",
    "utter_offer_person": "handoff",
}
# Buttons of utter_clarify_route (bot/domain.yml): payload -> the route it starts.
CLARIFY_ROUTE = {
    "I want a copy of my data": "sar",
    "Stop sending me marketing": "marketing_opt_out",
    "I want to withdraw my consent": "consent_withdrawal",
    "I want to speak to a person": "handoff",
    "I want to make a complaint about my data": "handoff",
}
ANSWER_ACTIONS = {"action_answer_question", "action_answer_if_question"}


def load_items(paths: Iterable[Path] | None = None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for path in sorted(paths or DATA_DIR.glob("routing_*.yaml")):
        for item in yaml.safe_load(path.read_text()) or []:
            items.append({**item, "set": path.stem})
    return items


def outcome_of(events: list[dict[str, Any]], replies: list[dict[str, Any]]) -> dict[str, Any]:
    """What the assistant did with the first message, from its tracker events."""
    intent = next(
        (e.get("parse_data", {}).get("intent", {}) for e in events if e.get("event") == "user"),
        {},
    )
    actions = [e.get("name") for e in events if e.get("event") == "action"]
    forms = [e.get("name") for e in events if e.get("event") == "active_loop" and e.get("name")]
    answered = any(
        e.get("event") == "slot"
        and (
            (e.get("name") == "answer_status" and e.get("value") in ("answered", "not_sure"))
            or (e.get("name") == "question_route" and e.get("value") == "answered")
        )
        for e in events
    )
    text = "\n".join(r.get("text") or "" for r in replies)
    buttons = [b.get("payload") for r in replies for b in (r.get("buttons") or [])]
    clarified = [CLARIFY_ROUTE[p] for p in buttons if p in CLARIFY_ROUTE]
    return {
        "intent": intent.get("name"),
        "confidence": round(float(intent.get("confidence") or 0.0), 3),
        "started": [FORM_ROUTE[f] for f in forms if f in FORM_ROUTE],
        "offered": [OFFER_ROUTE[a] for a in actions if a in OFFER_ROUTE]
        + (clarified if "action_clarify_route" in actions else []),
        "asked_with_buttons": bool(clarified) and "action_clarify_route" in actions,
        "answered": answered and any(a in ANSWER_ACTIONS for a in actions),
        "reply": text,
    }


def is_right(item: dict[str, Any], outcome: dict[str, Any]) -> bool:
    route = item["route"]
    if route == "answer":
        if outcome["started"] or not outcome["answered"]:
            return False
        expected = [s.lower() for s in item.get("expect_any") or []]
        reply = " ".join(outcome["reply"].lower().split())
        return not expected or any(" ".join(s.split()) in reply for s in expected)
    if outcome["started"]:
        return outcome["started"][0] == route
    return route in outcome["offered"]


def made_of(outcome: dict[str, Any]) -> str:
    if outcome["started"]:
        return f"started {outcome['started'][0]}"
    if outcome.get("asked_with_buttons"):
        return "buttons: " + " / ".join(outcome["offered"])
    made = "answered (fact missing)" if outcome["answered"] else "no answer"
    if outcome["offered"]:
        made += f", offered {outcome['offered'][0]}"
    return made


def send_first_message(web_url: str, rasa_url: str, token: str, text: str) -> dict[str, Any]:
    reply = requests.post(f"{web_url}/api/chat", json={"text": text}, timeout=60)
    reply.raise_for_status()
    body = reply.json()
    tracker = requests.get(
        f"{rasa_url}/conversations/{body['conversation_id']}/tracker",
        params={"token": token},
        timeout=30,
    )
    tracker.raise_for_status()
    return outcome_of(tracker.json().get("events", []), body.get("messages", []))


def run_routing_bench(
    web_url: str,
    rasa_url: str,
    token: str,
    items: list[dict[str, Any]] | None = None,
    workers: int = 4,
) -> dict[str, Any]:
    """`workers` conversations at a time (2 on a shared machine: more can lose turns to
    the web side's Rasa timeout, docs/nlu.md)."""
    items = items if items is not None else load_items()
    # One question first: the action server loads the notice index on first use, and
    # messages racing that load would measure start-up, not routing.
    send_first_message(web_url, rasa_url, token, "how long do you keep my data")

    def one(item: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        return item, send_first_message(web_url, rasa_url, token, item["text"])

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(one, items))
    return summarise(results)


def summarise(results: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    by_route: dict[str, Counter] = defaultdict(Counter)
    by_style: dict[str, Counter] = defaultdict(Counter)
    by_set: dict[str, Counter] = defaultdict(Counter)
    wrong: list[dict[str, Any]] = []
    offered_only = 0
    asked_with_buttons = 0
    for item, outcome in results:
        right = is_right(item, outcome)
        for table, key in (
            (by_route, item["route"]),
            (by_style, item.get("style", "plain")),
            (by_set, item["set"]),
        ):
            table[key]["n"] += 1
            table[key]["right"] += right
        offered_only += right and item["route"] != "answer" and not outcome["started"]
        asked_with_buttons += right and outcome.get("asked_with_buttons", False)
        if not right:
            wrong.append(
                {
                    "text": item["text"],
                    "expected": item["route"],
                    "made": made_of(outcome),
                    "intent": f"{outcome['intent']} {outcome['confidence']}",
                }
            )
    right_total = sum(c["right"] for c in by_route.values())

    def share(table: dict[str, Counter]) -> dict[str, str]:
        return {k: f"{c['right']}/{c['n']}" for k, c in sorted(table.items())}

    return {
        "messages": len(results),
        "right_share": round(right_total / len(results), 3) if results else None,
        "right_after_one_confirmation": offered_only,
        "of_which_buttons_between_two_readings": asked_with_buttons,
        "by_route": share(by_route),
        "by_style": share(by_style),
        "by_set": share(by_set),
        "wrong": wrong,
    }


if __name__ == "__main__":  # against a running stack
    web = os.environ.get("WEB_URL", "http://127.0.0.1:8000")
    rasa = os.environ.get("RASA_URL", "http://127.0.0.1:5005")
    paths = [Path(p) for p in sys.argv[1:]] or None
    report = run_routing_bench(web, rasa, os.environ["RASA_TOKEN"], load_items(paths))
    print(json.dumps(report, indent=2))
