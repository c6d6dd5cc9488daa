"""Withdrawing consent (`consent_withdrawal_form`): as easy as giving it (UK GDPR
Art. 7(3)).

Which use is asked when the resident did not name one (buttons from the organisation's
configured consent-based uses, plus "something else" in their own words; never a
default), then who they are (full name, and address or tenancy reference) and how to
confirm it to them. Recorded in the ledger at once; the ticket lets staff act on it in
the landlord's systems, so the bot says what staff will do and by when, not "done"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.contact import mask
from actions.deployment import casework_session, current_org, is_sms, org_id, sms_number_of
from actions.forms import (
    SAID_SLOT,
    ContactFormValidation,
    ContactSlots,
    Validation,
    latest_text,
    opening_request,
    said_for,
    unusable,
    validates,
)
from actions.marketing import render
from actions.parsers import parse_locator, parse_name
from actions.text import clean_text, words
from actions.transcript import transcript_of
from privacybot.consent_uses import ConsentUse, ConsentWithdrawal, consent_withdrawal

CONSENT_SLOTS = (
    "consent_purpose",
    "consent_detail",
    "consent_name",
    "consent_locator",
    "consent_contact_method",
    "consent_contact",
)
OTHER = "other"  # "something else", described in the resident's own words
# How a withdrawal is confirmed to a web resident (on SMS: a text to that number).
CONFIRM_METHODS = ("email", "sms", "post")
_SOMETHING_ELSE = {"something else", "else", "other", "something different", "none of these"}


def uses() -> ConsentWithdrawal:
    return consent_withdrawal(org_id())


def parse_purpose(text: str, config: ConsentWithdrawal) -> str | None:
    """A configured use's id, OTHER for "something else", or None."""
    use = config.named_in(text)
    if use:
        return use.id
    if clean_text(text).lower().strip(" .!") in _SOMETHING_ELSE:
        return OTHER
    return None


