"""Answer a resident's question from the notice index, or abstain.

Public API (the action server imports it):
    answerer = get_answerer(org="barnet-homes", index_dir=None)
    result = answerer.ask(question, notice=None)
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path

import numpy as np

from knowledge.aliases import notice_aliases, with_aliases
from knowledge.chunk import split_sentences
from knowledge.focus import question_focus
from knowledge.lexical import STOPWORDS, tokens
from knowledge.normalise import normalise_question, self_name_pattern
from knowledge.spelling import Speller

MAX_ANSWER_CHARS = 480
MAX_QUESTION_CHARS = 1000
GROW_BELOW = 220  # add neighbouring sentences while the answer is shorter than this
MIN_PASSAGES = 3
OVERLAP_WEIGHT = 0.5  # rarity-weighted word overlap beside the cosine when choosing the sentence
HINT_MIN = 0.6  # a FAQ entry this close to the question picks its own sentence of the passage
# Abstention thresholds, calibrated on the project's own examples (see docs in evaluate.py):
SCOPE_MIN = 0.56  # scope classifier probability (+ FAQ credit) needed to answer
DENSE_MIN = 0.21  # top passage's dense score (passage + best sentence), unless a FAQ matches
FAQ_FLOOR = 0.55  # FAQ similarity above this adds scope evidence...
FAQ_CREDIT = 0.8  # ...at this rate
FAQ_STRONG = 0.68  # a FAQ phrasing this close vouches for a doubtful message
FAQ_CERTAIN = 0.85  # ...and this close is enough evidence on its own
# Nearest-example evidence: (closest in-scope example - closest out-of-scope example -
# NEIGHBOUR_MARGIN) x NEIGHBOUR_WEIGHT joins the scope evidence. Session 7, chosen on our own
# question sets: CLINC abstained 0.9605 -> 0.9629, false abstention on a blind set 0.063 -> 0.016.
NEIGHBOUR_WEIGHT = 1.0
NEIGHBOUR_MARGIN = 0.05
# ...and a margin this wide vouches for a question whose passages match only weakly
# (informal wording: "can my son phone up and sort out my rent account for me?").
# Session 7: false abstention on a fresh blind set 0.044 -> 0.015, CLINC 0.9624 -> 0.9609.
NEIGHBOUR_VOUCH = 0.2
FALLBACK_QUERY = "how to contact us about your personal information and privacy"

REASONS = {
    "empty": "The message is empty.",
    "too_long": "The message is too long to answer; please ask one short question.",
    "unreadable": "The message contains unreadable characters.",
    "no_words": "The message has no words to answer.",
    "not_english": "I can only answer questions written in English.",
    "out_of_scope": "This is not a question the privacy notices answer.",
    "low_confidence": "The privacy notices do not clearly answer this.",
    "unknown_notice": "There is no notice with that id here.",
}


def check_input(question: object, known_words: frozenset[str] = frozenset()) -> str | None:
    """A reason key when the text cannot be answered at all, else None.

    `known_words`: words of the notices themselves; "ico phone number" has no English
    function word, yet every word of it is in the notices.
    """
    if not isinstance(question, str):
        return "unreadable"
    text = question.strip()
    if not text:
        return "empty"
    if len(text) > MAX_QUESTION_CHARS:
        return "too_long"
    controls = sum(
        1
        for ch in text
        if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") and ch not in "\t\n"
    )
    if controls or "\ufffd" in text:
        return "unreadable"
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return "no_words"
    latin = sum(1 for ch in letters if ch.isascii())
    if latin / len(letters) < 0.8:
        return "not_english"
    words = _plain_words(text)
    if len(words) >= 3:
        english = sum(1 for w in words if w in STOPWORDS or w in _ENGLISH_HINTS or w in known_words)
        if english == 0:
            return "not_english"
    return None


def _plain_words(text: str) -> list[str]:
    """Lower-case words as written (no stemming): what the language check compares."""
    return re.findall(r"[a-z']+", text.lower())


_ENGLISH_HINTS = frozenset(
    """data info information details privacy cookie cookies consent share delete erase copy get
    see know want need tell stop keep send use used file files records record personal policy
    wat wot wud cud plz pls u ur r y""".split()
)


def _own_names(org: str | None) -> list[str]:
    """How residents name the deployment's own organisation."""
    if org is None:
        return []
    from privacybot.orgs import load_org

    try:
        name = load_org(org).name
    except (KeyError, FileNotFoundError):
        return []
    return [name, org.replace("-", " ")]


