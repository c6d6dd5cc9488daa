"""Answering questions: privacy questions from the landlord's notices (knowledge index),
questions about making a request from the legal rules themselves."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.deployment import current_org, org_id
from actions.sar.parsers import named_other
from actions.text import (
    ASKS_FOR_PERSON,
    asks_what_changes,
    at_risk,
    is_question,
    reports_misdirected_data,
    states_grievance,
)

logger = logging.getLogger(__name__)

ESCALATE_AFTER = 2  # unanswered questions in a row before a person takes over

# What the law says about a SAR (UK GDPR Art. 12 and 15, ICO guidance), one domain
# response per topic (utter_sar_fact_<topic>): stated by us rather than retrieved, so the
# answer about the resident's own rights is never vague. The notice's own words on the
# same point follow it, with their citation, when the index finds them.
SAR_FACT_TOPICS = ("time", "cost", "id", "behalf", "why", "late", "how")
_SAR_TOPICS: tuple[tuple[str, str], ...] = (
    ("late", r"\blate\b|don'?t (reply|respond|answer)|miss(ed)? the deadline|ignored"),
    ("why", r"\bwhy\b|reason"),
    (
        "behalf",
        r"behalf|for my|someone else|another person|"
        r"\b(mum|mother|dad|father|son|daughter|partner|solicitor|carer)\b",
    ),
    ("cost", r"cost|fee|pay|charge|free|price"),
    ("id", r"\bid\b|identity|identification|proof|passport|licen[cs]e"),
    ("time", r"how long|time|days|deadline|when|month|extend|late"),
)


def sar_topic(question: str) -> str | None:
    """Which SAR fact the question is about, or None when it names none."""
    lowered = question.lower()
    for topic, pattern in _SAR_TOPICS:
        if re.search(pattern, lowered):
            return topic
    return None


def sar_fact(topic: str | None) -> str:
    """The domain response that states the SAR fact on `topic` ("how" when none)."""
    return f"utter_sar_fact_{topic or 'how'}"


def sar_answer(question: str) -> str:
    return sar_fact(sar_topic(question))


# --------------------------------------------------------------------------- index

_warm_lock = threading.Lock()


def _answerer() -> Any:
    from knowledge.answer import get_answerer  # lazy: torch loads only in this process

    return get_answerer(org=org_id(), index_dir=None)


def warm_up() -> None:
    """Load the embedding model and index once, so the first question is fast."""
    with _warm_lock:
        try:
            _answerer().ask("How long do you keep my information?")
            logger.info("knowledge index ready")
        except Exception:  # noqa: BLE001 - the server must start even without an index
            logger.exception("knowledge index could not be loaded; questions get a person")


def ask_index(question: str, previous: str | None = None) -> dict[str, Any] | None:
    try:
        return _answerer().ask(question, previous=previous)
    except Exception:  # noqa: BLE001 - an answer failure becomes "not sure", never a crash
        logger.exception("knowledge index failed")
        return None


def previous_question(tracker: Tracker) -> str | None:
    """The resident's question before this message, so "how long for?" or "and the
    council?" is read against it (the knowledge layer decides whether it leans on it)."""
    texts = [
        str(e.get("text") or "")
        for e in tracker.events
        if e.get("event") == "user" and e.get("text")
    ]
    earlier = texts[:-1] if texts else []
    for text in reversed(earlier[-3:]):  # the last few turns only: a topic goes stale
        if is_question(text):
            return text[:1000]
    return None


def citation_line(citation: dict[str, Any] | None) -> str:
    if not citation:
        return ""
    title = citation.get("notice_title") or citation.get("notice") or ""
    section = citation.get("section") or ""
    parts = [p for p in (title, section) if p]
    return "— " + ", ".join(parts) if parts else ""


def format_answer(result: dict[str, Any]) -> str:
    parts = result.get("parts")
    if parts:  # a two-part question: each answer with its own citation
        return "\n\n".join(format_answer(p) for p in parts)
    cite = citation_line(result.get("citation"))
    answer = str(result.get("answer") or "").strip()
    return f"{answer}\n{cite}" if cite else answer