class ValidateConsentWithdrawalForm(ContactFormValidation):
    contact_slots = ContactSlots(
        "consent_contact_method", "consent_contact", "consent_locator", CONFIRM_METHODS, "email"
    )
    validate_consent_name = validates("consent_name", parse_name)
    validate_consent_locator = validates("consent_locator", parse_locator)
    validate_consent_contact_method = ContactFormValidation.validate_contact_method
    validate_consent_contact = ContactFormValidation.validate_contact

    def name(self) -> str:
        return "validate_consent_withdrawal_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        slots = ["consent_purpose"]
        if tracker.get_slot("consent_purpose") == OTHER:
            slots.append("consent_detail")
        slots += ["consent_name", "consent_locator"]
        if not is_sms(tracker):  # on SMS the confirmation goes to the number it came from
            slots += ["consent_contact_method", "consent_contact"]
        return slots

    async def extract_consent_purpose(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """'Stop using my photos' already says which use: no need to ask. A message that
        names none of the configured uses is asked about, never given a default."""
        text = opening_request(tracker, "request_consent_withdrawal", "consent_purpose")
        if text is None or unusable(text):
            return {}
        use = uses().named_in(text)
        return {"consent_purpose": use.id} if use else {}

    def validate_consent_purpose(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        config = uses()
        opening = not tracker.get_slot("requested_slot")
        if opening and config.use(str(value)):  # extracted from the first message
            return self.accept(tracker, "consent_purpose", value, said=latest_text(tracker))
        text = self.answer_text(tracker, value)
        if unusable(text):
            return self.reject(dispatcher, tracker, "consent_purpose")
        purpose = parse_purpose(text, config)
        if purpose is None and len(words(text)) >= 3:  # described in their own words
            detail = clean_text(text)
            return self.accept(tracker, "consent_purpose", OTHER, said=text, consent_detail=detail)
        if purpose is None:
            return self.reject(dispatcher, tracker, "consent_purpose")
        return self.accept(tracker, "consent_purpose", purpose, said=text)

    def validate_consent_detail(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Validation:
        def detail(text: str) -> str | None:
            cleaned = clean_text(text)
            return cleaned if len(cleaned) >= 3 and words(cleaned) else None

        return self.check(dispatcher, tracker, "consent_detail", value, detail)


class ActionAskConsentPurpose(Action):
    """Buttons for the organisation's configured uses, and "something else"."""

    def name(self) -> str:
        return "action_ask_consent_purpose"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        names = [use.name for use in uses().uses]
        buttons = [{"title": n[:1].upper() + n[1:], "payload": n} for n in names]
        buttons.append({"title": "Something else", "payload": "something else"})
        dispatcher.utter_message(
            response="utter_ask_consent_purpose", buttons=buttons, uses="; ".join(names)
        )
        return []


class ActionSubmitConsentWithdrawal(Action):
    def name(self) -> str:
        return "action_submit_consent_withdrawal"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        resets = [SlotSet(slot, None) for slot in (*CONSENT_SLOTS, "failed_attempts", SAID_SLOT)]
        config = uses()
        purpose = tracker.get_slot("consent_purpose")
        use = config.use(purpose or "")
        on_sms = is_sms(tracker)
        if not _complete(tracker, use, on_sms):
            dispatcher.utter_message(response="utter_consent_not_recorded")
            return resets
        outcome = self._record(tracker, use, config, on_sms, domain)
        if outcome is None:  # no contact we can key the withdrawal on or confirm to
            dispatcher.utter_message(response="utter_consent_not_recorded")
            return resets
        org = current_org()
        dispatcher.utter_message(
            response="utter_consent_recorded",
            use_name=_use_name(tracker, use),
            reference=outcome.reference,
            team=org.contact_team,
            days=config.working_days,
        )
        _tell_confirmation(dispatcher, outcome, on_sms, config.working_days)
        if use:
            dispatcher.utter_message(
                response="utter_consent_what_changes", stops=use.stops, continues=use.continues
            )
        else:
            dispatcher.utter_message(response="utter_consent_what_changes_other")
        return resets

    @staticmethod
    def _record(
        tracker: Tracker,
        use: ConsentUse | None,
        config: ConsentWithdrawal,
        on_sms: bool,
        domain: DomainDict,
    ) -> Recorded | None:
        """The ticket (name, records locator and contact, for staff), a ledger row keyed
        on the resident's contact (like a suppression, so a lookup by that contact finds
        it) and the written confirmation in the outbox: one transaction."""
        from casework import conversations, ledger, outbox, suppressions, tickets
        from casework.models import TicketKind
        from casework.pseudonym import pseudonym_secret
        from privacybot.settings import load_settings

        sender = tracker.sender_id
        settings = load_settings()
        secret = pseudonym_secret(settings)
        purpose = use.id if use else OTHER
        detail = clean_text(tracker.get_slot("consent_detail")) or None
        name = clean_text(tracker.get_slot("consent_name"), 200)
        locator = clean_text(tracker.get_slot("consent_locator"), 200)
        with casework_session() as session:
            if on_sms:
                method, contact = "sms", sms_number_of(session, sender)
            else:
                method = tracker.get_slot("consent_contact_method")
                contact = clean_text(tracker.get_slot("consent_contact"), 200)
            try:
                key = suppressions.key_for(method, contact or "", secret)
            except suppressions.InvalidContact:
                return None
            channel = conversations.channel_of(session, sender)
            what = use.name if use else f"something else ({detail})"
            ticket = tickets.create_ticket(
                session,
                kind=TicketKind.CONSENT_WITHDRAWAL,
                org=org_id(),
                channel=channel,
                conversation_id=sender,
                contact=contact,
                contact_method=method,
                summary=f"Consent withdrawn: {what}, by {name} ({locator})",
                details={
                    "purpose": purpose,
                    "use_name": use.name if use else None,
                    "description": detail,
                    "name": name,
                    "records_locator": locator,
                    "act_within_working_days": config.working_days,
                    # For every answer, what the resident typed.
                    "said": said_for(tracker, CONSENT_SLOTS),
                },
                transcript=transcript_of(tracker),
            )
            ledger.record(
                session,
                subject_key=key,
                org=org_id(),
                purpose=purpose,
                decision="withdrawn",
                source="sms" if channel == "sms" else "chat",
                source_conversation=sender,
                ticket_reference=ticket.reference,
            )
            status = None
            if method in outbox.CHANNELS and not on_sms:  # on SMS this reply confirms it
                body = _confirmation_body(domain, method, tracker, use, ticket.reference, config)
                status = outbox.queue(
                    session,
                    channel=method,
                    conversation_id=sender,
                    to=str(contact),
                    body=body,
                    secret=secret,
                    email_sender=settings.smtp_configured,
                )
                ticket.details = {**ticket.details, "confirmation": {method: status}}
            automatic = method == "sms" or (method == "email" and settings.smtp_configured)
            return Recorded(ticket.reference, method, str(contact), status, automatic)


@dataclass(frozen=True)
class Recorded:
    reference: str
    method: str
    contact: str
    outbox_status: str | None  # None: nothing queued (post, or the SMS reply itself)
    sent_by_outbox: bool = False  # a sender of its channel delivers it (not staff)


def _use_name(tracker: Tracker, use: ConsentUse | None) -> str:
    return use.name if use else f'"{clean_text(tracker.get_slot("consent_detail"))}"'


def _confirmation_body(
    domain: DomainDict,
    method: str,
    tracker: Tracker,
    use: ConsentUse | None,
    reference: str,
    config: ConsentWithdrawal,
) -> str:
    org = current_org()
    return render(
        domain,
        f"utter_consent_confirmation_{method}",
        org=org.name,
        use_name=_use_name(tracker, use),
        reference=reference,
        team=org.contact_team,
        days=config.working_days,
        phone=org.contact.get("phone", ""),
    )


def _tell_confirmation(
    dispatcher: CollectingDispatcher, outcome: Recorded, on_sms: bool, days: int
) -> None:
    """How the withdrawal is confirmed in writing, or why the bot cannot do it itself."""
    team = current_org().contact_team
    where = mask(outcome.method, outcome.contact)
    if on_sms:
        dispatcher.utter_message(response="utter_consent_confirm_this_text")
    elif outcome.outbox_status == "blocked":
        dispatcher.utter_message(
            response="utter_consent_confirm_text_blocked", digits=outcome.contact[-3:]
        )
    elif outcome.method == "sms":
        dispatcher.utter_message(
            response="utter_consent_confirm_text_sent", digits=outcome.contact[-3:]
        )
    elif outcome.method == "email" and outcome.sent_by_outbox:
        dispatcher.utter_message(response="utter_consent_confirm_email_sent", where=where)
    elif outcome.method == "email":
        dispatcher.utter_message(
            response="utter_consent_confirm_email_queued", where=where, team=team, days=days
        )
    else:
        dispatcher.utter_message(
            response="utter_consent_confirm_post", where=where, team=team, days=days
        )


def _complete(tracker: Tracker, use: ConsentUse | None, on_sms: bool) -> bool:
    """Never a record without the use (or its description), the person and a contact."""
    purpose = tracker.get_slot("consent_purpose")
    if use is None and not (purpose == OTHER and tracker.get_slot("consent_detail")):
        return False
    needed = ["consent_name", "consent_locator"]
    if not on_sms:
        needed += ["consent_contact_method", "consent_contact"]
    return all(tracker.get_slot(slot) for slot in needed)
