"""Quality figures: dev-format question sets, PrivacyQA sentence ranking, CLINC150 abstention,
each with a BM25 baseline over the same passages, measured in the same run."""

from __future__ import annotations

import csv
import json
import re
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import yaml

from knowledge.index import IndexBundle, passage_embedding_text

DEFAULT_ORG = "barnet-homes"
# Our own question sets; each file's header says who wrote it and whether it was tuned on.
EVAL_DIR = Path(__file__).resolve().parent / "eval"


def shared_dir() -> Path:
    from privacybot.settings import PROJECT_ROOT

    # Beside the checkout (../shared); from a git worktree nested one level deeper, the
    # nearest ancestor that holds it.
    for parent in PROJECT_ROOT.resolve().parents:
        if (parent / "shared" / "eval").is_dir():
            return parent / "shared"
    return (PROJECT_ROOT / ".." / "shared").resolve()


def default_paths() -> dict[str, Path]:
    shared = shared_dir()
    return {
        "questions": shared / "eval" / "dev_questions.yaml",
        "privacyqa": shared / "external" / "privacyqa",
        "clinc": shared / "external" / "clinc150" / "data_full.json",
    }


def is_hit(text: str, expect: list[str], reject: list[str]) -> bool:
    low = text.lower()
    return any(e.lower() in low for e in expect) and not any(r.lower() in low for r in reject)


def is_cut_off(answer: str) -> bool:
    """An answer that stops on a lead-in: it ends with ':' or its last sentence introduces a
    list that is not there ("We use your data for the following reasons:")."""
    from knowledge.answer import is_lead_in
    from knowledge.chunk import split_sentences

    text = answer.strip()
    if not text:
        return False
    return text.endswith(":") or is_lead_in((split_sentences(text) or [text])[-1])


# How residents write, for per-style figures. An item's own `style:` wins; otherwise these
# surface cues decide (non-native English has no reliable cue: only tagged items count).
_SMS_CUES = re.compile(
    r"\b(u|ur|r|y|pls|plz|wot|wat|txt|msg|im|dont|cant|wont|cud|wud|shud|ppl|coz|cos|bc|"
    r"thx|ta|k|gonna|wanna|dunno|2day|4)\b"
)
_FORMAL_CUES = re.compile(
    r"^(dear|to whom|good (morning|afternoon))|i am writing|i would be grateful|kindly|"
    r"please (could|would) you|could you (please )?(confirm|advise|clarify)|"
    r"yours (sincerely|faithfully)",
    re.IGNORECASE,
)
_ASKS = re.compile(r"^(how|what|whats|why|who|where|when|which|is|are|do|does|can|will)\b", re.I)


def question_style(item: dict) -> str:
    if item.get("style"):
        return str(item["style"])
    q = str(item["q"]).strip()
    letters = [c for c in q if c.isalpha()]
    words = q.split()
    if len(words) >= 3 and letters and sum(c.isupper() for c in letters) / len(letters) > 0.6:
        return "caps"
    if _FORMAL_CUES.search(q):
        return "formal"
    if q.count("?") >= 2 and len(words) >= 8:
        return "multi"
    if len(q) >= 200 or len(re.findall(r"[.!?]+(\s|$)", q)) >= 3:
        return "long"
    if _SMS_CUES.search(q.lower()):
        return "sms"
    if len(words) <= 5 and "?" not in q and not _ASKS.search(q):
        return "fragment"
    return "plain"


def _bm25_okapi(docs: list[str]):
    from rank_bm25 import BM25Okapi

    from knowledge.lexical import tokens

    return BM25Okapi([tokens(d) or ["_"] for d in docs]), tokens


# ---------------------------------------------------------------- question sets


def eval_followups(items: list[dict], index_dir: Path | str | None = None) -> dict:
    """Two-turn items (first, followup, expect_any): the follow-up asked alone and asked with
    the first question as context, as the answer action passes it."""
    from knowledge.answer import get_answerer

    out: dict[str, dict] = {}
    for mode in ("alone", "with_previous"):
        h1 = h3 = contains = abstained = 0
        for item in items:
            answerer = get_answerer(item.get("org", DEFAULT_ORG), index_dir)
            prev = item["first"] if mode == "with_previous" else None
            res = answerer.ask(item["followup"], previous=prev)
            expect, reject = item.get("expect_any", []), item.get("reject_any", [])
            hits = [is_hit(p["text"], expect, reject) for p in res["passages"][:3]]
            h1 += bool(hits and hits[0])
            h3 += any(hits)
            contains += bool(res["answered"] and is_hit(res["answer"], expect, reject))
            abstained += not res["answered"]
        n = max(1, len(items))
        out[mode] = {
            "hit@1": _r(h1 / n),
            "hit@3": _r(h3 / n),
            "answer_contains_expected": _r(contains / n),
            "false_abstention": _r(abstained / n),
        }
    return {"n": len(items), **out}