# Technical names such as cookie names (BIGipServerZebedee, _hjIncludedInSample, TS01237438):
# a question naming one is about the notice that lists it, whatever the classifier thinks.
# Brand names with one capital inside (YouTube, MyAccount) are ordinary words here.
_IDENTIFIER = re.compile(r"\b\w*_[a-zA-Z]\w*|\b\w*[a-z][A-Z]\w*[a-z][A-Z]\w*|\b[A-Z]{2}\d{4,}\b")


def _identifiers(text: str) -> set[str]:
    return {m.group(0).lower() for m in _IDENTIFIER.finditer(text) if len(m.group(0)) >= 5}


def _passage_out(p: dict, score: float) -> dict:
    return {
        "text": p["text"],
        "notice": p["notice"],
        "organisation": p["organisation"],
        "notice_title": p["notice_title"],
        "section": p["section"],
        "score": round(float(score), 4),
    }


def _with_parts(whole: dict, answers: list[dict]) -> dict:
    """Two parts answered from two different passages: both answers, each with its
    citation (`parts`); `answer` holds both for callers that show one text."""
    if not whole["answered"] or len(answers) < 2 or not all(a["answered"] for a in answers):
        return whole
    if (
        answers[0]["citation"] == answers[1]["citation"]
        or answers[0]["answer"] in (answers[1]["answer"])
    ):
        return whole
    whole["parts"] = [{"answer": _clip(a["answer"]), "citation": a["citation"]} for a in answers]
    whole["answer"] = "\n\n".join(p["answer"] for p in whole["parts"])
    return whole


def _third_party_check(passages: list[dict], known_words: frozenset[str], org: str | None):
    from knowledge.thirdparty import ThirdPartyCheck, proper_names

    def words(text: str) -> set[str]:  # whole tokens: "let2barnet", "twenty11"
        return set(re.findall(r"[a-z0-9']+", text.lower()))

    own = {w for n in _own_names(org) for w in words(n)}
    own |= {w for p in passages for w in words(f"{p['organisation']} {p['notice']}")}
    known = set(known_words) | {w for p in passages for w in words(p["text"])}
    return ThirdPartyCheck(known, own, proper_names(p["text"] for p in passages))


def _speller(bundle) -> Speller:
    """Spelling mapped onto the words of the notices and the FAQ phrasings; the encoder's
    whole-word vocabulary counts as English that needs no correcting."""
    from knowledge.embed import get_model

    english = [w for w in get_model().tokenizer.get_vocab() if w.isalpha()]
    texts = [p["text"] for p in bundle.passages]
    texts += [str(q) for entry in bundle.faq for q in entry.get("ask", [])]
    return Speller(texts, english)


