"""The uses of personal information that rest on a resident's consent, per organisation
(`consent_withdrawal` in privacybot/orgs/<org>.yml, drawn from its notices): what a
resident can withdraw consent for, what then stops, and what may go on under another
lawful basis. Light, like privacybot.orgs: the action server and the web side read it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import yaml

from privacybot.orgs import ORGS_DIR

DEFAULT_WORKING_DAYS = 5


@dataclass(frozen=True)
class ConsentUse:
    id: str  # the ledger's purpose (<= 32 characters)
    name: str  # what the resident sees ("photos and publicity")
    words: tuple[str, ...]  # what residents call it (regular expressions, lower case)
    stops: str  # what stops once the withdrawal is acted on
    continues: str  # what may continue under another lawful basis, and why
    notice: str = ""  # the notice that says this use rests on consent

    def named_in(self, text: str) -> bool:
        low = text.lower()
        return low.strip(" .!") == self.name.lower() or any(
            re.search(rf"\b{pattern}", low) for pattern in self.words
        )


@dataclass(frozen=True)
class ConsentWithdrawal:
    working_days: int  # within which staff act on a withdrawal and confirm it
    uses: tuple[ConsentUse, ...]

    def use(self, use_id: str) -> ConsentUse | None:
        return next((u for u in self.uses if u.id == use_id), None)

    def named_in(self, text: str) -> ConsentUse | None:
        """The one configured use the text names, or None (none, or more than one)."""
        named = [u for u in self.uses if u.named_in(text)]
        return named[0] if len(named) == 1 else None


@cache
def consent_withdrawal(org_id: str) -> ConsentWithdrawal:
    path = ORGS_DIR / f"{org_id}.yml"
    raw = (yaml.safe_load(path.read_text()) or {}).get("consent_withdrawal") or {}
    uses = tuple(
        ConsentUse(
            id=str(u["id"])[:32],
            name=str(u["name"]),
            words=tuple(str(w).lower() for w in u.get("words", ())),
            stops=str(u["stops"]).strip(),
            continues=str(u["continues"]).strip(),
            notice=str(u.get("notice", "")),
        )
        for u in raw.get("uses", ())
    )
    return ConsentWithdrawal(
        working_days=int(raw.get("working_days", DEFAULT_WORKING_DAYS)), uses=uses
    )
