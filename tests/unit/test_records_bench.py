"""The wrong-records comparison (tests/bench/records_bench.py) can fail."""

from __future__ import annotations

from typing import Any

from tests.bench.records_bench import (
    field_of,
    load_residents,
    lookup_problems,
    problems,
    wrong_by_field,
)

EMAIL = {"kind": "marketing_opt_out", "channels": ["email"], "contacts": {"email": "a@b.org"}}


def record(**fields: Any) -> dict[str, Any]:
    base = {
        "kind": "marketing_opt_out",
        "reference": "MKT-ABCDEF",
        "channels": ["email"],
        "contacts": {"email": "a@b.org"},
        "ledger": [("marketing", "email")],
    }
    return {**base, **fields}


def test_the_record_meant_is_right() -> None:
    assert problems(EMAIL, [record()]) == []


def test_wrong_channels_kind_ledger_missing_and_extra_records_are_wrong() -> None:
    assert problems(EMAIL, [record(channels=["email", "sms"])])
    assert problems(EMAIL, [record(contacts={"email": ""})])
    assert problems(EMAIL, [record(ledger=[])])
    assert problems(EMAIL, [record(kind="consent_withdrawal")]) == [
        "kind consent_withdrawal, meant marketing_opt_out"
    ]
    assert problems(EMAIL, []) == ["0 records, meant one marketing_opt_out"]
    assert problems({"kind": "none"}, [record()]) == [
        "unasked-for marketing_opt_out record MKT-ABCDEF"
    ]


def test_a_withdrawal_for_the_wrong_use_is_wrong() -> None:
    meant = {"kind": "consent_withdrawal", "purpose": "other"}
    got = record(kind="consent_withdrawal", purpose="photos", ledger=[("photos", "")])
    assert len(problems(meant, [got])) == 2  # the ticket's use and the ledger row's


def test_the_scripted_residents_each_say_what_they_meant() -> None:
    residents = load_residents()
    assert len(residents) >= 10
    assert all(r["messages"] and r["intended"]["kind"] for r in residents)


def test_wrong_records_are_counted_per_field() -> None:
    wrong = [
        {"resident": "a", "problems": problems(EMAIL, [record(channels=["sms"], ledger=[])])},
        {"resident": "b", "problems": problems(EMAIL, [])},
        {"resident": "c", "problems": problems({"kind": "none"}, [record()])},
    ]
    counts = wrong_by_field(wrong)
    assert (counts["channels"], counts["ledger"], counts["missing"], counts["unasked"]) == (
        1,
        1,
        1,
        1,
    )
    assert counts["contacts"] == 0 and sum(counts.values()) == 4


def test_a_lookup_that_does_not_find_the_record_is_wrong() -> None:
    meant = {**EMAIL, "found_by": {"channel": "email", "contact": "A@B.org"}}
    found = {"suppressed": True, "reference": "MKT-ABCDEF"}
    assert lookup_problems(meant, record(), found) == []
    assert lookup_problems(meant, record(), {**found, "reference": "MKT-OTHER1"})
    assert lookup_problems(meant, record(), {"suppressed": False, "reference": None})
    withdrawal = {"kind": "consent_withdrawal", "purpose": "photos", "found_by": meant["found_by"]}
    got = record(kind="consent_withdrawal", purpose="photos", reference="CON-ABCDEF")
    listed = {"consent_withdrawn": [{"purpose": "photos", "reference": "CON-ABCDEF"}]}
    assert lookup_problems(withdrawal, got, listed) == []
    assert lookup_problems(withdrawal, got, {"consent_withdrawn": []})
    assert field_of(lookup_problems(withdrawal, got, {})[0]) == "lookup"


def test_a_confirmation_to_another_contact_or_none_is_wrong() -> None:
    meant = {**EMAIL, "confirmations": [["email", "a@b.org"]]}
    assert problems(meant, [record(confirmations=[["email", "a@b.org"]])]) == []
    assert problems(meant, [record(confirmations=[])]) == [
        "confirmations [], meant [['email', 'a@b.org']]"
    ]
    [wrong] = problems(meant, [record(confirmations=[["sms", "a@b.org"]])])
    assert field_of(wrong) == "confirmations"
