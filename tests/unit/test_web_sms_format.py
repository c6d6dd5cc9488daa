"""SMS fitting: GSM-7 vs UCS-2 segments, sentence-boundary cuts, shortened citations."""

from __future__ import annotations

from webhook import sms_format as f


def test_segment_counts_follow_gsm7_and_ucs2_limits() -> None:
    assert f.segments("a" * 160) == 1
    assert f.segments("a" * 161) == 2
    assert f.segments("a" * 306) == 2 and f.segments("a" * 307) == 3
    assert f.segments("€" * 80) == 1  # extension characters cost two septets
    assert f.segments("€" * 81) == 2
    assert f.segments("ł" * 70) == 1 and f.segments("ł" * 71) == 2  # UCS-2
    assert f.segments("😀" * 35) == 1  # surrogate pairs: two UTF-16 units each


def test_smart_punctuation_is_normalised_to_stay_gsm() -> None:
    text = f.normalise("It\u2019s \u201cfree\u201d \u2013 usually\u2026")
    assert text == 'It\'s "free" - usually...'
    assert f.is_gsm(text)


def test_fit_cuts_at_sentence_boundaries_within_three_segments() -> None:
    sentences = [f"Sentence number {i} says something useful about your data." for i in range(20)]
    body = f.fit(" ".join(sentences))
    assert f.segments(body) <= 3
    assert body.endswith("data.")
    assert body.startswith("Sentence number 0")
    assert len(body) > 300  # uses the room it has


def test_fit_keeps_options_line_and_ucs2_budget() -> None:
    text = "Zażółć gęślą jaźń. " * 30
    body = f.fit(text, suffix="Reply 1 Yes, 2 No")
    assert f.segments(body) <= 3
    assert body.endswith("Reply 1 Yes, 2 No")


def test_a_single_huge_sentence_is_cut_at_a_word() -> None:
    body = f.fit("word " * 400)
    assert f.segments(body) <= 3 and body.endswith("...")


def test_citations_and_urls_are_shortened() -> None:
    text = (
        "We keep rent records for six years. (Source: Barnet Homes privacy policy, section "
        "'How long we keep it', paragraph 3) See https://www.barnethomes.org/privacy?utm=x"
    )
    short = f.shorten_citations(text)
    assert "(Source: Barnet Homes privacy policy)" in short
    assert "barnethomes.org/privacy" in short and "utm" not in short and "https" not in short


def test_format_reply_joins_turn_messages_and_numbers_buttons() -> None:
    body = f.format_reply(
        ["First part.", "Second part."],
        [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}],
    )
    assert body == "First part.\nSecond part.\nReply 1 Yes, 2 No"


def test_a_two_part_answer_keeps_both_parts_and_citations() -> None:
    first = (
        "We keep your tenancy file for six years after you leave. This is based on guidance, "
        "legal requirements and best practice, and we review it. We review our retention "
        "periods every year and delete what we no longer need to keep.\n— Privacy policy, Retention"
    )
    second = (
        "We share details with the police to support safer communities. We share only what "
        "is lawful and necessary. Each time is recorded.\n— Privacy policy, Sharing"
    )
    body = f.fit(f"{first}\n\n{second}")
    assert f.segments(body) <= 3
    assert "six years" in body and "the police" in body
    assert "- Privacy policy, Retention" in body and "- Privacy policy, Sharing" in body
    assert body.index("Retention") < body.index("the police")