def is_nonsense(text: str) -> bool:
    """Keyboard mashing or symbols: too few letters, or no word with a vowel that is
    also not a run of one letter ("zzzz")."""
    tokens = re.findall(r"[^\W\d_]+", text.lower())
    if sum(len(t) for t in tokens) < 3:
        return True
    vowels = "aeiouyàáâäèéêëìíîïòóôöùúûü"
    wordlike = [t for t in tokens if any(v in t for v in vowels) and len(set(t)) > 1]
    return not wordlike


# --------------------------------------------------------------------------- action


class ActionAnswerQuestion(Action):
    """Answers from the knowledge index with its citation, or says plainly it is not sure.

    Outside a form it sets `answer_status` (answered / not_sure / escalate); the rules
    then offer a person, or hand off after two unanswered questions in a row. Inside a
    form (a digression) it answers and the form resumes."""

    def name(self) -> str:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = str(tracker.latest_message.get("text") or "")[:1000]
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        in_form = bool(tracker.active_loop.get("name"))

        risk = at_risk(text)
        if risk:  # the emergency route first; the question is still answered
            dispatcher.utter_message(text=current_org().emergency)

        if intent == "ask_sar_question":
            topic = sar_topic(text)
            result = ask_index(text, previous_question(tracker))
            found = bool(result and result.get("answered"))
            # The law first when the question names a fact of ours (or nothing was found);
            # then what the landlord's notice itself says, cited.
            if topic is not None or not found:
                dispatcher.utter_message(response=sar_fact(topic))
            if found:
                dispatcher.utter_message(text=format_answer(result))
            return self._outcome(True, tracker, in_form, risk)

        if is_nonsense(text):  # not a question: no answer, no count towards a handoff
            dispatcher.utter_message(
                text="Sorry, I didn't catch that. You can ask me about your personal "
                'information, or say "help" to see what I can do.'
            )
            return [] if in_form else [SlotSet("answer_status", "answered")]

        result = ask_index(text, previous_question(tracker))
        if result and result.get("answered"):
            dispatcher.utter_message(text=format_answer(result))
            return self._outcome(True, tracker, in_form, risk)

        dispatcher.utter_message(
            text="I'm not sure about that one, and I don't want to guess. "
            "The privacy notice may not cover it."
        )
        if in_form:
            dispatcher.utter_message(
                text="A person can help with that later. Back to your request."
            )
        return self._outcome(False, tracker, in_form)

    @staticmethod
    def _outcome(
        answered: bool, tracker: Tracker, in_form: bool, risk: bool = False
    ) -> list[EventType]:
        if in_form:  # the form resumes; no offer, no count
            return [SlotSet("answer_status", None)]
        if answered and risk:
            # Answered, but the words suggest risk: "not_sure" makes the rules offer a
            # person as well (the NLU did not read it as distress, or that would hand off).
            return [SlotSet("failed_answers", 0.0), SlotSet("answer_status", "not_sure")]
        if answered:
            return [SlotSet("failed_answers", 0.0), SlotSet("answer_status", "answered")]
        failed = int(tracker.get_slot("failed_answers") or 0) + 1
        if failed >= ESCALATE_AFTER:
            return [SlotSet("failed_answers", 0.0), SlotSet("answer_status", "escalate")]
        return [SlotSet("failed_answers", float(failed)), SlotSet("answer_status", "not_sure")]


# --------------------------------------------------------------------------- triage

# "is my data sent abroad?" and "do you give my details to the gas company" are questions,
# however worried they sound; the NLU sometimes reads them as complaints (a hand-off) or as
# bare answers (the help text), or files them under a form's intent. A message that asks,
# and that the notices answer, is answered; a grievance or a request goes on as before.

# A question about doing the very thing a form does starts the form ("how do I stop your
# marketing emails?"); any other question the NLU filed under that intent is answered.
_FLOW_WORDS = {
    "request_sar": re.compile(
        r"cop(y|ies)|request|subject access|\bsar\b|see (my|all|everything|what)|access|"
        r"send me|get (my|all|everything|hold of)",
        re.IGNORECASE,
    ),
    "request_marketing_opt_out": re.compile(
        r"\bstop|unsubscribe|opt(ing)? out|no more|remove me|take me off|don'?t (want|send)",
        re.IGNORECASE,
    ),
    "request_human": ASKS_FOR_PERSON,
    "request_consent_withdrawal": re.compile(
        r"withdraw|take .{0,15}back|revoke|cancel|chang(e|ed) my mind|no longer|stop using",
        re.IGNORECASE,
    ),
}


