"""bot/action_response_check.py: Rasa's check of action responses, with its validator
built once, accepts and refuses exactly what Rasa's own check does."""

from __future__ import annotations

from tests.rasa_env import run_in_rasa_env

# Runs in the Rasa environment with bot/ on the path, as `rasa run` does.
_CHECK = """
import json
from unittest import mock

import jsonschema
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

original = RemoteAction._validate_action_result
import resilient_tracker_store  # installs the check, as Rasa loading the endpoints does
import action_response_check

action = RemoteAction("action_answer_question", None)
valid = {
    "events": [
        {"event": "slot", "name": "answer_status", "value": "answered"},
        {"event": "bot", "text": "hello", "data": {"buttons": []}},
    ],
    "responses": [{"text": "Our notice says...", "buttons": [{"title": "yes", "payload": "yes"}]}],
}
invalid = [
    {"events": [{"event": "slot"}], "responses": []},
    {"events": "not a list"},
    {"responses": ["not an object"]},
    [],
]


def outcome(check, result):
    try:
        return ["ok", check(action, result)]
    except ValidationError as error:
        return ["error", error.message, list(error.path)]


report = {
    "patched": RemoteAction._validate_action_result is not original,
    "same": [outcome(original, r) == outcome(RemoteAction._validate_action_result, r)
             for r in [valid, *invalid]],
    "invalid": [outcome(RemoteAction._validate_action_result, r)[0] for r in invalid],
}
action_response_check.install()  # twice: still one layer over Rasa's own method
report["reinstalled_same"] = outcome(RemoteAction._validate_action_result, invalid[0]) == outcome(
    original, invalid[0]
)
with mock.patch.object(jsonschema, "validate") as validate, mock.patch.object(
    type(action_response_check.response_validator()), "check_schema"
) as check_schema:
    for _ in range(5):
        RemoteAction._validate_action_result(action, valid)
report["validate_calls"] = validate.call_count
report["check_schema_calls"] = check_schema.call_count
print(json.dumps(report))
"""


def test_the_check_accepts_and_refuses_what_rasas_own_does_with_one_validator() -> None:
    report = run_in_rasa_env(_CHECK)
    assert report["patched"]
    assert report["same"] == [True] * 5
    assert report["invalid"] == ["error"] * 4
    assert report["reinstalled_same"]
    # valid responses neither rebuild the validator nor re-check the schema
    assert report["validate_calls"] == 0
    assert report["check_schema_calls"] == 0
