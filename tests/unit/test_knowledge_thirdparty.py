"""Another company's own handling of data is out of scope; our partners are not."""

from __future__ import annotations

import pytest

from knowledge.followup import contextual_query, leans_on_previous
from knowledge.thirdparty import ThirdPartyCheck, proper_names

NOTICE = (
    "We share your data with the council, the DWP and your MP. Our website is hosted "
    "by Amazon Web Services and we use Google Analytics. Contractors carry out repairs."
)
KNOWN = {w.strip(".,").lower() for w in NOTICE.split()} | {"personal", "safe", "my", "data"}
CHECK = ThirdPartyCheck(KNOWN, {"barnet", "homes"}, proper_names([NOTICE]))


def test_proper_names_come_from_the_notice() -> None:
    assert {"amazon", "google"} <= proper_names([NOTICE])
    assert "share" not in proper_names([NOTICE])


@pytest.mark.parametrize(
    "q",
    [
        "is my facebook data safe",
        "is it safe to save my card on amazon",
        "does tiktok sell my data",
        "is my google account safe",
        "can my bank share my details with credit agencies",
    ],
)
def test_other_company_questions_are_caught(q: str) -> None:
    assert CHECK.about_other_company(q)


@pytest.mark.parametrize(
    "q",
    [
        "does the council share my data",
        "do you share my info with the dwp",
        "does barnet homes sell my data",
        "is my personel data safe",  # a misspelling, not a brand
        "does amazon store my data",  # named in the notice as our host
        "will workmen know to wait for me",  # no data in it
        "can i keep my data on file",
    ],
)
def test_our_own_and_partners_questions_are_not(q: str) -> None:
    assert not CHECK.about_other_company(q)


@pytest.mark.parametrize(
    "q", ["who can see it?", "and the council?", "how long for?", "what about my kids"]
)
def test_follow_ups_lean_on_the_previous_question(q: str) -> None:
    assert leans_on_previous(q)
    assert contextual_query(q, "do you share my data").endswith("(do you share my data)")


@pytest.mark.parametrize(
    "q", ["how long do you keep my tenancy records", "who is your data protection officer"]
)
def test_whole_questions_stand_alone(q: str) -> None:
    assert contextual_query(q, "do you share my data") == q
    assert contextual_query("who can see it?", None) == "who can see it?"


def test_two_questions_become_two_parts() -> None:
    from knowledge.multipart import question_parts

    parts = question_parts("How long do you keep my tenancy file? And who can see it?")
    assert parts[0] == "How long do you keep my tenancy file?"
    assert parts[1].startswith("And who can see it?") and "tenancy file" in parts[1]
    assert question_parts("how long do you keep my tenancy file?") == []


def test_short_names_are_read_with_the_notice_long_form() -> None:
    from knowledge.aliases import notice_aliases, with_aliases

    text = "We may share it with the Department for Work and Pensions (DWP) and MPs."
    aliases = notice_aliases([text])
    assert aliases == {"dwp": "Department for Work and Pensions"}
    assert with_aliases("do u tell the dwp", aliases).endswith("(Department for Work and Pensions)")
    assert with_aliases("who sees my file", aliases) == "who sees my file"
