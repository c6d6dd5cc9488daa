"""Marketing opt-out (`marketing_opt_out_form`): recorded at once, per channel.

Objecting to direct marketing is absolute (UK GDPR Art. 21(3), PECR): the assistant
never argues and never asks why. Opt-outs go on the suppression list (the ledger)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    CountingFormValidation,
    Validation,
    casework_session,
    looks_like_markup_or_payload,
    opening_request,
    org_id,
    words,
)

CHANNEL_WORDS: dict[str, set[str]] = {
    "email": {"email", "emails", "e-mail", "e-mails", "newsletter", "newsletters"},
    "sms": {"sms", "text", "texts", "texting", "txt", "txts", "messages"},
    "phone": {"phone", "calls", "call", "calling", "ring", "telephone", "phoning"},
    "post": {"post", "letter", "letters", "leaflet", "leaflets", "junk", "posted", "flyers"},
}
CHANNEL_NAMES = {"email": "email", "sms": "text message", "phone": "phone", "post": "post"}
_ALL = {"all", "everything", "every", "any", "everywhere"}


def parse_channels(text: str) -> list[str] | None:
    """'email and texts' -> ['email', 'sms']; 'all of them' -> ['all']; None if none named."""
    tokens = set(words(text.replace("e-mail", "email")))
    if tokens & _ALL:
        return ["all"]
    found = [channel for channel, names in CHANNEL_WORDS.items() if tokens & names]
    return found or None


def describe(channels: list[str]) -> str:
    names = [CHANNEL_NAMES[c] for c in channels]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


class ValidateMarketingOptOutForm(CountingFormValidation):
    help_texts = {
        "mkt_channels": (
            "Sorry, I didn't recognise a channel there.",
            "Please name one or more of: email, text messages, phone calls, post, "
            'for example "email and texts", or say "all".',
        )
    }

    def name(self) -> str:
        return "validate_marketing_opt_out_form"

    async def extract_mkt_channels(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """'Stop texting me offers' already says which channel: no need to ask."""
        text = opening_request(tracker, "request_marketing_opt_out", "mkt_channels")
        if text is None:
            return {}
        channels = parse_channels(text)
        return {"mkt_channels": channels} if channels else {}

    def validate_mkt_channels(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        if isinstance(value, list) and value:  # extracted above, already parsed
            return self.accept(tracker, "mkt_channels", value)
        text = self.answer_text(tracker, value)
        channels = None if looks_like_markup_or_payload(text) else parse_channels(text)
        if channels is None:
            return self.reject(dispatcher, tracker, "mkt_channels")
        return self.accept(tracker, "mkt_channels", channels)


def source_of(channel: str) -> str:
    return "sms" if channel == "sms" else "chat"


class ActionSubmitMarketingOptOut(Action):
    def name(self) -> str:
        return "action_submit_marketing_opt_out"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        resets: list[EventType] = [SlotSet("mkt_channels", None), SlotSet("failed_attempts", None)]
        wanted = tracker.get_slot("mkt_channels")
        if not wanted or not isinstance(wanted, list):
            dispatcher.utter_message(text="OK, nothing has been changed.")
            return resets
        reference, channels = self._record(tracker.sender_id, wanted)
        dispatcher.utter_message(
            text=f"Done. We've stopped marketing to you by {describe(channels)}, from now on "
            f"(reference {reference}). Staff will also update our other systems."
        )
        dispatcher.utter_message(
            text="You'll still get messages about your tenancy, rent, repairs and safety, "
            "because those are not marketing."
        )
        return resets

    @staticmethod
    def _record(sender_id: str, wanted: list[str]) -> tuple[str, list[str]]:
        from casework import conversations, ledger, tickets
        from casework.models import TicketKind

        channels = ledger.expand_channels(wanted)
        with casework_session() as session:
            channel = conversations.channel_of(session, sender_id)
            ticket = tickets.create_ticket(
                session,
                kind=TicketKind.MARKETING_OPT_OUT,
                org=org_id(),
                channel=channel,
                conversation_id=sender_id,
                summary=f"Stop marketing by {', '.join(channels)}",
                details={"channels": channels},
            )
            ledger.record_marketing_opt_out(
                session,
                subject_key=conversations.subject_key_of(session, sender_id),
                org=org_id(),
                channels=channels,
                source=source_of(channel),
                source_conversation=sender_id,
                ticket_reference=ticket.reference,
            )
            return ticket.reference, channels