def eval_questions(path: Path | str, index_dir: Path | str | None = None) -> dict:
    """hit@1/hit@3, answer-contains-expected, abstention on a dev_questions-format file
    (a file of two-turn `first`/`followup` items is scored as a follow-up set)."""
    from knowledge.answer import get_answerer

    items = yaml.safe_load(Path(path).read_text()) or []
    if items and "followup" in items[0]:
        return {"file": str(path), "followups": eval_followups(items, index_dir)}
    by_org: dict[str, list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        by_org[item.get("org", DEFAULT_ORG)].append(i)
    results: list[dict | None] = [None] * len(items)
    bm25_rank: list[list[str]] = [[] for _ in items]
    latencies: list[float] = []
    for org, idx in by_org.items():
        answerer = get_answerer(org, index_dir)
        answerer.ask("warm up")
        for i in idx:
            started = time.perf_counter()
            results[i] = answerer.ask(items[i]["q"])
            latencies.append(time.perf_counter() - started)
        passages = answerer.bundle.passages
        bm25, tok = _bm25_okapi([passage_embedding_text(p) for p in passages])
        for i in idx:
            scores = bm25.get_scores(tok(items[i]["q"]))
            bm25_rank[i] = [passages[j]["text"] for j in np.argsort(-scores)[:3]]
    n_in = n_oos = h1 = h3 = contains = abstained = false_abst = b1 = b3 = 0
    misses = []
    cut_off = []
    # n, hit@1, BM25 hit@1, hit@3, answer contains
    styles: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    bm25_hit1 = {
        id(item): bool(bm) and is_hit(bm[0], item.get("expect_any", []), item.get("reject_any", []))
        for item, bm in zip(items, bm25_rank, strict=True)
    }
    for item, res, bm in zip(items, results, bm25_rank, strict=True):
        assert res is not None
        if res["answered"] and is_cut_off(res["answer"]):
            cut_off.append({"q": item["q"], "answer": res["answer"]})
        if item.get("oos"):
            n_oos += 1
            abstained += not res["answered"]
            if res["answered"]:
                misses.append({"q": item["q"], "kind": "oos answered", "answer": res["answer"]})
            continue
        n_in += 1
        expect, reject = item.get("expect_any", []), item.get("reject_any", [])
        hits = [is_hit(p["text"], expect, reject) for p in res["passages"][:3]]
        h1 += hits[0]
        style = styles[question_style(item)]
        style[0] += 1
        style[1] += hits[0]
        style[2] += bm25_hit1[id(item)]
        style[3] += any(hits)
        style[4] += bool(res["answered"] and is_hit(res["answer"], expect, reject))
        h3 += any(hits)
        contains += bool(res["answered"] and is_hit(res["answer"], expect, reject))
        false_abst += not res["answered"]
        bh = [is_hit(t, expect, reject) for t in bm]
        b1 += bool(bh and bh[0])
        b3 += any(bh)
        if not hits[0] or not res["answered"]:
            top = res["passages"][0]
            misses.append(
                {
                    "q": item["q"],
                    "org": item.get("org", DEFAULT_ORG),
                    "kind": "abstained"
                    if not res["answered"]
                    else ("miss@3" if not any(hits) else "miss@1"),
                    "top_section": top["section"],
                    "top_text": top["text"][:160],
                }
            )
    lat = np.array(latencies) * 1000
    return {
        "file": str(path),
        "in_scope": n_in,
        "oos": n_oos,
        "hit@1": _r(h1 / max(1, n_in)),
        "hit@3": _r(h3 / max(1, n_in)),
        "answer_contains_expected": _r(contains / max(1, n_in)),
        "oos_abstained": _r(abstained / max(1, n_oos)) if n_oos else None,
        "false_abstention": _r(false_abst / max(1, n_in)),
        "answered": sum(1 for r in results if r and r["answered"]),
        "by_style": {
            k: {
                "n": n,
                "hit@1": _r(h / n),
                "hit@3": _r(h3s / n),
                "answer_contains_expected": _r(c / n),
                "bm25_hit@1": _r(b / n),
            }
            for k, (n, h, b, h3s, c) in sorted(styles.items())
        },
        "cut_off": len(cut_off),
        "cut_off_answers": cut_off,
        "bm25_baseline": {"hit@1": _r(b1 / max(1, n_in)), "hit@3": _r(b3 / max(1, n_in))},
        "latency_ms": {"p50": _r(np.percentile(lat, 50)), "p95": _r(np.percentile(lat, 95))},
        "misses": misses,
    }


def _r(x: float) -> float:
    return round(float(x), 4)


# ---------------------------------------------------------------- PrivacyQA


def _sentence_bundle(policy: str, sentences: list[str], emb: np.ndarray) -> IndexBundle:
    """An in-memory index whose passages are one policy's sentences (ids = sentence index)."""
    passages = [
        {
            "id": str(i),
            "text": s,
            "notice": policy,
            "organisation": policy,
            "notice_title": policy,
            "section": "",
            "status": "current",
            "tier": 0,
        }
        for i, s in enumerate(sentences)
    ]
    d = emb.shape[1]
    empty = np.zeros((0, d), dtype=np.float32)
    return IndexBundle(
        path=Path("."),
        manifest={"notices": {}},
        passages=passages,
        emb=emb,
        sent_text=list(sentences),
        sent_passage=np.arange(len(sentences)),
        sent_emb=emb,
        section_emb=np.zeros_like(emb),
        faq=[],
        faq_entry=np.zeros(0, dtype=np.int32),
        faq_emb=empty,
        scope_w=np.zeros(d + 4, dtype=np.float32),
        scope_b=0.0,
        scope_inside=empty,
        scope_outside=empty,
    )


# Same fusion as production's generic path (no FAQ, so retrieve.GENERIC_WEIGHTS apply; no
# section titles exist for these policies); not tuned on PrivacyQA, evaluation data only.
PRIVACYQA_WEIGHTS: dict = {"section": 0.0}


def _rank_metrics(ranks: list[int | None]) -> dict:
    n = max(1, len(ranks))
    return {
        "hit@1": _r(sum(1 for r in ranks if r is not None and r < 1) / n),
        "hit@5": _r(sum(1 for r in ranks if r is not None and r < 5) / n),
        "mrr": _r(sum(1.0 / (r + 1) for r in ranks if r is not None) / n),
    }


def eval_privacyqa(folder: Path | str, weights: dict | None = None) -> dict:
    """Rank each question's own policy sentences; hit@1/hit@5/MRR vs gold sentence indices."""
    from knowledge.embed import encode
    from knowledge.lexical import BM25
    from knowledge.normalise import normalise_question
    from knowledge.retrieve import Retriever

    folder = Path(folder)
    sentences: dict[str, list[str]] = defaultdict(list)
    with (folder / "privacyqa_lbrag_sentences.tsv").open(newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        rows = sorted(reader, key=lambda r: (r["policy_file"], int(r["sent_idx"])))
    for row in rows:
        sentences[row["policy_file"]].append(row["sentence"])
    gold = [json.loads(line) for line in (folder / "privacyqa_lbrag_sentence_gold.jsonl").open()]
    raw_vecs = encode([g["question"] for g in gold], progress=False)  # the baselines' input
    # Ours asks as production does: shorthand spelled out first (knowledge.normalise).
    asked = [normalise_question(g["question"]) for g in gold]
    asked_vecs = encode(asked, progress=False)
    bundles, retrievers, bm25s = {}, {}, {}
    for policy, sents in sentences.items():
        bundles[policy] = _sentence_bundle(policy, sents, encode(sents))
        retrievers[policy] = Retriever(bundles[policy], {**PRIVACYQA_WEIGHTS, **(weights or {})})
        bm25s[policy] = BM25(sents)
    ours, dense_only, bm25_only = [], [], []
    shown_hits = 0
    for g, qv, text, av in zip(gold, raw_vecs, asked, asked_vecs, strict=True):
        policy, want = g["policy_file"], set(g["gold_sentence_idx"])
        ranked = retrievers[policy].rank(text, av)
        ours.append(_first_rank(ranked.rows, want))
        dense_only.append(_first_rank(np.argsort(-(bundles[policy].emb @ qv)), want))
        bm25_only.append(_first_rank(np.argsort(-bm25s[policy].scores(g["question"])), want))
        shown_hits += int(ranked.rows[0]) in want  # the answer shows the top sentence
    return {
        "questions": len(gold),
        "policies": len(sentences),
        "ours": {**_rank_metrics(ours), "answer_contains_gold": _r(shown_hits / len(gold))},
        "dense_only": _rank_metrics(dense_only),
        "bm25_baseline": _rank_metrics(bm25_only),
        "weights": {**PRIVACYQA_WEIGHTS, **(weights or {})},
    }


def _first_rank(order, want: set[int]) -> int | None:
    for rank, idx in enumerate(order):
        if int(idx) in want:
            return rank
    return None


# ---------------------------------------------------------------- CLINC150


def eval_clinc(path: Path | str, org: str = DEFAULT_ORG, index_dir=None, splits=None) -> dict:
    """Every CLINC150 utterance is out of scope for a privacy-notice assistant."""
    from knowledge.answer import get_answerer

    data = json.loads(Path(path).read_text())
    splits = splits or ["test", "oos_test"]
    answerer = get_answerer(org, index_dir)
    out: dict = {"org": org, "splits": {}}
    total = abstained = 0
    answered_examples = []
    for split in splits:
        texts = [t for t, _ in data[split]]
        n_abs = 0
        for start in range(0, len(texts), 256):
            for text, res in zip(
                texts[start : start + 256],
                answerer.ask_batch(texts[start : start + 256]),
                strict=True,
            ):
                if res["answered"]:
                    if len(answered_examples) < 25:
                        answered_examples.append(text)
                else:
                    n_abs += 1
        out["splits"][split] = {"n": len(texts), "abstained": _r(n_abs / max(1, len(texts)))}
        total += len(texts)
        abstained += n_abs
    out["n"] = total
    out["abstained"] = _r(abstained / max(1, total))
    out["answered_examples"] = answered_examples
    return out


# ---------------------------------------------------------------- all


def run_eval(
    questions: Path | str | None = None,
    privacyqa: Path | str | None = None,
    clinc: Path | str | None = None,
    index_dir: Path | str | None = None,
    sets: bool = False,
) -> dict:
    paths = default_paths()
    report: dict = {}
    q = Path(questions) if questions else paths["questions"]
    if q.exists():
        report["questions"] = eval_questions(q, index_dir)
    if sets:
        report["sets"] = {
            path.stem: eval_questions(path, index_dir) for path in sorted(EVAL_DIR.glob("*.yaml"))
        }
    p = Path(privacyqa) if privacyqa else paths["privacyqa"]
    if p.exists():
        report["privacyqa"] = eval_privacyqa(p)
    c = Path(clinc) if clinc else paths["clinc"]
    if c.exists():
        report["clinc150"] = eval_clinc(c, index_dir=index_dir)
    return report


def summary_lines(report: dict) -> list[str]:
    lines = _set_lines(report.get("questions"))
    for name, result in report.get("sets", {}).items():
        lines.append(f"== {name}")
        # Misses of a held-out set are not printed: reading them would be tuning on it.
        lines += _set_lines(result, misses=not name.startswith("blind"))
    return lines + _privacyqa_clinc_lines(report)


def _set_lines(q: dict | None, misses: bool = True) -> list[str]:
    lines: list[str] = []
    if q and "followups" in q:
        f = q["followups"]
        for mode in ("alone", "with_previous"):
            m = f[mode]
            lines.append(
                f"follow-ups ({f['n']}) {mode}: hit@1 {m['hit@1']:.3f} hit@3 {m['hit@3']:.3f} "
                f"answer-contains {m['answer_contains_expected']:.3f} "
                f"false-abstention {m['false_abstention']:.3f}"
            )
        q = None
    if q:
        lines.append(
            f"questions ({q['in_scope']} in scope, {q['oos']} oos): hit@1 {q['hit@1']:.3f}  "
            f"hit@3 {q['hit@3']:.3f}  answer-contains {q['answer_contains_expected']:.3f}  "
            f"oos-abstained {q['oos_abstained']}  false-abstention {q['false_abstention']:.3f}  "
            f"| BM25 hit@1 {q['bm25_baseline']['hit@1']:.3f} "
            f"hit@3 {q['bm25_baseline']['hit@3']:.3f}"
            f"  | latency p50 {q['latency_ms']['p50']} ms p95 {q['latency_ms']['p95']} ms"
        )
        lines.append("  by style (hit@1, hit@3, answer-contains, BM25 hit@1):")
        for k, v in q["by_style"].items():
            lines.append(
                f"    {k} ({v['n']}): {v['hit@1']:.2f} {v['hit@3']:.2f} "
                f"{v['answer_contains_expected']:.2f} {v['bm25_hit@1']:.2f}"
            )
        lines.append(f"cut-off answers: {q['cut_off']} of {q['answered']} answered")
        if misses:
            for c in q["cut_off_answers"]:
                lines.append(f"  cut-off {c['q']!r} -> {c['answer']!r}")
            for m in q["misses"]:
                lines.append(
                    f"  miss [{m['kind']}] {m['q']!r} -> "
                    f"{m.get('top_section', m.get('answer', ''))}"
                )
    return lines


def _privacyqa_clinc_lines(report: dict) -> list[str]:
    lines = []
    p = report.get("privacyqa")
    if p:
        for name in ("ours", "dense_only", "bm25_baseline"):
            m = p[name]
            lines.append(
                f"privacyqa {name}: hit@1 {m['hit@1']:.3f} hit@5 {m['hit@5']:.3f} "
                f"MRR {m['mrr']:.3f}"
                + (
                    f" answer-contains-gold {m['answer_contains_gold']:.3f}"
                    if "answer_contains_gold" in m
                    else ""
                )
            )
    c = report.get("clinc150")
    if c:
        parts = ", ".join(f"{k} {v['abstained']:.3f} of {v['n']}" for k, v in c["splits"].items())
        lines.append(f"clinc150 abstained {c['abstained']:.4f} ({parts})")
    return lines
