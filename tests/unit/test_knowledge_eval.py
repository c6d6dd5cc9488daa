"""privacybot eval's report: what it prints for each question set."""

from __future__ import annotations


def test_eval_report_never_prints_a_blind_sets_misses() -> None:
    from knowledge.evaluate import summary_lines

    def result(q: str) -> dict:
        style = {"n": 1, "hit@1": 0.0, "hit@3": 0.0, "answer_contains_expected": 0.0}
        return {
            "in_scope": 1,
            "oos": 0,
            "hit@1": 0.0,
            "hit@3": 0.0,
            "answer_contains_expected": 0.0,
            "oos_abstained": None,
            "false_abstention": 0.0,
            "bm25_baseline": {"hit@1": 0.0, "hit@3": 0.0},
            "latency_ms": {"p50": 1.0, "p95": 1.0},
            "by_style": {"plain": {**style, "bm25_hit@1": 0.0}},
            "cut_off": 0,
            "answered": 1,
            "cut_off_answers": [],
            "misses": [{"q": q, "kind": "miss@1", "top_section": "S"}],
        }

    text = "\n".join(
        summary_lines({"sets": {"blind_d_questions": result("SECRET"), "styles": result("seen")}})
    )
    assert "SECRET" not in text and "seen" in text
    assert "== blind_d_questions" in text and "plain (1)" in text
