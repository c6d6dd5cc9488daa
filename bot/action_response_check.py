"""Rasa's check of each action server response, with its JSON Schema validator built once.

Rasa 3.6 (`RemoteAction._validate_action_result`) calls `jsonschema.validate` for every
custom action it runs: that checks the large events schema against the metaschema and
builds a new validator each time, which was most of the CPU Rasa spent on a turn with
an action in it (docs/architecture.md, "Where the time goes"). Here a valid response is
checked with one validator built at first use; an invalid one still goes through Rasa's
own method, so its error and message are exactly Rasa's.

Installed when Rasa loads our tracker store (`resilient_tracker_store`, named by both
endpoint files), before any action runs; Rasa runs with `bot/` on its import path.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction

# Rasa's own method, kept once (a second import of this module must not wrap ours).
_rasa_check = getattr(RemoteAction, "_rasa_validate_action_result", None) or (
    RemoteAction._validate_action_result
)


@cache
def response_validator() -> Validator:
    """The validator `jsonschema.validate` would build, built (and its schema checked) once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: Any) -> bool:
    if response_validator().is_valid(result):
        return True
    return _rasa_check(self, result)  # raises Rasa's own ValidationError


def install() -> None:
    """Idempotent: later calls change nothing."""
    RemoteAction._rasa_validate_action_result = _rasa_check  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


install()
