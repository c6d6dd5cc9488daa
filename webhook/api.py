"""Tickets API for staff tools: `Authorization: Bearer <token>` (privacybot staff token)
or the inbox session cookie. Read-only, so CSRF does not arise."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from casework import audit, tickets
from webhook import queue
from webhook.auth import api_user
from webhook.security import error_response
from webhook.state import state

bp = Blueprint("api", __name__, url_prefix="/api/tickets")


@bp.get("")
def list_tickets() -> Any:
    user = api_user()
    if user is None:
        return _unauthorised()
    filters = queue.Filters.from_args(request.args)
    with state().db() as session:
        rows = [tickets.ticket_to_dict(t) for t in queue.queue(session, filters, user.id)]
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
