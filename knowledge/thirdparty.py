"""Is the question about ANOTHER organisation's own handling of data?

"is my facebook data safe", "is it safe to save my card on amazon", "does tiktok sell my
data" are privacy questions, so the scope classifier likes them, but the deployment's
notices do not answer them. What marks them is grammar, not a brand list: the other
organisation is the one acting on the data, the one holding the account, or the place
the resident keeps something. An organisation the notices name as a partner or recipient
("does the council share my data", "my MP") is not caught: who counts as "ours" comes
from the words of the notices themselves.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

# Who the resident has a consumer relationship with: a general category, not tuned to
# any question set. Only read in the actor position ("can my bank share ...").
_CONSUMER_HEADS = (
    r"bank|building society|phone company|phone provider|mobile (?:network|provider|company)|"
    r"network provider|broadband (?:provider|company)|internet provider|"
    r"energy (?:supplier|company)|"
    r"gas company|electric(?:ity)? company|insurer|insurance company|employer|boss|gym|"
    r"supermarket|credit card company|doctor|gp|dentist|school|university|uni|"
    r"social media|smart speaker|phone|tv|app"
)
_DATA_VERBS = (
    r"(?:sell|shar|use|us|keep|stor|track|collect|record|listen|spy|spie|read|delet|pass|"
    r"giv|send|steal|hack|know|do|doe|ha|hav)(?:e|es|s|ing|ed)?"
)
_AUX = r"does|do|did|will|would|can|could|is|are|has|have|should|may|might"
_PRONOUNS = frozenset(
    """you u ya ye we they it he she i me your ur their them this that there anyone anybody
    someone somebody everyone people staff housing the a an my our what who which how why
    when where""".split()
)
# Possessions that live with a platform, not with a landlord.
_PLATFORM_THINGS = (
    r"account|accounts|profile|app|recordings|recording|page|feed|messages|chats|photos|"
    r"pictures|posts|history|searches|likes|followers|password|data|info|details|information"
)
_KEEP_ON = re.compile(
    r"\b(?:save|saving|saved|store|storing|stored|keep|keeping|put|putting|leave|leaving|"
    r"upload|uploading|post|posting)\s+(?:my\s+)?(?:\w+\s+){0,2}?"
    r"(?P<thing>card|cards|card details|bank details|photos|pictures|password|passwords|"
    r"details|data|info|videos)\s+(?:on|in|with|to)\s+(?P<org>[a-z0-9&']+)",
    re.IGNORECASE,
)
_ACTOR = re.compile(
    rf"\b(?:{_AUX})\s+(?P<org>(?:my\s+(?:{_CONSUMER_HEADS}))|[a-z0-9&']+)\s+"
    rf"(?:(?:ever|really|actually|still|secretly|just)\s+)?(?:{_DATA_VERBS})\b",
    re.IGNORECASE,
)
_OWN_THING = re.compile(rf"\bmy\s+(?P<org>[a-z0-9&']+)\s+(?:{_PLATFORM_THINGS})\b", re.IGNORECASE)
_DATA_OBJECT = re.compile(
    r"\b(?:my|our|me|us|your)\b.{0,30}\b(?:data|info|information|details|photos|pictures|"
    r"recordings|messages|card|number|address|location|searches|history|conversations)\b|"
    r"\b(?:data|info|information|details)\b",
    re.IGNORECASE,
)
_AT_START_ACTOR = re.compile(
    rf"^\s*(?:what|how|why|where)\s+(?:{_AUX})\s+(?P<org>[a-z0-9&']+)\s+"
    rf"(?:do|does|use|uses|keep|keeps|store|stores|collect|collects)\b",
    re.IGNORECASE,
)


def proper_names(texts: Iterable[str]) -> set[str]:
    """Words the notices write with a capital mid-sentence nearly always (Amazon, Google)."""
    cap: dict[str, int] = {}
    seen: dict[str, int] = {}
    for text in texts:
        for m in re.finditer(r"(?<=[a-z,;] )([A-Za-z][a-z0-9]+)\b", text):
            w = m.group(1)
            seen[w.lower()] = seen.get(w.lower(), 0) + 1
            cap[w.lower()] = cap.get(w.lower(), 0) + w[0].isupper()
    return {w for w, n in seen.items() if cap[w] / n >= 0.8}


class ThirdPartyCheck:
    """Built once per index from the notices' words and the deployment's own names."""

    def __init__(
        self, known_words: Iterable[str], own_words: Iterable[str], names: Iterable[str] = ()
    ) -> None:
        self.known = frozenset(w.lower() for w in known_words)
        self.own = frozenset(w.lower() for w in own_words)
        self.names = frozenset(w.lower() for w in names) - self.own
        self._known_list = sorted(self.known)

    def _foreign(self, word: str) -> bool:
        """A name the notices never use (and not a misspelling of a word they use)."""
        w = word.lower().strip("'")
        if len(w) < 3 or w in self.own or w in _PRONOUNS or w in self.known:
            return False
        if w.isdigit():
            return False
        return not difflib.get_close_matches(w, self._known_list, n=1, cutoff=0.8)

    def _outside(self, org: str, consumer_ok: bool, named_ok: bool = False) -> bool:
        low = org.lower()
        if consumer_ok and low.startswith("my "):
            return True
        if low in self.own:
            return False
        return (named_ok and low in self.names) or self._foreign(low)

    def about_other_company(self, text: str) -> bool:
        # An unknown word as the actor counts only when data is the object ("will workmen
        # know to wait" is about a visit, "does tiktok sell my data" is not).
        data = bool(_DATA_OBJECT.search(text))
        for m in _ACTOR.finditer(text):
            if data and self._outside(m.group("org"), consumer_ok=True):
                return True
        # "my google account": the account is Google's even though the notices name Google.
        for m in _OWN_THING.finditer(text):
            if self._outside(m.group("org"), consumer_ok=False, named_ok=True):
                return True
        for m in _AT_START_ACTOR.finditer(text):
            if self._outside(m.group("org"), consumer_ok=False):
                return True
        for m in _KEEP_ON.finditer(text):
            org = m.group("org").lower()
            # Somewhere the resident keeps a card: another company unless it is ours.
            # An unknown place counts for payment things only ("my data on file" is ours).
            card = m.group("thing").lower().startswith(("card", "bank", "password"))
            if org not in self.own and (org in self.names or (card and self._foreign(org))):
                return True
        return False