class Answerer:
    def __init__(self, org: str | None, index_dir: Path | str | None = None) -> None:
        from knowledge.index import build_org_index, load_index, org_index_current, org_index_dir
        from knowledge.retrieve import Retriever

        self.org = org
        if index_dir is None:
            if org is None:
                raise ValueError("need an org or an index directory")
            if not org_index_current(org):  # first run / notices changed: (re)build
                build_org_index(org, progress=False)
            index_dir = org_index_dir(org)
        self.bundle = load_index(index_dir)
        self.retriever = Retriever(self.bundle)
        self.self_names = self_name_pattern(_own_names(org))
        self.known_words = frozenset(
            w for p in self.bundle.passages for w in _plain_words(p["text"])
        )
        self.notice_ids = frozenset(p["notice"] for p in self.bundle.passages)
        self.identifiers = frozenset(
            t for p in self.bundle.passages for t in _identifiers(p["text"])
        )
        self.aliases = notice_aliases(p["text"] for p in self.bundle.passages)
        self.third_party = _third_party_check(self.bundle.passages, self.known_words, org)
        self.speller = _speller(self.bundle)
        self._lock = threading.Lock()

    def ask(self, question: str, notice: str | None = None, previous: str | None = None) -> dict:
        """Answer one question: a dict with answered/answer/reason/citation/passages.

        `previous`: the resident's previous question in this conversation, so a follow-up
        ("how long for?", "and the council?") is read against it."""
        from knowledge.followup import contextual_query
        from knowledge.multipart import question_parts

        if not isinstance(question, str):
            return self.ask_batch([question], notice=notice)[0]
        asked = contextual_query(question, previous)
        parts = question_parts(asked) if asked is question else []
        whole, *answers = self.ask_batch([asked, *parts], notice=notice)
        if asked is not question:
            whole["question"] = question
            whole["read_with_previous"] = True
        return _with_parts(whole, answers)

    def ask_batch(self, questions: list[str], notice: str | None = None) -> list[dict]:
        """Answer several questions with one embedding call (CLI --jsonl, evaluation)."""
        from knowledge.embed import encode

        checks = [check_input(q, self.known_words) for q in questions]
        # What retrieval reads; the resident's own words stay in the result.
        spelt = [
            self.speller.correct(q) if bad is None else ""
            for q, bad in zip(questions, checks, strict=True)
        ]
        texts = [
            normalise_question(with_aliases(q, self.aliases), self.self_names)
            if bad is None
            else FALLBACK_QUERY
            for q, bad in zip(spelt, checks, strict=True)
        ]
        focus = [
            question_focus(q) if bad is None else None for q, bad in zip(spelt, checks, strict=True)
        ]
        focus = [normalise_question(f, self.self_names) if f else None for f in focus]
        asked = [f for f in focus if f]
        vecs = encode(texts + asked, batch_size=64)
        fvecs = iter(vecs[len(texts) :])
        return [
            self._ask(q, text, bad, vec, notice, (f, next(fvecs)) if f else None)
            for q, text, bad, vec, f in zip(
                questions, texts, checks, vecs[: len(texts)], focus, strict=True
            )
        ]

    def _ask(self, question: object, text: str, bad: str | None, qvec, notice, focus=None) -> dict:
        raw = question if isinstance(question, str) else ""
        if notice is not None and notice not in self.notice_ids:
            bad = bad or "unknown_notice"
            notice = None
        ranked = self.retriever.rank(text, qvec, notice=notice, focus=focus)
        qread = qvec  # what scope and the answer sentence read: the question, not the story
        if focus is not None:
            a = self.retriever.w["focus"]
            mixed = (1 - a) * qvec + a * focus[1]
            qread = mixed / (np.linalg.norm(mixed) or 1.0)
        rows = list(ranked.rows[:5])
        scores = list(ranked.fused[:5])
        if len(rows) < MIN_PASSAGES:  # a small notice: pad from the whole index, ranked
            pad = self.retriever.rank(text, qvec, focus=focus)
            for r, s in zip(pad.rows, pad.fused, strict=False):
                if len(rows) >= MIN_PASSAGES:
                    break
                if r not in rows:
                    rows.append(r)
                    scores.append(s)
        passages = [
            _passage_out(self.bundle.passages[r], s) for r, s in zip(rows, scores, strict=True)
        ]
        result = {
            "question": raw,
            "org": self.org,
            "answered": False,
            "answer": "",
            "reason": None,
            "citation": None,
            "passages": passages,
        }
        if bad is not None:
            result["reason"] = REASONS[bad]
            result["reason_code"] = bad
            return result
        verdict = self._decide(text, qread, ranked)
        if verdict["reason"] is None and self.third_party.about_other_company(
            focus[0] if focus else raw
        ):
            verdict["reason"] = "out_of_scope"
        result["confidence"] = verdict["confidence"]
        if verdict["reason"]:
            result["reason"] = REASONS[verdict["reason"]]
            result["reason_code"] = verdict["reason"]
            return result
        top = self.bundle.passages[int(rows[0])]
        result["answered"] = True
        asked = f"{focus[0]} {text}" if focus else text
        result["answer"] = self._extract(asked, qread, int(rows[0]), ranked)
        result["citation"] = {
            "notice": top["notice"],
            "notice_title": top["notice_title"],
            "section": top["section"],
            "organisation": top["organisation"],
        }
        return result

    def _decide(self, text: str, qvec: np.ndarray, ranked) -> dict:
        from knowledge.scope import neighbour_margin, scope_probability

        p_scope = scope_probability(self.bundle.scope_w, self.bundle.scope_b, qvec, text)
        if set(re.findall(r"\w+", text.lower())) & self.identifiers:  # a listed cookie
            p_scope = 1.0
        top_dense = float(ranked.dense[ranked.rows[0]])
        faq = ranked.faq_best
        confidence = round(0.5 * p_scope + 0.5 * max(top_dense, faq), 4)
        # Scope evidence: the classifier, plus credit for a close curated FAQ phrasing (it
        # vouches for short or oddly worded questions the classifier doubts).
        evidence = p_scope + FAQ_CREDIT * max(0.0, faq - FAQ_FLOOR)
        margin = neighbour_margin(qvec, self.bundle.scope_inside, self.bundle.scope_outside)
        evidence += NEIGHBOUR_WEIGHT * (margin - NEIGHBOUR_MARGIN)
        if evidence < SCOPE_MIN and faq < FAQ_CERTAIN:
            return {"reason": "out_of_scope", "confidence": confidence}
        if top_dense < DENSE_MIN and faq < FAQ_STRONG and margin < NEIGHBOUR_VOUCH:
            return {"reason": "low_confidence", "confidence": confidence}
        return {"reason": None, "confidence": confidence}

    def _overlap(self, text: str, sents: list[str]) -> np.ndarray:
        """Share of the question's words each sentence holds, each word weighted by its
        rarity in the notices: "do you sell my information" is about "sell", and the
        sentence that says "never sell" should win over one about sharing information.
        Words no notice uses cannot match and do not count."""
        bm = self.retriever.bm25
        weights = {t: float(bm.idf[bm.vocab[t]]) for t in set(tokens(text)) if t in bm.vocab}
        total = sum(weights.values()) or 1.0
        return np.array(
            [sum(v for t, v in weights.items() if t in set(tokens(s))) / total for s in sents]
        )

    def _extract(self, text: str, qvec: np.ndarray, row: int, ranked) -> str:
        """The most relevant sentence(s) of the passage, <= MAX_ANSWER_CHARS.

        Anchor: the sentence a confidently matched FAQ entry is about, else the sentence most
        similar to the question (cosine + word overlap). Then grow towards the better
        neighbour while it fits: one sentence alone often lacks its subject.
        """
        b = self.bundle
        idx = np.flatnonzero(b.sent_passage == row)
        passage = b.passages[row]["text"]
        if idx.size == 0:
            return _clip(passage)
        sents = [b.sent_text[i] for i in idx]
        overlap = self._overlap(text, sents)
        contact = _contact_bonus(text, sents)
        scores = b.sent_emb[idx] @ qvec + OVERLAP_WEIGHT * overlap + contact
        best = int(np.argmax(scores))
        hint = ranked.faq_hint.lower()
        if hint and ranked.faq_row == row and ranked.faq_best >= HINT_MIN:
            hinted = [j for j, s in enumerate(sents) if hint in s.lower()]
            if hinted and contact[hinted[0]] >= contact.max():  # unless it lacks the number
                best = hinted[0]
        lo = hi = best
        is_list = "\n- " in passage
        lead = passage.split("\n", 1)[0] if is_list else ""
        # Grow only while short: a resident reads this on a phone.
        while hi - lo < 2 and len(" ".join(sents[lo : hi + 1])) < GROW_BELOW:
            options = [j for j in (lo - 1, hi + 1) if 0 <= j < len(sents)]
            if is_list:  # list items: only the lead-in is worth adding
                options = [j for j in options if sents[j] == lead]
            if not options:
                break
            j = max(options, key=lambda k: scores[k])
            if len(" ".join(sents[min(lo, j) : max(hi, j) + 1])) > MAX_ANSWER_CHARS:
                break
            lo, hi = min(lo, j), max(hi, j)
        items = _items_after(passage, sents, hi) if is_lead_in(sents[hi]) else []
        if items:  # "As the data controller, we must:" says nothing without what follows it
            return _with_items(" ".join(sents[lo : hi + 1]), items)
        while hi > lo and is_lead_in(sents[hi]):  # a lead-in with nothing after it
            hi -= 1
        answer = " ".join(sents[lo : hi + 1])
        if is_list and lead and lead not in answer and len(lead) + len(answer) < MAX_ANSWER_CHARS:
            answer = f"{lead} {answer}"
        return _clip(answer)