# "what do you hold on me? I want it all": a question, and a request with it.
_REQUEST = re.compile(
    r"\bi want\b|\bi'?d like\b|\bi would like\b|\bplease\b|\bpls\b|\bgive me\b",
    re.IGNORECASE,
)


def is_plain_question(text: str, intent: str | None = None) -> bool:
    """Asks something, does not state a grievance, and (for a form's intent) does not ask
    to do what the form does; asking what the request would change is still a question."""
    flow = _FLOW_WORDS.get(intent or "")
    return (
        is_question(text)
        and not states_grievance(text)
        and (not (flow and (flow.search(text) or _REQUEST.search(text))) or asks_what_changes(text))
    )


# "will I still get repair texts?", "does opting out stop my reminders too?": whether
# service messages go on. The domain's utter_mkt_service_messages says so exactly.
_SERVICE_MESSAGES = re.compile(
    r"\b(still|lose|losing|miss|missing|keep|also|as well|too|else)\b|repair|rent|tenancy|"
    r"safety|gas|appointment|reminder|statement|update",
    re.IGNORECASE,
)


def direct_answer(text: str, intent: str | None) -> dict[str, str] | None:
    """An answer we state ourselves rather than retrieve, for questions asked under a
    request's intent: what an opt-out leaves in place, and how a SAR works (the same facts
    as ask_sar_question). None: ask the notices."""
    if intent == "request_marketing_opt_out" and asks_what_changes(text):
        if _SERVICE_MESSAGES.search(text):
            return {"response": "utter_mkt_service_messages"}
    if intent == "request_sar":
        # only the topics a request's wording cannot be about otherwise ("why" or "when"
        # may be about the records themselves)
        topic = "behalf" if named_other(text) else sar_topic(text)
        if topic in ("behalf", "cost", "id"):
            return {"response": sar_fact(topic)}
    return None


# The requests whose form is offered for one confirmation when asked as a question.
OFFERED_WHEN_ASKED = ("request_sar", "request_marketing_opt_out", "request_consent_withdrawal")


def asks_to_start(text: str, intent: str | None) -> bool:
    """'Can I put in a SAR?', 'how do I stop your emails?': a request phrased as a
    question. The form is offered (one "yes" starts it) rather than started on a guess;
    "please", "I want" or a grievance make it a request to act on at once."""
    return (
        intent in OFFERED_WHEN_ASKED
        and is_question(text)
        and not _REQUEST.search(text)
        and not states_grievance(text)
    )


def route_before_answering(text: str, intent: str | None) -> str | None:
    """The route the words decide before any answer is tried, or None (try an answer)."""
    if intent == "request_sar" and reports_misdirected_data(text):
        return "complaint"  # someone else's data reached them: a breach, not a SAR
    if at_risk(text):
        return "not_a_question"
    if not is_plain_question(text, intent):
        return "offer" if asks_to_start(text, intent) else "not_a_question"
    return None


class ActionAnswerIfQuestion(Action):
    """Before a hand-off, a form or the help text: answer a plain question instead.

    Sets `question_route`: answered (the notices answered it), offer (a request asked as
    a question: the rules offer the form), complaint (a breach filed under a request:
    the rules hand off) or not_a_question; the rules then go on as the intent says: a
    hand-off, the help text, or the form."""

    def name(self) -> str:
        return "action_answer_if_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = str(tracker.latest_message.get("text") or "")[:1000]
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        not_a_question = [SlotSet("question_route", "not_a_question")]
        decided = route_before_answering(text, intent)
        if decided:
            return [SlotSet("question_route", decided)]
        direct = direct_answer(text, intent)
        if direct:
            dispatcher.utter_message(**direct)
            return [SlotSet("failed_answers", 0.0), SlotSet("question_route", "answered")]
        result = ask_index(text)
        if not (result and result.get("answered")):
            return not_a_question
        dispatcher.utter_message(text=format_answer(result))
        if intent == "complain":
            dispatcher.utter_message(
                text=f"If something has gone wrong, a person at {current_org().contact_team} "
                "can look into it.",
                buttons=[{"title": "Talk to a person", "payload": "talk to a person"}],
            )
        return [SlotSet("failed_answers", 0.0), SlotSet("question_route", "answered")]
