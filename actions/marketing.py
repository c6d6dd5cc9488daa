"""Marketing opt-out (`marketing_opt_out_form`): which channels, and the contact each
one needs, then a record on the suppression list (casework.suppressions).

Objecting to direct marketing is absolute (UK GDPR Art. 21(3), PECR): the assistant
never argues and never asks why. It asks only what the record needs: the e-mail
address for e-mail, the mobile number for texts (known already on SMS), the number
for calls, name and address for post. What the resident said in their first message
("stop texting me, my number is 07700 900987") is used, not asked again.

The words are domain responses (bot/domain.yml, `utter_ask_mkt_*`, `utter_invalid_mkt_*`,
`utter_mkt_*`). The bot never says "done": the landlord's mailing systems are outside
this product, so it says what it recorded and what staff will do by when.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    PLAIN_REASKS,
    CountingFormValidation,
    Validation,
    casework_session,
    clean_text,
    current_org,
    is_sms,
    looks_like_markup_or_payload,
    opening_request,
    parse_name,
    sms_number_of,
    words,
)
from actions.forms import opening_texts as form_opening_texts
from casework import contacts

FORM = "marketing_opt_out_form"
CHANNELS = ("email", "sms", "phone", "post")
# The contact each channel needs, asked in this order.
DETAIL_SLOTS: dict[str, tuple[str, ...]] = {
    "email": ("mkt_email",),
    "sms": ("mkt_mobile",),
    "phone": ("mkt_phone",),
    "post": ("mkt_name", "mkt_address"),
}
FORM_SLOTS = ("mkt_channels", "mkt_email", "mkt_mobile", "mkt_phone", "mkt_name", "mkt_address")
SAID = "mkt_said"  # {slot: the resident's own words}, kept on the ticket
THIS_NUMBER = "this number"  # mkt_phone on SMS: the number the resident texts from

CHANNEL_WORDS: dict[str, set[str]] = {
    "email": {"email", "emails", "emailing", "emailed"},
    "sms": {"sms", "text", "texts", "texting", "texted", "txt", "txts", "txting", "messages"},
    "phone": {"phone", "calls", "call", "calling", "ring", "ringing", "rang", "phoning", "phoned"},
    "post": {"post", "posted", "letter", "letters", "leaflet", "leaflets", "flyers", "brochures"},
}
# Words that mean a spoken call; "phone" alone can be the device a text arrives on.
_CALL_WORDS = CHANNEL_WORDS["phone"] - {"phone"}
_ALL = re.compile(
    r"\b(all of (them|it|those|the above)|the lot|everything|any ?thing|every (way|channel|kind)"
    r"|all (channels|methods|ways|kinds|types|forms))\b"
)
# "my email is ..." gives a contact, it does not name a channel to stop.
_CONTACT_GIVEN = re.compile(
    r"\b(my|the|this|our) (email|phone|mobile|landline|number|text)( address| number)?( is)?\b"
    r"|\S+@\S+"
)
_SAME_NUMBER = re.compile(r"\b(same|this|that|my) (number|one|phone|mobile)\b|^(same|this one)$")


def parse_channels(text: str) -> list[str] | None:
    """'email and texts' -> ['email', 'sms']; 'all of them' -> ['all']; None if none named.

    "all your emails" names one channel; "all", "everything" or "the lot" on their own,
    or after a list ("email, text, post, the lot"), mean every channel."""
    lowered = text.lower().replace("e-mail", "email")
    lowered = re.sub(r"\bjunk mail\b", "post", _CONTACT_GIVEN.sub(" ", lowered))
    tokens = set(words(lowered))
    found = [channel for channel, names in CHANNEL_WORDS.items() if tokens & names]
    if "phone" in found and tokens & CHANNEL_WORDS["sms"] and not tokens & _CALL_WORDS:
        found.remove("phone")  # "stop texting my phone"
    if _ALL.search(lowered) or (not found and tokens & {"all", "any", "both"}):
        return ["all"]
    return found or None


def wanted_channels(value: Any) -> list[str]:
    """The channels a slot value stands for, in a stable order ('all' expanded). A raw
    answer (the form's text before validation) is read the same way as a parsed one."""
    if isinstance(value, str):
        value = parse_channels(value) or []
    if not isinstance(value, list):
        return []
    return list(CHANNELS) if "all" in value else [c for c in CHANNELS if c in value]


def needed_slots(channels: list[str], on_sms: bool) -> list[str]:
    """The contact slots to ask for; on SMS the mobile is the number texting us."""
    slots = [slot for channel in channels for slot in DETAIL_SLOTS[channel]]
    return [s for s in slots if not (on_sms and s == "mkt_mobile")]


def opening_texts(tracker: Tracker) -> list[str]:
    """What the resident said to start this opt-out (actions.forms.opening_texts)."""
    return form_opening_texts(tracker, FORM, FORM_SLOTS)


class ValidateMarketingOptOutForm(CountingFormValidation):
    def name(self) -> str:
        return "validate_marketing_opt_out_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """The channels first, then only the contacts those channels need."""
        channels = wanted_channels(tracker.get_slot("mkt_channels"))
        return ["mkt_channels", *needed_slots(channels, is_sms(tracker))]

    # ------------------------------------------------------------------ extraction

    async def extract_mkt_channels(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Everything the resident has already told us: 'stop texting me offers' names the
        channel; 'my number is 07700 900987' the contact. (One extractor for all the
        form's slots: rasa-sdk calls extractors only for slots already required, and the
        contacts are required only once the channels are known.)"""
        found: dict[str, Any] = {}
        if not tracker.get_slot("mkt_channels"):
            text = opening_request(tracker, "request_marketing_opt_out", "mkt_channels")
            channels = parse_channels(text) if text else None
            if channels:
                found["mkt_channels"] = channels
        channels = wanted_channels(found.get("mkt_channels") or tracker.get_slot("mkt_channels"))
        found.update(self._contacts_already_given(tracker, channels))
        return found

    @staticmethod
    def _candidate_texts(tracker: Tracker) -> list[str]:
        """The opening, and the answer just given (it may carry another detail too:
        "texts, my number is 07700 900987")."""
        texts = opening_texts(tracker)
        if tracker.get_slot("requested_slot") in FORM_SLOTS:
            texts.append(str(tracker.latest_message.get("text") or ""))
        return [t for t in texts if t and not looks_like_markup_or_payload(t)]

    def _contacts_already_given(self, tracker: Tracker, channels: list[str]) -> dict[str, str]:
        requested = tracker.get_slot("requested_slot")
        if requested is not None and requested not in FORM_SLOTS:
            return {}
        found: dict[str, str] = {}
        for text in self._candidate_texts(tracker):
            numbers = contacts.find_uk_phones(text)
            offers = {
                "mkt_email": contacts.parse_email(text) if "email" in channels else None,
                "mkt_mobile": next((n for n in numbers if contacts.is_uk_mobile(n)), None)
                if "sms" in channels
                else None,
                "mkt_phone": next(iter(numbers), None) if "phone" in channels else None,
            }
            for slot, value in offers.items():
                if value and slot != requested and not tracker.get_slot(slot):
                    found.setdefault(slot, value)
        return found

    def _source_text(self, tracker: Tracker, value: str) -> str:
        """The resident's words a detail came from (the opening, or this answer)."""
        latest = str(tracker.latest_message.get("text") or "")
        digits = re.sub(r"\D", "", value)[-9:]
        for text in [latest, *reversed(self._candidate_texts(tracker))]:
            if value.lower() in text.lower() or (digits and digits in re.sub(r"\D", "", text)):
                return text
        return latest

    # ------------------------------------------------------------------ validation

    def reject(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, note: str | None = None
    ) -> Validation:
        """A short re-ask twice (`note`: a response naming what was wrong), then an
        explanation with an example and the ways out (`utter_explain_<slot>`)."""
        counts = dict(tracker.get_slot("failed_attempts") or {})
        counts[slot] = int(counts.get(slot, 0)) + 1
        if counts[slot] <= PLAIN_REASKS:
            dispatcher.utter_message(response=note or f"utter_invalid_{slot}")
        else:
            dispatcher.utter_message(response=f"utter_explain_{slot}")
        return {slot: None, "failed_attempts": counts}

    def accept_said(
        self, tracker: Tracker, slot: str, value: Any, said: str | None = None
    ) -> Validation:
        """Accept, keeping the resident's own words for the ticket."""
        words_said = dict(tracker.get_slot(SAID) or {})
        words_said[slot] = clean_text(
            said if said is not None else self._source_text(tracker, str(value))
        )
        return self.accept(tracker, slot, value, **{SAID: words_said})

    def _text(self, tracker: Tracker, value: Any) -> str | None:
        """The answer, or None when it is markup or a payload (never a valid answer)."""
        text = self.answer_text(tracker, value)
        return None if looks_like_markup_or_payload(text) else text

    def validate_mkt_channels(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        if isinstance(value, list) and value:  # extracted from the opening, already parsed
            return self.accept_said(
                tracker, "mkt_channels", value, " ".join(opening_texts(tracker))
            )
        text = self._text(tracker, value)
        channels = parse_channels(text) if text else None
        if channels is None:
            return self.reject(dispatcher, tracker, "mkt_channels")
        return self.accept_said(tracker, "mkt_channels", channels, text)

    def validate_mkt_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        text = self._text(tracker, value)
        email = contacts.parse_email(text) if text else None
        if email is None:
            return self.reject(dispatcher, tracker, "mkt_email")
        return self.accept_said(tracker, "mkt_email", email)

    def validate_mkt_mobile(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        text = self._text(tracker, value)
        number = contacts.parse_uk_phone(text) if text else None
        if number is None:
            return self.reject(dispatcher, tracker, "mkt_mobile")
        if not contacts.is_uk_mobile(number):  # a landline cannot get texts
            return self.reject(
                dispatcher, tracker, "mkt_mobile", "utter_invalid_mkt_mobile_landline"
            )
        return self.accept_said(tracker, "mkt_mobile", number)

    def validate_mkt_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        text = self._text(tracker, value)
        if text and _SAME_NUMBER.search(text.strip().lower()):
            same = THIS_NUMBER if is_sms(tracker) else tracker.get_slot("mkt_mobile")
            if same:
                return self.accept_said(tracker, "mkt_phone", same, text)
        number = contacts.parse_uk_phone(text) if text else None
        if number is None:
            return self.reject(dispatcher, tracker, "mkt_phone")
        return self.accept_said(tracker, "mkt_phone", number)

    def validate_mkt_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        text = self._text(tracker, value)
        name = parse_name(text) if text else None
        if name is None:
            return self.reject(dispatcher, tracker, "mkt_name")
        return self.accept_said(tracker, "mkt_name", name, text)

    def validate_mkt_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        text = self._text(tracker, value)
        address = contacts.parse_postal_address(text) if text else None
        if address is None:
            return self.reject(dispatcher, tracker, "mkt_address")
        return self.accept_said(tracker, "mkt_address", address, text)


class ActionAskMktPhone(Action):
    """Which number to stop calling. Offers "the same number" when a mobile is known
    (web) or "this number" on SMS, but never assumes it."""

    def name(self) -> str:
        return "action_ask_mkt_phone"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if is_sms(tracker):
            dispatcher.utter_message(response="utter_mkt_ask_phone_sms")
        elif tracker.get_slot("mkt_mobile"):
            mobile = str(tracker.get_slot("mkt_mobile"))
            digits = contacts.last_digits(mobile)
            dispatcher.utter_message(response="utter_mkt_ask_phone_same", digits=digits)
        else:
            dispatcher.utter_message(response="utter_mkt_ask_phone")
        return []


# --------------------------------------------------------------------------- submit


def render(domain: DomainDict, response: str, **values: Any) -> str:
    """A domain response's text with its {placeholders} filled: for the pieces of a
    sentence and for the confirmation text, which are not utterances of their own."""
    text = str(domain["responses"][response][0]["text"])
    return text.format(**values)


def join_words(parts: list[str], last: str = "or") -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + f" {last} " + parts[-1]


class ActionSubmitMarketingOptOut(Action):
    def name(self) -> str:
        return "action_submit_marketing_opt_out"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        resets: list[EventType] = [
            SlotSet(slot, None) for slot in (*FORM_SLOTS, SAID, "failed_attempts")
        ]
        channels = wanted_channels(tracker.get_slot("mkt_channels"))
        with casework_session() as session:
            sms_number = sms_number_of(session, tracker.sender_id)
        given = self._contacts(tracker, channels, sms_number)
        if not channels or set(given) != set(channels):  # a contact missing: record nothing
            dispatcher.utter_message(response="utter_mkt_nothing_changed")
            return resets
        outcome = self._record(tracker, given, sms_number, domain)
        self._tell(dispatcher, domain, tracker, given, sms_number, outcome)
        return resets

    @staticmethod
    def _contacts(tracker: Tracker, channels: list[str], sms_number: str | None) -> dict[str, str]:
        """channel -> the contact to suppress (normalised), for every channel we have one."""
        slot = tracker.get_slot
        phone = slot("mkt_phone")
        values = {
            "email": slot("mkt_email"),
            "sms": sms_number or slot("mkt_mobile"),
            "phone": sms_number if phone == THIS_NUMBER else phone,
            "post": f"{slot('mkt_name')}, {slot('mkt_address')}"
            if slot("mkt_name") and slot("mkt_address")
            else None,
        }
        return {c: str(values[c]) for c in channels if values[c]}

    def _record(
        self, tracker: Tracker, given: dict[str, str], sms_number: str | None, domain: DomainDict
    ) -> dict[str, Any]:
        """The ticket (with the contacts, for staff), a ledger row per channel keyed on
        the contact, and a confirmation text through the outbox: one transaction."""
        from casework import conversations, outbox, suppressions, tickets
        from casework.models import TicketKind
        from casework.pseudonym import pseudonym_secret
        from casework.sar import today_uk
        from casework.sar_clock import add_working_days
        from privacybot.settings import load_settings

        org = current_org()
        settings = load_settings()
        secret = pseudonym_secret(settings)
        policy = org.marketing_opt_out
        remove_by = add_working_days(today_uk(), policy.working_days)
        # An e-mail sender confirms e-mail opt-outs itself; without one staff do.
        automatic = {"email"} if settings.smtp_configured else set()
        routes = [
            policy.confirm_by[c] for c in given if c in policy.confirm_by and c not in automatic
        ]
        with casework_session() as session:
            channel = conversations.channel_of(session, tracker.sender_id)
            ticket = tickets.create_ticket(
                session,
                kind=TicketKind.MARKETING_OPT_OUT,
                org=org.id,
                channel=channel,
                conversation_id=tracker.sender_id,
                contact="; ".join(f"{c}: {v}" for c, v in given.items()),
                contact_method=next(c for c in ("email", "post", "sms", "phone") if c in given),
                summary=_staff_summary(given, remove_by, routes),
                details={
                    "channels": list(given),
                    "contacts": given,
                    "said": dict(tracker.get_slot(SAID) or {}),
                    "remove_by": remove_by.isoformat(),
                    "confirm_by": routes,
                },
            )
            for c, contact in given.items():
                suppressions.record_opt_out(
                    session,
                    org=org.id,
                    channel=c,
                    contact=contact,
                    secret=secret,
                    source="sms" if channel == "sms" else "chat",
                    source_conversation=tracker.sender_id,
                    ticket_reference=ticket.reference,
                )
            values = {
                "org": org.name,
                "reference": ticket.reference,
                "team": org.contact_team,
                "days": policy.working_days,
                "phone": org.contact.get("phone", ""),
            }
            queued: dict[str, str] = {}
            if "sms" in given and sms_number is None:  # on SMS this reply is the confirmation
                queued["sms"] = outbox.queue(
                    session,
                    channel=outbox.SMS,
                    conversation_id=tracker.sender_id,
                    to=given["sms"],
                    body=render(domain, "utter_mkt_confirmation_sms", **values),
                    secret=secret,
                )
            if "email" in given:
                queued["email"] = outbox.queue(
                    session,
                    channel=outbox.EMAIL,
                    conversation_id=tracker.sender_id,
                    to=given["email"],
                    body=render(domain, "utter_mkt_confirmation_email", **values),
                    secret=secret,
                    email_sender=settings.smtp_configured,
                )
            if "sms" in queued:
                ticket.details = {**ticket.details, "confirmation_text": queued["sms"]}
            if "email" in queued:
                ticket.details = {**ticket.details, "confirmation_email": queued["email"]}
            return {
                "reference": ticket.reference,
                "routes": routes,
                "text_status": queued.get("sms"),
                "email_status": queued.get("email"),
                "email_automatic": settings.smtp_configured,
            }

    @staticmethod
    def _tell(
        dispatcher: CollectingDispatcher,
        domain: DomainDict,
        tracker: Tracker,
        given: dict[str, str],
        sms_number: str | None,
        outcome: dict[str, Any],
    ) -> None:
        """Exactly what was recorded, what staff will do and how it is confirmed."""
        org = current_org()
        parts = [_part(domain, c, v, tracker, sms_number) for c, v in given.items()]
        values = {
            "what": join_words(parts),
            "reference": outcome["reference"],
            "team": org.contact_team,
            "days": org.marketing_opt_out.working_days,
        }
        if outcome["routes"]:
            routes = join_words(list(dict.fromkeys(outcome["routes"])), "and")
            dispatcher.utter_message(response="utter_mkt_recorded_confirm", routes=routes, **values)
        else:
            dispatcher.utter_message(response="utter_mkt_recorded", **values)
        digits = contacts.last_digits(given.get("sms", ""))
        if "sms" in given and sms_number:
            dispatcher.utter_message(response="utter_mkt_confirm_this_text")
        elif outcome["text_status"] == "blocked":
            dispatcher.utter_message(response="utter_mkt_confirm_text_blocked", digits=digits)
        elif outcome["text_status"]:
            dispatcher.utter_message(response="utter_mkt_confirm_text_sent", digits=digits)
        if outcome["email_status"]:
            # Sent by the e-mail sender only when one is configured; otherwise staff send it.
            how = "sent" if outcome["email_automatic"] else "staff"
            where = contacts.mask_email(given["email"])
            dispatcher.utter_message(
                response=f"utter_mkt_confirm_email_{how}", where=where, team=org.contact_team
            )
        this_text = "sms" in given and sms_number
        if not (
            outcome["routes"] or outcome["text_status"] or outcome["email_status"] or this_text
        ):
            # Calls only: we will not ring to say we won't ring.
            dispatcher.utter_message(response="utter_mkt_keep_reference")
        dispatcher.utter_message(response="utter_mkt_service_messages")


def _part(
    domain: DomainDict, channel: str, contact: str, tracker: Tracker, sms_number: str | None
) -> str:
    """'e-mails at k…@example.org', 'texts to this number', 'post to Sam Smith at NW9 4EW'."""
    if channel == "email":
        return render(domain, "utter_mkt_part_email", contact=contacts.mask_email(contact))
    if channel in ("sms", "phone") and sms_number and contact == sms_number:
        return render(domain, f"utter_mkt_part_{channel}_here")
    if channel in ("sms", "phone"):
        return render(domain, f"utter_mkt_part_{channel}", digits=contacts.last_digits(contact))
    name = str(tracker.get_slot("mkt_name") or "")
    postcode = contacts.parse_postcode(contact) or ""
    return render(domain, "utter_mkt_part_post", name=name, postcode=postcode)


def _staff_summary(given: dict[str, str], remove_by: date, routes: list[str]) -> str:
    """For the inbox queue: what to suppress where, by when, and how to confirm."""
    what = "; ".join(f"{channel} {contact}" for channel, contact in given.items())
    confirm = f", then confirm by {' and '.join(dict.fromkeys(routes))}" if routes else ""
    return f"Stop marketing: {what}. Take off every list by {remove_by:%d %B %Y}{confirm}."
