"""Clear error answers: JSON for the APIs and webhooks, a page for people. Its own
module so blueprints (chat, api, dev, suppressions) and webhook.security, which wraps
them, both import it without importing each other."""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template, request

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


def error_response(code: int, message: str | None = None) -> tuple[Any, int]:
    message = message or MESSAGES.get(code, "Something went wrong.")
    if wants_json():
        return jsonify({"error": message, "status": code}), code
    return render_template("error.html", code=code, message=message), code
