"""`action_submit_sar`: the record (a SAR ticket with its statutory clock) and the
receipt, which says what was recorded and what happens next, not more."""

from __future__ import annotations

from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.contact import mask
from actions.deployment import (
    casework_session,
    channel_of,
    current_org,
    is_sms,
    org_id,
    sms_number_of,
)
from actions.forms import SAID_SLOT, said_for
from actions.sar.answers import SAR_SLOTS
from actions.text import clean_text, format_date
from actions.transcript import transcript_of


def _complete(tracker: Tracker, on_sms: bool) -> bool:
    """Every answer the record needs is there (never a half-filled SAR)."""
    needed = ["sar_name", "sar_locator", "sar_scope", "sar_for_someone_else"]
    if tracker.get_slot("sar_for_someone_else") == "other":
        needed.append("sar_subject_name")
    if tracker.get_slot("sar_scope") == "specific":
        needed.append("sar_scope_detail")
    if not on_sms:
        needed += ["sar_contact_method", "sar_contact"]
    return all(tracker.get_slot(slot) for slot in needed)


def scope_of(tracker: Tracker) -> str:
    if tracker.get_slot("sar_scope") == "everything":
        return "everything"
    return clean_text(tracker.get_slot("sar_scope_detail"))


class ActionSubmitSar(Action):
    def name(self) -> str:
        return "action_submit_sar"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        resets = [SlotSet(slot, None) for slot in (*SAR_SLOTS, "failed_attempts", SAID_SLOT)]
        on_sms = is_sms(tracker)
        if tracker.get_slot("sar_confirm") != "yes" or not _complete(tracker, on_sms):
            dispatcher.utter_message(response="utter_sar_not_sent")
            return resets
        reference, due_on, method, contact = self._create(tracker, on_sms)
        org = current_org()
        dispatcher.utter_message(
            response="utter_sar_recorded",
            reference=reference,
            team=org.contact_team,
            due=format_date(due_on) if isinstance(due_on, date) else "within one calendar month",
            reply_to=_reply_route(method, contact),
        )
        return resets

    @staticmethod
    def _create(tracker: Tracker, on_sms: bool) -> tuple[str, Any, str, str | None]:
        from casework.sar import create_sar

        for_other = tracker.get_slot("sar_for_someone_else") == "other"
        with casework_session() as session:
            if on_sms:
                contact, method = sms_number_of(session, tracker.sender_id), "sms"
            else:
                contact = clean_text(tracker.get_slot("sar_contact"), 200)
                method = tracker.get_slot("sar_contact_method")
            ticket = create_sar(
                session,
                org=org_id(),
                channel="sms" if on_sms else channel_of(tracker.sender_id),
                conversation_id=tracker.sender_id,
                requester_name=clean_text(tracker.get_slot("sar_name"), 200),
                contact=contact,
                contact_method=method,
                records_locator=clean_text(tracker.get_slot("sar_locator"), 200),
                scope=scope_of(tracker),
                on_behalf_of=for_other,
                subject_name=clean_text(tracker.get_slot("sar_subject_name"), 200)
                if for_other
                else None,
                transcript=transcript_of(tracker),
                # For every answer, what the resident typed: staff can check the
                # parsed fields against it (and the transcript) before acting.
                details={"said": said_for(tracker, SAR_SLOTS)},
            )
            return ticket.reference, ticket.sar.due_on if ticket.sar else None, method, contact


def _reply_route(method: str, contact: str | None) -> str:
    if method == "sms":
        return "by text to this number"
    where = mask(method, contact)
    return {
        "email": f"by email to {where}",
        "phone": f"by phone on {where}",
        "post": f"by post to {where}",
    }.get(method, "")
