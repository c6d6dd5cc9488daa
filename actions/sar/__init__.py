"""Subject Access Request: `sar_form`.

No special words are needed in law; the NLU recognises a request in any wording and
this form collects only what staff need to find the records and reply. What the
resident asked for is kept in their own words (also from the message that started the
form) and confirmed rather than asked again.

answers (slots, what can be changed), parsers, validator, asks (the confirmation),
submit (the record and the receipt)."""

from actions.sar.answers import SAR_SLOTS, change_options
from actions.sar.asks import ActionAskSarChange, ActionAskSarConfirm, ActionAskSarForSomeoneElse
from actions.sar.parsers import opening_scope, parse_acting_for, parse_change_choice, parse_scope
from actions.sar.submit import ActionSubmitSar
from actions.sar.validator import ValidateSarForm

__all__ = [
    "SAR_SLOTS",
    "ActionAskSarChange",
    "ActionAskSarConfirm",
    "ActionAskSarForSomeoneElse",
    "ActionSubmitSar",
    "ValidateSarForm",
    "change_options",
    "opening_scope",
    "parse_acting_for",
    "parse_change_choice",
    "parse_scope",
]
