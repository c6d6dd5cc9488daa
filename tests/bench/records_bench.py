"""Wrong records: scripted residents drive the web chat (`POST /api/chat`, as a browser
does) or text in (`channel: sms`: signed `POST /sms/inbound`, as Twilio does), then the
tickets and ledger rows their conversations made are compared with what each resident
meant (tests/bench/data/records_residents.yaml). A record is wrong when its kind,
channels, contacts, use (purpose), person or scope differ from what was said, when
staff looking its contact up (`GET /api/suppressions`, `found_by`) do not find it, when
a record meant is missing, or when one was made that nobody asked for, or when the
written confirmation (`confirmations`: [channel, address] of the outbox rows the
conversation queued) does not go to the contact the resident gave. Target: 0."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests
import yaml
from sqlalchemy import select

RESIDENTS = Path(__file__).parent / "data" / "records_residents.yaml"
# What a record must match, where the resident's script says what they meant.
FIELDS = (
    "channels",
    "contacts",
    "purpose",
    "name",
    "contact",
    "scope",
    "on_behalf_of",
    "subject_name",
    "confirmations",
)


def load_residents(path: Path = RESIDENTS) -> list[dict[str, Any]]:
    return list(yaml.safe_load(path.read_text()) or [])


def converse(web_url: str, messages: list[str]) -> str:
    """Say each message in one new web conversation; returns its id."""
    conversation_id: str | None = None
    for text in messages:
        body: dict[str, Any] = {"text": text}
        if conversation_id:
            body["conversation_id"] = conversation_id
        response = requests.post(f"{web_url}/api/chat", json=body, timeout=120)
        response.raise_for_status()
        conversation_id = response.json()["conversation_id"]
    assert conversation_id
    return conversation_id


def converse_by_sms(stack: Any, phone: str, messages: list[str]) -> str:
    """Text each message from `phone`, waiting for each answer; returns the conversation id."""
    from twilio.request_validator import RequestValidator

    from casework.db import session_scope
    from casework.models import Message
    from tests.bench.load_bench import wait_answered
    from tests.bench.web_bench import inbound_sms

    validator = RequestValidator(stack.settings.twilio_auth_token)
    signed_url = stack.settings.public_base_url + "/sms/inbound"
    account = stack.env.get("TWILIO_ACCOUNT_SID") or "AC" + "0" * 32
    sid = ""
    for text in messages:
        params = inbound_sms(account, phone, text)
        headers = {"X-Twilio-Signature": validator.compute_signature(signed_url, params)}
        response = requests.post(
            f"{stack.web_url}/sms/inbound", data=params, headers=headers, timeout=120
        )
        response.raise_for_status()
        sid = params["MessageSid"]
        wait_answered(stack.database_url, sid)
    with session_scope(stack.database_url) as session:
        conversation_id = session.scalar(
            select(Message.conversation_id).where(Message.external_id == sid)
        )
    assert conversation_id, f"no conversation for the texts from {phone}"
    return str(conversation_id)


def staff_headers(database_url: str) -> dict[str, str]:
    """A bearer token for the bench's own staff account (added once per database)."""
    from casework import staff
    from casework.db import session_scope

    with session_scope(database_url) as session:
        staff.add_or_update(session, "bench-lookup@example.org", "bench password", "agent", "B")
        token = staff.issue_token(session, "bench-lookup@example.org")
    return {"Authorization": f"Bearer {token}"}


def lookup(web_url: str, headers: dict[str, str], channel: str, contact: str) -> dict[str, Any]:
    """What staff see when they look a contact up, as they would type it."""
    response = requests.get(
        f"{web_url}/api/suppressions",
        params={"channel": channel, "contact": contact},
        headers=headers,
        timeout=30,
    )
    response.raise_for_status()
    return dict(response.json())


def lookup_problems(
    intended: dict[str, Any], record: dict[str, Any], looked_up: dict[str, Any]
) -> list[str]:
    """Does the staff lookup of `found_by` find this record: the opt-out (suppressed,
    under its reference) or the withdrawal (the use, under its reference)?"""
    where = f"{intended['found_by']['channel']} {intended['found_by']['contact']!r}"
    if intended["kind"] == "marketing_opt_out":
        if looked_up.get("suppressed") and looked_up.get("reference") == record["reference"]:
            return []
        return [f"lookup {where} does not find {record['reference']}"]
    withdrawn = {(w["purpose"], w["reference"]) for w in looked_up.get("consent_withdrawn", [])}
    if (record["purpose"], record["reference"]) in withdrawn:
        return []
    return [f"lookup {where} does not find the withdrawal {record['reference']}"]


