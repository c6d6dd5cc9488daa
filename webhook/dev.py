"""Development only: play a resident's phone. Registered only with DEV_TOOLS=1 (never
in production), and then it answers only loopback clients that did not come through a
proxy: it signs forged inbound SMS and shows any number's texts.

The page sends real, signed Twilio-style requests to /sms/inbound. The signature is
computed here with the auth token (the browser never sees it) over the same public
URL the webhook validates against, so the whole SMS path runs as it would for Twilio.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from typing import Any

from flask import Blueprint, abort, jsonify, render_template, request
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from casework.models import Conversation, Message
from casework.pseudonym import normalise_phone, subject_key
from webhook import outbox
from webhook.errors import error_response
from webhook.state import state

bp = Blueprint("dev", __name__, url_prefix="/dev")
_PHONE = re.compile(r"^\+?[0-9 ()-]{6,20}$")
# Headers a reverse proxy adds: behind one, every client would look like loopback.
_PROXY_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")


def _is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


@bp.before_request
def loopback_only() -> None:
    """As if the pages did not exist for anyone but the developer at this machine."""
    if not _is_loopback(request.remote_addr) or any(h in request.headers for h in _PROXY_HEADERS):
        abort(404)


@bp.get("/phone")
def phone() -> str:
    st = state()
    return render_template(
        "dev/phone.html",
        org=st.org,
        to_number=st.settings.twilio_from_number,
        twilio_live=st.settings.twilio_configured,
    )


def signed_inbound(phone_number: str, body: str) -> dict[str, Any]:
    """A Twilio messaging webhook request: form fields and their X-Twilio-Signature."""
    st = state()
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": st.settings.twilio_account_sid or "AC" + "0" * 32,
        "From": normalise_phone(phone_number),
        "To": st.settings.twilio_from_number,
        "Body": body,
        "NumMedia": "0",
    }
    url = st.settings.public_base_url + "/sms/inbound"
    signature = RequestValidator(st.settings.twilio_auth_token).compute_signature(url, params)
    return {"url": "/sms/inbound", "params": params, "signature": signature}


@bp.post("/phone/sign")
def sign() -> Any:
    data = request.get_json(silent=True) or {}
    phone_number, body = str(data.get("phone", "")), str(data.get("body", ""))
    if not _PHONE.match(phone_number) or not body.strip() or len(body) > 1600:
        return error_response(400, "Give a phone number and a message (up to 1600 characters).")
    return jsonify(signed_inbound(phone_number, body))


@bp.get("/phone/messages")
def messages() -> Any:
    """What this phone sent and received: inbound messages and outbox rows."""
    phone_number = request.args.get("phone", "")
    if not _PHONE.match(phone_number):
        return error_response(400, "Give a phone number.")
    st = state()
    address = normalise_phone(phone_number)
    key = subject_key(address, st.settings.pseudonym_key)
    items: list[dict[str, Any]] = []
    with st.db() as session:
        conversation = session.scalar(select(Conversation).where(Conversation.sender_key == key))
        if conversation is not None:
            inbound = session.scalars(
                select(Message).where(
                    Message.conversation_id == conversation.id, Message.direction == "in"
                )
            )
            items += [
                {"dir": "in", "text": m.text, "at": m.created_at.isoformat(), "status": "received"}
                for m in inbound
            ]
        items += [
            {"dir": "out", "text": r.body, "at": r.created_at.isoformat(), "status": r.status}
            for r in outbox.for_address(session, address)
        ]
    items.sort(key=lambda item: item["at"])
    return jsonify({"messages": items})