_CLIPPED_LEAD = re.compile(
    r"\b(the following|as follows|such as|including|include|includes|below|we must|these are)$",
    re.IGNORECASE,
)


def is_lead_in(sentence: str) -> bool:
    """A sentence that introduces what follows ("...for the following reasons:"), also when
    the ':' was cut off with the text after it ("...we must…")."""
    s = sentence.strip()
    if s.endswith(":"):
        return True
    for tail in ("…", "..."):
        if s.endswith(tail):
            return bool(_CLIPPED_LEAD.search(s[: -len(tail)].rstrip(" ,;:")))
    return False


def _unit_levels(passage: str) -> list[int]:
    """Nesting level of each answer unit of a passage, in index.passage_sentences order:
    0 for prose (and the lead-in line), 1 for a list item, 2 for a sub-item."""
    levels: list[int] = []
    for line in passage.split("\n"):
        s = line.strip()
        if not s:
            continue
        if s.startswith("- "):
            levels.append(2 if line.startswith(" ") else 1)
        elif " | " in s and ":" in s:
            levels.append(0)
        else:
            levels.extend(0 for _ in split_sentences(s))
    return levels


def _items_after(passage: str, sents: list[str], j: int) -> list[str]:
    """The units a lead-in at j introduces: those after it nested deeper than it (an item
    ending in ':' introduces its sub-items only)."""
    levels = _unit_levels(passage)
    if len(levels) != len(sents):  # not the layout expected: everything after it
        return sents[j + 1 :]
    out = []
    for k in range(j + 1, len(sents)):
        if levels[k] <= levels[j] and not (levels[j] == 0 and k == j + 1):
            break
        out.append(sents[k])
    return out


