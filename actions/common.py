"""What actions used to import from one module, now split by concern:

- actions.deployment: organisation, casework sessions, the conversation's channel
- actions.text: cleaning, markup detection, the question detector, risk words, dates
- actions.contact: the one parser for contact methods and details (e-mail, phone, post)
- actions.parsers: names, yes / no, dates, where the records are
- actions.forms: the form-validation base class and what forms share

Kept so code written against the old module (and branches not yet merged) still works;
new code imports from the modules above."""

from __future__ import annotations

from actions.contact import parse_email, parse_postcode, parse_uk_phone
from actions.deployment import (
    casework_session,
    channel_of,
    current_org,
    database_url,
    is_sms,
    org_id,
    sms_number_of,
)
from actions.forms import (
    PLAIN_REASKS,
    CountingFormValidation,
    Validation,
    form_slot_resets,
    opening_request,
)
from actions.parsers import (
    NO_WORDS,
    YES_WORDS,
    DateProblem,
    find_dates,
    parse_name,
    parse_tenancy_reference,
    parse_yes_no,
)
from actions.text import (
    MAX_ANSWER_CHARS,
    at_risk,
    clean_text,
    format_date,
    is_question,
    looks_like_markup_or_payload,
    words,
)

__all__ = [
    "MAX_ANSWER_CHARS",
    "NO_WORDS",
    "PLAIN_REASKS",
    "YES_WORDS",
    "CountingFormValidation",
    "DateProblem",
    "Validation",
    "at_risk",
    "casework_session",
    "channel_of",
    "clean_text",
    "current_org",
    "database_url",
    "find_dates",
    "form_slot_resets",
    "format_date",
    "is_question",
    "is_sms",
    "looks_like_markup_or_payload",
    "opening_request",
    "org_id",
    "parse_email",
    "parse_name",
    "parse_postcode",
    "parse_tenancy_reference",
    "parse_uk_phone",
    "parse_yes_no",
    "sms_number_of",
    "words",
]
