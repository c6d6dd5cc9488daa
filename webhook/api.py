"""Tickets API for staff tools: `Authorization: Bearer <token>` (privacybot staff token)
or the inbox session cookie. Read-only, so CSRF does not arise.

Least privilege: the list gives summaries (no transcript, no details, contact masked);
a full ticket comes from its own URL, and every full read is in the audit log (who,
which ticket, when)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request, url_for

from casework import audit, tickets
from casework.models import Ticket
from webhook import queue
from webhook.auth import api_user
from webhook.errors import error_response
from webhook.state import state

bp = Blueprint("api", __name__, url_prefix="/api/tickets")


def ticket_summary(ticket: Ticket) -> dict[str, Any]:
    row = queue.summary_row(ticket)
    row["contact"] = tickets.masked_contact(ticket.contact)
    row["contact_method"] = ticket.contact_method
    row["url"] = url_for("api.get_ticket", reference=ticket.reference)
    return row


@bp.get("")
def list_tickets() -> Any:
    user = api_user()
    if user is None:
        return _unauthorised()
    filters = queue.Filters.from_args(request.args)
    with state().db() as session:
        rows = [ticket_summary(t) for t in queue.queue(session, filters, user.id)]
        audit.log(session, user.email, "tickets.listed", None, count=len(rows))
    return jsonify({"tickets": rows, "count": len(rows)})


@bp.get("/<reference>")
def get_ticket(reference: str) -> Any:
    user = api_user()
    if user is None:
        return _unauthorised()
    with state().db() as session:
        ticket = tickets.get_ticket(session, reference[:32])
        if ticket is None:
            return error_response(404, "No ticket with that reference.")
        audit.log(session, user.email, "ticket.viewed", ticket.reference, via="api")
        data = tickets.ticket_to_dict(ticket)
    return jsonify(data)


def _unauthorised() -> Any:
    response, code = error_response(401, "Sign in to the inbox or send a bearer token.")
    response.headers["WWW-Authenticate"] = 'Bearer realm="privacybot"'
    return response, code