def records_of(database_url: str, conversation_id: str) -> list[dict[str, Any]]:
    """Each ticket of the conversation with what a comparison needs, and its ledger rows."""
    from casework.db import session_scope
    from casework.models import ConsentEvent, OutboundMessage, Ticket

    with session_scope(database_url) as session:
        tickets = session.query(Ticket).filter(Ticket.conversation_id == conversation_id).all()
        # Web conversations queue outbox rows only for written confirmations.
        queued = (
            session.query(OutboundMessage.channel, OutboundMessage.to)
            .filter(OutboundMessage.conversation_id == conversation_id)
            .all()
        )
        rows = (
            session.query(ConsentEvent)
            .filter(ConsentEvent.source_conversation == conversation_id)
            .all()
        )
        found = []
        for ticket in tickets:
            details = dict(ticket.details or {})
            found.append(
                {
                    "kind": ticket.kind.value,
                    "reference": ticket.reference,
                    "channels": sorted(details.get("channels") or []),
                    "contacts": details.get("contacts") or {},
                    "purpose": details.get("purpose"),
                    "name": details.get("name"),
                    "contact": ticket.contact,
                    "scope": ticket.sar.scope if ticket.sar else None,
                    "on_behalf_of": ticket.sar.on_behalf_of if ticket.sar else None,
                    "subject_name": ticket.sar.subject_name if ticket.sar else None,
                    "confirmations": sorted([channel, to] for channel, to in queued),
                    "ledger": sorted(
                        (r.purpose, r.channel or "")
                        for r in rows
                        if r.ticket_reference == ticket.reference
                    ),
                }
            )
        return found


def problems(intended: dict[str, Any], found: list[dict[str, Any]]) -> list[str]:
    """How the records differ from what the resident meant ([] when right)."""
    kind = intended["kind"]
    if kind == "none":
        return [f"unasked-for {r['kind']} record {r['reference']}" for r in found]
    if len(found) != 1:
        return [f"{len(found)} records, meant one {kind}"]
    [record] = found
    if record["kind"] != kind:
        return [f"kind {record['kind']}, meant {kind}"]
    wrong = []
    for field in FIELDS:
        if field in intended and record[field] != _expected(field, intended[field]):
            wrong.append(f"{field} {record[field]!r}, meant {intended[field]!r}")
    expected_ledger = _ledger(intended)
    if expected_ledger is not None and record["ledger"] != expected_ledger:
        wrong.append(f"ledger {record['ledger']}, meant {expected_ledger}")
    return wrong


def _expected(field: str, value: Any) -> Any:
    return sorted(value) if field in ("channels", "confirmations") else value


def _ledger(intended: dict[str, Any]) -> list[tuple[str, str]] | None:
    if intended["kind"] == "marketing_opt_out":
        return sorted(("marketing", c) for c in intended["channels"])
    if intended["kind"] == "consent_withdrawal":
        return [(intended["purpose"], "")]
    return None


def field_of(problem: str) -> str:
    """Which part of a record a problem is about: a field of FIELDS, kind, ledger,
    missing (no record, or several, where one was meant) or unasked (one nobody meant)."""
    first = problem.split(" ", 1)[0]
    if first in (*FIELDS, "kind", "ledger", "lookup"):
        return first
    return "unasked" if first == "unasked-for" else "missing"


def wrong_by_field(wrong: list[dict[str, Any]]) -> dict[str, int]:
    """Wrong records counted per field (a record wrong in two fields counts in both)."""
    counts = dict.fromkeys((*FIELDS, "kind", "ledger", "lookup", "missing", "unasked"), 0)
    for entry in wrong:
        for field in {field_of(p) for p in entry["problems"]}:
            counts[field] += 1
    return counts


def run_records_bench(stack: Any) -> dict[str, Any]:
    """`stack`: a privacybot.runner.Stack (web_url, database_url, settings, env)."""
    residents = load_residents()
    headers = staff_headers(stack.database_url)
    wrong: list[dict[str, Any]] = []
    for resident in residents:
        if resident.get("channel") == "sms":
            conversation_id = converse_by_sms(stack, resident["from"], resident["messages"])
        else:
            conversation_id = converse(stack.web_url, resident["messages"])
        intended = resident["intended"]
        records = records_of(stack.database_url, conversation_id)
        found = problems(intended, records)
        if not found and "found_by" in intended:
            by = intended["found_by"]
            looked_up = lookup(stack.web_url, headers, by["channel"], by["contact"])
            found = lookup_problems(intended, records[0], looked_up)
        if found:
            wrong.append({"resident": resident["id"], "problems": found})
    return {
        "residents": len(residents),
        "records_meant": sum(r["intended"]["kind"] != "none" for r in residents),
        "wrong_records": len(wrong),
        "target": 0,
        "wrong_by_field": wrong_by_field(wrong),
        "wrong": wrong,
    }
