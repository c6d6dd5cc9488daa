"""Withdrawing consent (`consent_withdrawal_form`): as easy as giving it (UK GDPR
Art. 7(3)). Recorded in the ledger at once; a ticket lets staff act on it in the
landlord's systems. The resident is told what stops and what may continue under
another lawful basis."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    CountingFormValidation,
    Validation,
    casework_session,
    clean_text,
    looks_like_markup_or_payload,
    opening_request,
    org_id,
    words,
)

PURPOSE_PATTERNS: tuple[tuple[str, str], ...] = (
    ("rent_help", r"rent.?(management|help|support|advice)|money advice|budget|twenty11 rent"),
    ("recordings", r"record|teams|call recording|video call"),
    ("photos", r"photo|picture|pic|image|publicity|film|video|newsletter|social media"),
    ("diversity", r"diversity|equalit|ethnic|religio|sexual|disabilit|gender|nationality"),
    ("analytics_cookies", r"cookie|analytic|tracking|website"),
    ("other", r"something else|\bother\b|^else$"),
)

PURPOSE_NAMES = {
    "photos": "photos and publicity",
    "recordings": "call and Teams recordings",
    "diversity": "diversity information",
    "analytics_cookies": "website analytics cookies",
    "rent_help": "rent-management help",
    "other": "what you described",
}

# What stops now, and what may continue under another lawful basis.
WHAT_CHANGES = {
    "photos": (
        "We'll stop using photos or videos of you for publicity from now on.",
        "Anything already printed can't be recalled, but it won't be used again.",
    ),
    "recordings": (
        "We'll stop recording your calls and Teams meetings where that relies on consent.",
        "Recordings we must keep for a legal duty, such as evidence in a complaint, "
        "may be kept for their set time.",
    ),
    "diversity": (
        "We'll stop using your diversity information and remove it from your record.",
        "Anonymous totals that no longer identify you may still be used to check our "
        "services are fair.",
    ),
    "analytics_cookies": (
        "We'll stop analytics cookies for you. You can also clear cookies in your browser.",
        "Strictly necessary cookies keep working, because the website needs them.",
    ),
    "rent_help": (
        "We'll stop sharing your details for rent-management help.",
        "Collecting rent and managing your tenancy continue, because they are part of "
        "your tenancy agreement.",
    ),
    "other": (
        "Staff will stop that use where it relies on your consent.",
        "If we must keep doing something for another reason, such as a legal duty or your "
        "tenancy agreement, staff will tell you what and why.",
    ),
}


def parse_purpose(text: str) -> str | None:
    lowered = text.lower()
    for purpose, pattern in PURPOSE_PATTERNS:
        if re.search(pattern, lowered):
            return purpose
    return None


def offered_purposes(org: str) -> list[str]:
    """Rent-management help is a consent-based service of Twenty11 only."""
    purposes = ["photos", "recordings", "diversity", "analytics_cookies"]
    if org == "twenty11":
        purposes.append("rent_help")
    return [*purposes, "other"]


class ValidateConsentWithdrawalForm(CountingFormValidation):
    help_texts = {
        "consent_purpose": (
            "Sorry, I didn't recognise that.",
            'Please name one, for example "photos", "call recordings", "diversity '
            'information", "cookies", or say "something else".',
        ),
        "consent_detail": (
            "Sorry, I need a few words about it.",
            'Please describe it in a few words, for example "using my case study on your website".',
        ),
    }

    def name(self) -> str:
        return "validate_consent_withdrawal_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if tracker.get_slot("consent_purpose") == "other":
            return ["consent_purpose", "consent_detail"]
        return ["consent_purpose"]

    async def extract_consent_purpose(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """'Stop using my photos' already says what: no need to ask."""
        text = opening_request(tracker, "request_consent_withdrawal", "consent_purpose")
        if text is None:
            return {}
        purpose = parse_purpose(text)
        if purpose in (None, "other") or purpose not in offered_purposes(org_id()):
            return {}
        return {"consent_purpose": purpose}

    def validate_consent_purpose(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        text = self.answer_text(tracker, value)
        if looks_like_markup_or_payload(text):
            return self.reject(dispatcher, tracker, "consent_purpose")
        purpose = value if value in PURPOSE_NAMES else parse_purpose(text)
        if purpose is None and len(words(text)) >= 3:  # described in their own words
            return self.accept(tracker, "consent_purpose", "other", consent_detail=clean_text(text))
        if purpose is None:
            return self.reject(dispatcher, tracker, "consent_purpose")
        return self.accept(tracker, "consent_purpose", purpose)

    def validate_consent_detail(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        text = self.answer_text(tracker, value)
        detail = clean_text(text)
        if looks_like_markup_or_payload(text) or len(words(detail)) < 1 or len(detail) < 3:
            return self.reject(dispatcher, tracker, "consent_detail")
        return self.accept(tracker, "consent_detail", detail)


class ActionAskConsentPurpose(Action):
    def name(self) -> str:
        return "action_ask_consent_purpose"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        purposes = offered_purposes(org_id())
        names = [PURPOSE_NAMES[p] if p != "other" else "something else" for p in purposes]
        dispatcher.utter_message(
            text="Which use of your information would you like us to stop? "
            f"For example: {', '.join(names[:-1])}, or {names[-1]}.",
            buttons=[{"title": n[:1].upper() + n[1:], "payload": n} for n in names],
        )
        return []


class ActionSubmitConsentWithdrawal(Action):
    def name(self) -> str:
        return "action_submit_consent_withdrawal"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        resets: list[EventType] = [
            SlotSet("consent_purpose", None),
            SlotSet("consent_detail", None),
            SlotSet("failed_attempts", None),
        ]
        purpose = tracker.get_slot("consent_purpose")
        detail = tracker.get_slot("consent_detail")
        if purpose not in WHAT_CHANGES or (purpose == "other" and not detail):
            dispatcher.utter_message(text="OK, nothing has been changed.")
            return resets
        reference = self._record(tracker.sender_id, purpose, clean_text(detail) or None)
        stops, continues = WHAT_CHANGES[purpose]
        dispatcher.utter_message(
            text=f"Done. I've recorded that you withdraw consent for {PURPOSE_NAMES[purpose]} "
            f"(reference {reference}). {stops}"
        )
        dispatcher.utter_message(
            text=f"{continues} Your tenancy and our services carry on as normal."
        )
        return resets

    @staticmethod
    def _record(sender_id: str, purpose: str, detail: str | None) -> str:
        from casework import conversations, ledger, tickets
        from casework.models import TicketKind

        with casework_session() as session:
            channel = conversations.channel_of(session, sender_id)
            summary = f"Consent withdrawn: {PURPOSE_NAMES[purpose]}"
            if detail:
                summary += f" ({detail})"
            ticket = tickets.create_ticket(
                session,
                kind=TicketKind.CONSENT_WITHDRAWAL,
                org=org_id(),
                channel=channel,
                conversation_id=sender_id,
                summary=summary,
                details={"purpose": purpose, "description": detail},
            )
            ledger.record(
                session,
                subject_key=conversations.subject_key_of(session, sender_id),
                org=org_id(),
                purpose=purpose,
                decision="withdrawn",
                source="sms" if channel == "sms" else "chat",
                source_conversation=sender_id,
                ticket_reference=ticket.reference,
            )
            return ticket.reference
