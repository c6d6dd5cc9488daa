"""Organisation (landlord) configuration: one YAML file per deployment in privacybot/orgs/.

Light on purpose: the web process reads it too, and must not load the knowledge index.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

ORGS_DIR = Path(os.environ.get("ORGS_DIR", Path(__file__).resolve().parent / "orgs"))


@dataclass(frozen=True)
class OfficeHours:
    text: str
    days: tuple[int, ...]
    open: str
    close: str
    timezone: str


@dataclass(frozen=True)
class MarketingOptOut:
    """How staff carry out a marketing opt-out the assistant recorded (told to residents)."""

    working_days: int  # to take the contact off every list the landlord markets from
    confirm_by: dict[str, str]  # channel -> how staff confirm when done ("e-mail", "letter")


@dataclass(frozen=True)
class Org:
    id: str
    name: str
    contact_team: str
    contact: dict[str, str]
    office_hours: OfficeHours
    handoff_reply_working_days: int
    emergency: str
    primary_notices: tuple[str, ...]
    secondary_notices: tuple[str, ...]
    # What a resident is told at once while the assistant is down or slow (`holding_reply`).
    holding_reply: str = ""
    # What a resident is told when the dialogue answered a turn with nothing at all
    # (`no_reply`): never silence.
    no_reply: str = ""
    marketing_opt_out: MarketingOptOut = MarketingOptOut(5, {"email": "e-mail", "post": "letter"})
    # The subject line of the confirmations e-mailed through the outbox.
    confirmation_email_subject: str = ""

    @property
    def notices(self) -> tuple[str, ...]:
        return self.primary_notices + self.secondary_notices

    def contact_line(self) -> str:
        """How to reach the landlord's team, in one sentence."""
        parts = []
        if self.contact.get("phone"):
            parts.append(f"phone {self.contact['phone']}")
        if self.contact.get("email"):
            parts.append(f"email {self.contact['email']}")
        return f"You can contact {self.contact_team}: " + " or ".join(parts) + "."


def available_orgs() -> list[str]:
    return sorted(p.stem for p in ORGS_DIR.glob("*.yml"))


@cache
def load_org(org_id: str) -> Org:
    path = ORGS_DIR / f"{org_id}.yml"
    if not path.exists():
        raise KeyError(f"unknown organisation {org_id!r}; known: {', '.join(available_orgs())}")
    raw = yaml.safe_load(path.read_text())
    hours = raw["office_hours"]
    return Org(
        id=raw["id"],
        name=raw["name"],
        contact_team=raw.get("contact_team", raw["name"]),
        contact=dict(raw.get("contact", {})),
        office_hours=OfficeHours(
            text=hours["text"],
            days=tuple(hours.get("days", (0, 1, 2, 3, 4))),
            open=hours.get("open", "09:00"),
            close=hours.get("close", "17:00"),
            timezone=hours.get("timezone", "Europe/London"),
        ),
        handoff_reply_working_days=int(raw.get("handoff_reply_working_days", 2)),
        emergency=raw.get("emergency", "If you are in immediate danger, call 999."),
        primary_notices=tuple(raw["notices"].get("primary", [])),
        secondary_notices=tuple(raw["notices"].get("secondary", []) or []),
        holding_reply=raw.get("holding_reply")
        or "Sorry, I'm having trouble right now. I've kept your message and will answer "
        "here shortly.",
        no_reply=raw.get("no_reply")
        or "Sorry, I couldn't answer that just now. Please try saying it another way, or ask "
        "to speak to a person.",
        marketing_opt_out=_marketing_opt_out(raw.get("marketing_opt_out") or {}),
        confirmation_email_subject=raw.get("confirmation_email_subject")
        or f"{raw['name']}: confirmation of your request",
    )


def _marketing_opt_out(raw: dict[str, object]) -> MarketingOptOut:
    confirm_by = raw.get("confirm_by") or {"email": "e-mail", "post": "letter"}
    if not isinstance(confirm_by, dict):
        raise ValueError("marketing_opt_out.confirm_by must map a channel to a route")
    return MarketingOptOut(
        working_days=int(str(raw.get("working_days", 5))),
        confirm_by={str(k): str(v) for k, v in confirm_by.items()},
    )
