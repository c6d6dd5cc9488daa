"""knowledge.spelling: texting and misspelt words read as the notices' own words."""

from __future__ import annotations

from knowledge.spelling import Speller

NOTICE = (
    "We use CCTV recording in some blocks. You can ask for a copy of your information. "
    "We keep data for a set period. Contact us by phone or post. How we share your details."
)


def _speller() -> Speller:
    return Speller([NOTICE], english=["block", "me", "my", "on", "are", "can", "boiler"])


def test_dropped_letters_and_plurals_become_notice_words() -> None:
    sp = _speller()
    assert sp.correct("r u recordin me on cctv") == "r u recording me on cctv"
    assert sp.correct("what informations and datas") == "what information and data"
    assert sp.correct("hw do u shre my detials") == "how do u share my details"


def test_known_words_names_and_short_words_stay() -> None:
    sp = _speller()
    assert sp.correct("my boiler in Edgware") == "my boiler in Edgware"  # English, a name
    assert sp.correct("zq") == "zq"
    assert sp.suggest("recording") is None


def test_shouting_is_corrected_too() -> None:
    assert _speller().correct("WHY R U RECORDIN") == "WHY R U recording"
