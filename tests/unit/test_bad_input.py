"""Bad input in any SAR or consent-withdrawal field (an e-mail without @, a number that
is no phone number, 2 kB of text as a name, HTML) gets a clear re-ask and no value, so
it can never reach a record. (Marketing's fields: tests/unit/test_marketing.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from actions.consent import ValidateConsentWithdrawalForm
from actions.sar import ValidateSarForm
from tests.unit.test_actions import DOMAIN, run, slot_events, tracker

TWO_KB = "Sam Smith " * 205  # 2,050 characters
HTML = '<img src=x onerror="alert(1)">Sam Smith'


def answered(form: str, slot: str, text: str, slots: dict[str, Any]) -> Any:
    return tracker(
        slots={"requested_slot": slot, **slots},
        text=text,
        candidates={slot: text},
        active_loop=form,
    )


def rendered(messages: list[dict[str, Any]]) -> str:
    out = []
    for message in messages:
        if message.get("response"):
            out.append(DOMAIN["responses"][message["response"]][0]["text"].format(**message))
        else:
            out.append(message.get("text") or "")
    return "\n".join(out)


SAR = "sar_form"
CONSENT = "consent_withdrawal_form"
Sar, Con = ValidateSarForm, ValidateConsentWithdrawalForm
CASES = [
    # (validator, form, slot, bad answer, earlier answers, words the re-ask must hold)
    (Sar, SAR, "sar_name", TWO_KB, {}, "name"),
    (Sar, SAR, "sar_name", HTML, {}, "name"),
    (Sar, SAR, "sar_subject_name", "<b>Asha</b>", {"sar_for_someone_else": "other"}, "name"),
    (Sar, SAR, "sar_locator", TWO_KB, {}, "postcode"),
    (Sar, SAR, "sar_locator", "<script>x</script> NW9 4EW", {}, "postcode"),
    (Sar, SAR, "sar_scope_detail", HTML, {"sar_scope": "specific"}, ""),
    (Sar, SAR, "sar_contact", "sam.example.com", {"sar_contact_method": "email"}, "email"),
    (Sar, SAR, "sar_contact", "12345", {"sar_contact_method": "phone"}, "number"),
    (Sar, SAR, "sar_contact", "my flat is 42", {"sar_contact_method": "phone"}, "number"),
    (Con, CONSENT, "consent_name", TWO_KB, {}, "name"),
    (Con, CONSENT, "consent_name", HTML, {}, "name"),
    (Con, CONSENT, "consent_locator", HTML, {}, "postcode"),
    (Con, CONSENT, "consent_purpose", HTML, {}, ""),
    (Con, CONSENT, "consent_contact_method", HTML, {}, ""),
    (
        Con, CONSENT, "consent_contact", "priya.example.org",
        {"consent_contact_method": "email"}, "email",
    ),
    (
        Con, CONSENT, "consent_contact", "0123",
        {"consent_contact_method": "sms"}, "number",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("validator", "form", "slot", "bad", "earlier", "reask"), CASES)
def test_a_bad_answer_is_asked_again_and_never_kept(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    validator: Any,
    form: str,
    slot: str,
    bad: str,
    earlier: dict[str, Any],
    reask: str,
) -> None:
    monkeypatch.setenv("ORG", "barnet-homes")
    events, messages = run(validator(), answered(form, slot, bad, earlier))
    slots = slot_events(events)
    assert slots.get(slot) is None and slots["failed_attempts"][slot] == 1  # asked again
    said = slots.get("form_said") or {}
    assert slot not in said  # what the resident typed is kept only for accepted answers
    text = rendered(messages)
    assert text and reask.lower() in text.lower(), text
    assert "<" not in text and "Sam Smith Sam" not in text  # the bad input is not echoed
