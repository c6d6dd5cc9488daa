"""Reading and repeating residents' words: cleaning, markup detection, the one question
detector every action uses, risk words, and dates as the bot writes them."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

MAX_ANSWER_CHARS = 300  # the longest answer to a form question that is stored or repeated

_MARKUP = re.compile(r"[<>{}\[\]`\\]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_text(value: Any, limit: int = MAX_ANSWER_CHARS) -> str:
    """Plain, single-line text safe to store and to repeat back: no markup characters."""
    text = _CONTROL.sub(" ", str(value or ""))
    text = _MARKUP.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()[:limit]


def looks_like_markup_or_payload(text: str) -> bool:
    """HTML, JSON or a Rasa payload typed as text is never a valid answer."""
    stripped = text.strip()
    return bool(
        stripped.startswith(("/", "{", "["))
        or re.search(r"<\s*/?\s*[a-zA-Z!]", stripped)
        or re.search(r"[{}]", stripped)
    )


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


# Words that suggest the resident may be at risk, whatever the classifier made of the
# message: the emergency route is then given first (a false alarm costs one sentence).
_RISK = re.compile(
    r"\b(suicid\w*|kill (my ?self|me)|end (it|my life)|hurt (my ?self|me)|terrified|"
    r"scared|frightened|afraid|unsafe|in danger|abus\w*|domestic (abuse|violence)|"
    r"violen\w*|stalk\w*|threaten\w*|self.harm)\b",
    re.IGNORECASE,
)


def at_risk(text: str) -> bool:
    return bool(_RISK.search(text or ""))


# "is my data sent abroad?", "how do I stop your emails", "can i speak to someone":
# a question mark, a question word first, or a question form inside the sentence.
_QUESTION = re.compile(
    r"\?|^\s*(how|what|whats|why|who|where|when|which|is|are|am|do|does|did|can|could|"
    r"will|would|should|have|has|may)\b|\b(how|what|why|who|where|when|which) "
    r"(do|does|can|could|should|is|are|will|would)\b|"
    r"\b(is (that|it|this)|do i (have|need) to|am i|can i|should i|will (it|that|you))\b",
    re.IGNORECASE,
)


def is_question(text: str) -> bool:
    """'How do I stop marketing emails?' asks; it does not yet tell us to act.

    The one question detector: forms use it before acting on a first message, the
    answer triage before answering instead of starting a flow."""
    return bool(_QUESTION.search(text or ""))


# "if I unsubscribe will I still get repair texts?", "does opting out stop my reminders
# too?", "what happens to my photos if I withdraw?": asking what a request would change,
# before deciding to make it. It names the request, but it is not yet the request.
_WHAT_CHANGES = re.compile(
    r"\bif i\b.{0,80}\b(will|would|do|does|is|are|am|can|could) (i|it|that|this|my|the|they)\b|"
    r"\bif i\b.{0,80}\b(will|would|do|does) you\b|"
    r"\b(will|would|do|does|can|could) i (still|also|lose|miss|keep)\b|"
    r"\b(will|would|do|does) (it|that|this) (still|also|stop|affect|mean|change|remove|delete)\b|"
    r"\b(will|would) you still\b|\bwhat (else )?(happens|stops|changes)\b|"
    r"\b(does|will|would|is) (opting|unsubscribing|withdrawing|taking|pulling|cancell?ing|"
    r"stopping|coming off)\b|"
    r"\bwithout (losing|missing|stopping)\b",
    re.IGNORECASE,
)


def asks_what_changes(text: str) -> bool:
    """A question about the consequences of a request ("if I opt out, will I still get
    rent letters?"): answered, and the request then offered, never started on it."""
    return is_question(text) and bool(_WHAT_CHANGES.search(text or ""))


# "complain", "breach", "how dare you": a grievance, whatever else the message asks.
_GRIEVANCE = re.compile(
    r"complain|complaint|breach|leak|unacceptable|furious|fuming|disgust|angry|"
    r"not happy|unhappy|how dare|sue\b|solicitor|compensation",
    re.IGNORECASE,
)


def states_grievance(text: str) -> bool:
    return bool(_GRIEVANCE.search(text or ""))


# "can I speak to someone", "get a person to ring me", "agent": asking for a person.
ASKS_FOR_PERSON = re.compile(
    r"\b(speak|talk|chat)(ing)? (to|with) (a |an |the |your )?(someone|somebody|person|"
    r"human|staff|member of staff|adviser|advisor|officer|real|team|talk2us)|"
    r"\b(person|human|someone|somebody)\b.{0,20}\b(call|ring|phone|contact) me|"
    r"\b(call|ring|phone|contact) me\b|\bagent\b|\boperator\b",
    re.IGNORECASE,
)
# "stop ignoring me", "this isn't helping", "you keep fobbing me off": the resident has
# given up on the assistant; a person is what helps.
_FRUSTRATION = re.compile(
    r"\bignor(e|es|ed|ing)\b|\bfob(s|bed|bing)? (me )?off|messing me (about|around)|"
    r"wast(e|ing) (of )?(my )?time|\buseless\b|\brubbish\b|\bpointless\b|"
    r"\b(not|isn'?t|isnt|aren'?t|arent) (helping|helpful|listening)|round in circles|"
    r"\b(lying|lied)\b|fed up|sick of|had enough|pathetic|ridiculous",
    re.IGNORECASE,
)


def wants_a_person(text: str) -> bool:
    """Asks for a person, complains, or is fed up with the assistant."""
    text = text or ""
    return bool(
        ASKS_FOR_PERSON.search(text) or _FRUSTRATION.search(text) or _GRIEVANCE.search(text)
    )


# "stop" with what it is about: marketing and the ways we contact people (an opt-out), or
# nothing but this conversation ("stop it", "stop asking me questions": leave it).
_STOP = re.compile(r"\bstop(s|ped|ping)?\b", re.IGNORECASE)
_CONTACT_WORDS = re.compile(
    r"\b(marketing|e-?mails?|emailing|texts?|txts?|texting|sms|messages?|messaging|calls?|"
    r"calling|ringing|phoning|post|letters?|leaflets?|newsletters?|offers?|adverts?|ads|"
    r"promo\w*|mail\w*|spam|junk|sending|contacting|unsubscribe|opt(ing)? out)\b",
    re.IGNORECASE,
)
_CONVERSATION_WORDS = frozenset(
    "stop stops stopped stopping it this that now here there the a form request requests "
    "everything all of asking me questions please pls plz just ok okay right i i'll ill "
    "want to let's lets can we you thanks thank no yes oh and chat conversation whole thing "
    "then for today go on with carry doing do don't dont".split()
)


def stop_is_not_optout(text: str) -> bool:
    """'How can I stop you passing my file to social services?', 'stop ignoring me': "stop"
    about something other than marketing or this conversation. Not a marketing opt-out,
    and not "leave the form" either: it is answered, or handed to a person."""
    text = text or ""
    if not _STOP.search(text) or _CONTACT_WORDS.search(text):
        return False
    return any(word not in _CONVERSATION_WORDS for word in words(text))


def stop_names_contact(text: str) -> bool:
    """'Stop the texts', 'stop sending me those emails': "stop" about the ways we contact
    the resident, which an opt-out covers."""
    text = text or ""
    return bool(_STOP.search(text) and _CONTACT_WORDS.search(text))


# "I got someone else's letter", "you sent me my neighbour's rent statement": a report
# that another person's data reached this resident. A breach for staff, not a request
# for that person's records (a SAR form would record one for someone else).
_SOMEONE_ELSES = re.compile(
    r"\b(some(one|body) else'?s?|another (tenant|resident|person|family|customer)'?s?|"
    r"(an)?other (people|tenants|residents|persons?)'?s?|neighbou?r'?s'?|stranger'?s|"
    r"the wrong (person|tenant|name)|different (person|tenant|name)|not mine|isn'?t mine)",
    re.IGNORECASE,
)
_REACHED_ME = re.compile(
    r"\b(sent|posted|emailed|e-mailed|delivered|given|handed|forwarded|shown|showed) (to )?me\b|"
    r"\bi('ve| have)? (got|received|been sent|was sent|was given|opened|been given)\b|"
    r"\bcame (to|through) (me|my)\b|\b(arrived|turned up|landed) (at|in|on) my\b|"
    r"\bin my (envelope|inbox|post|letter|pack|file|sar|bundle|account)\b|"
    r"\bthrough my (door|letterbox)\b",
    re.IGNORECASE,
)
_ACTING_FOR = re.compile(
    r"on (his|her|their) behalf|power of attorney|\bfor (him|her|them)\b|authori[sz]|"
    r"\bcarer\b|look after",
    re.IGNORECASE,
)


def reports_misdirected_data(text: str) -> bool:
    """Someone else's information was sent or shown to the resident (a data breach)."""
    text = text or ""
    return bool(
        _SOMEONE_ELSES.search(text) and _REACHED_ME.search(text) and not _ACTING_FOR.search(text)
    )


def format_date(day: date) -> str:
    """'Monday 4 January 2027' (no zero padding, no markup)."""
    return f"{day:%A} {day.day} {day:%B %Y}"