ITEM_CHARS = 150  # one list item, shortened to its first clause beyond this


def _short_item(item: str) -> str:
    first = (split_sentences(item) or [item])[0].strip().rstrip(".;,:")
    if len(first) > ITEM_CHARS:
        cut = first[:ITEM_CHARS]
        clause = max(cut.rfind(", "), cut.rfind(" ("), cut.rfind(" - "))
        first = cut[:clause] if clause > 40 else cut[: cut.rfind(" ")] + "…"
    return first[:1].upper() + first[1:]


def _with_items(head: str, items: list[str], budget: int = MAX_ANSWER_CHARS) -> str:
    """A lead-in followed by as many of its items as fit, one short sentence each.

    Items end in '.' so an SMS cut (whole sentences, webhook.sms_format) keeps the lead-in
    with at least its first item instead of stranding it; a list that does not fit all
    ends in '…' so the reader knows there is more.
    """
    head = " ".join(head.split())
    shown: list[str] = []
    for item in items:
        short = _short_item(item)
        if len(head) + sum(len(s) + 2 for s in shown) + len(short) + 2 > budget - 1:
            break
        shown.append(short)
    if not shown:  # the lead-in alone fills the space: the first item, cut, still shows
        return _clip(f"{head} {_short_item(items[0])}")
    body = ". ".join(s.rstrip("…") for s in shown)
    return f"{head} {body}" + ("." if len(shown) == len(items) else "…")


# "what's the ICO's phone number?" wants the sentence with the number in it, not the one
# that best describes the ICO: a question asking for a kind of contact detail favours the
# sentences that hold one.
_CONTACT_KINDS = (
    (re.compile(r"\b(phone|telephone|ring|call)\b", re.I), re.compile(r"\d{3,}[\d ]{6,}")),
    (re.compile(r"\b(e-?mail)\b", re.I), re.compile(r"\S+@\S+\.\w+")),
    (
        re.compile(r"\b(address|write|post|postal|letter)\b", re.I),
        re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b"),  # a UK postcode
    ),
)
CONTACT_BONUS = 1.0  # decisive: the resident asked for exactly this


def _contact_bonus(question: str, sentences: list[str]) -> np.ndarray:
    bonus = np.zeros(len(sentences), dtype=np.float32)
    for asks, holds in _CONTACT_KINDS:
        if asks.search(question):
            bonus += CONTACT_BONUS * np.array([bool(holds.search(s)) for s in sentences])
    return bonus


def _clip(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= MAX_ANSWER_CHARS:
        return text
    cut = text[: MAX_ANSWER_CHARS - 1]
    cut = cut[: cut.rfind(" ")] if " " in cut else cut
    return cut.rstrip(",;:") + "…"


_cache_lock = threading.Lock()


@lru_cache(maxsize=16)
def _cached(org: str | None, index_dir: str, org_default: bool) -> Answerer:
    return Answerer(org, None if org_default else index_dir)


def get_answerer(org: str | None = "barnet-homes", index_dir: Path | str | None = None) -> Answerer:
    """One Answerer per (org, index_dir) per process; the model is loaded once.

    index_dir None means the org's index under $DATA_DIR/index/<org>/ (built if missing or
    stale). The cache key is the resolved directory, so a changed DATA_DIR is honoured.
    """
    if index_dir is None:
        if org is None:
            raise ValueError("need an org or an index directory")
        from knowledge.index import org_index_dir

        key = str(org_index_dir(org))
        with _cache_lock:
            return _cached(org, key, True)
    with _cache_lock:
        return _cached(org, str(Path(index_dir).resolve()), False)
