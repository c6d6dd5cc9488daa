"""Clear error answers: JSON for the APIs and webhooks, a page for people. Its own
module so blueprints (chat, api, dev, suppressions) and webhook.security, which wraps
them, both import it without importing each other."""

from __future__ import annotations

import math
import time
from typing import Any

from flask import g, jsonify, render_template, request

MESSAGES = {
    400: "That request was not understood.",
    403: "You are not allowed to do that.",
    404: "We could not find that.",
    405: "That method is not allowed here.",
    413: "That is too long. Please send a shorter message.",
    415: "Please send JSON.",
    429: "Too many messages in a short time. Please wait a minute and try again.",
    500: "Something went wrong on our side. Please try again.",
    503: "The service is busy. Please try again shortly.",
}


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/sms/", "/dev/phone/")) or request.is_json


def retry_after(reset_at: float, now: float | None = None) -> int:
    """Whole seconds until `reset_at` (UNIX time), rounded up and at least 1: a client
    that waits this long is not refused again for the same window."""
    return max(1, math.ceil(reset_at - (time.time() if now is None else now)))


def error_response(
    code: int, message: str | None = None, retry_after: int | None = None
) -> tuple[Any, ...]:
    """`retry_after` (seconds) goes in the JSON body and the Retry-After header; it is
    kept in `g` because Flask-Limiter rewrites that header after every view (truncating
    its own reset time, so 0 s could be sent while still limited)."""
    message = message or MESSAGES.get(code, "Something went wrong.")
    if wants_json():
        body: dict[str, Any] = {"error": message, "status": code}
        if retry_after is not None:
            body["retry_after"] = retry_after
        response = jsonify(body)
    else:
        response = render_template("error.html", code=code, message=message)
    if retry_after is None:
        return response, code
    g.retry_after = retry_after
    return response, code, {"Retry-After": str(retry_after)}
