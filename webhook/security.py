"""Cross-cutting protections: CSRF, rate limits, security headers, error handlers
(the error answers themselves are in webhook.errors)."""

from __future__ import annotations

import os
import time
from typing import Any

from flask import Flask, Response, g, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from webhook.errors import MESSAGES, error_response, retry_after

csrf = CSRFProtect()

# Per sender, per minute. Overridable for load tests and busy deployments.
LIMITS = {
    "chat.post_message": ("RATE_LIMIT_CHAT", "30/minute;10 per 10 seconds"),
    "chat.new_conversations": ("RATE_LIMIT_NEW_CHAT", "60/minute"),
    "sms.inbound": ("RATE_LIMIT_SMS", "30/minute;5/second"),
    "inbox.login": ("RATE_LIMIT_LOGIN", "20/minute"),
}

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)


def limiter_storage_uri() -> str:
    """Where rate-limit counters live. In memory they are per process, so several web
    workers or hosts (scale-out, REDIS_HOST set) share them in Redis instead."""
    explicit = os.environ.get("RATELIMIT_STORAGE_URI")
    if explicit:
        return explicit
    host = os.environ.get("REDIS_HOST")
    if host:
        return f"redis://{host}:{os.environ.get('REDIS_PORT', '6379')}"
    return "memory://"


def sender_key() -> str:
    """Who is sending: the conversation (chat), the phone (SMS, hashed) or the address."""
    if request.path.startswith("/sms/"):
        phone = request.form.get("From", "")
        if phone:
            # Keyed like the ledger: a bare hash of a phone number is reversible by trying
            # every number, and these keys sit in Redis in scale-out.
            from casework.pseudonym import subject_key
            from webhook.state import state

            return "sms:" + subject_key(phone, state().settings.pseudonym_key)[:32]
    data = request.get_json(silent=True) if request.is_json else None
    if isinstance(data, dict) and isinstance(data.get("conversation_id"), str):
        return "chat:" + data["conversation_id"][:64]
    return "ip:" + (get_remote_address() or "unknown")


def _has_conversation_id() -> bool:
    data = request.get_json(silent=True) if request.is_json else None
    return isinstance(data, dict) and bool(data.get("conversation_id"))


def _limit(name: str) -> str:
    env, default = LIMITS[name]
    return os.environ.get(env, default)


def _seconds_to_reset(limiter: Limiter, error: RateLimitExceeded) -> int:
    """When the breached limit lets this sender in again: the limiter's own reset time
    for this request, or the limit's whole window if it has none."""
    current = limiter.current_limit
    if current is not None and current.breached:
        return retry_after(current.reset_at)
    return retry_after(time.time() + error.limit.limit.get_expiry())


def _retry_after_header(response: Response) -> Response:
    """Retry-After only where we said when to come back (a 429 or a busy 503), as whole
    seconds; Flask-Limiter adds its own to every response, truncated (0 while limited)."""
    seconds = g.get("retry_after")
    if seconds is None:
        response.headers.pop("Retry-After", None)
    else:
        response.headers["Retry-After"] = str(seconds)
    return response


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    # Chat JSON API: same-origin JSON only (Content-Type forces a CORS preflight we never
    # grant); Twilio webhooks: X-Twilio-Signature instead of a CSRF token.
    from webhook import chat, sms

    csrf.exempt(chat.api_bp)
    csrf.exempt(sms.bp)

    # Registered before the limiter's own hook, so it runs after it (Flask runs these in
    # reverse) and has the last word on Retry-After.
    app.after_request(_retry_after_header)
    limiter = Limiter(
        key_func=sender_key,
        app=app,
        storage_uri=limiter_storage_uri(),
        headers_enabled=True,
    )
    app.extensions["privacybot_limiter"] = limiter
    new_chat = limiter.limit(
        lambda: _limit("chat.new_conversations"),
        key_func=lambda: "ip:" + (get_remote_address() or "unknown"),
        exempt_when=lambda: (
            isinstance(request.get_json(silent=True), dict)
            and bool(request.get_json(silent=True).get("conversation_id"))
        ),
        scope="new-chat",
    )
    per_conversation = limiter.limit(
        lambda: _limit("chat.post_message"),
        # A first message has no conversation yet: the per-address new-chat limit applies.
        exempt_when=lambda: not _has_conversation_id(),
    )
    view = app.view_functions["chat_api.post_message"]
    view = per_conversation(new_chat(view))
    app.view_functions["chat_api.post_message"] = view
    # Only signed requests count: unsigned posts naming a resident's number in From
    # must not use up that resident's limit (they are refused with 403 anyway).
    app.view_functions["sms.inbound"] = limiter.limit(
        lambda: _limit("sms.inbound"), exempt_when=lambda: not sms.has_valid_signature()
    )(app.view_functions["sms.inbound"])
    app.view_functions["inbox.login"] = limiter.limit(
        lambda: _limit("inbox.login"),
        key_func=lambda: "ip:" + (get_remote_address() or "unknown"),
        methods=["POST"],
    )(app.view_functions["inbox.login"])

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> tuple[Any, int]:
        return error_response(
            400,
            "This form has expired or was not sent from our page. "
            "Please reload the page and try again.",
        )

    @app.errorhandler(RateLimitExceeded)
    def _too_many(error: RateLimitExceeded) -> Any:
        return error_response(429, retry_after=_seconds_to_reset(limiter, error))

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Any:
        if error.code is None or error.code < 400:
            return error
        description = None if error.code in MESSAGES else error.description
        return error_response(error.code, description)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[Any, int]:
        app.logger.exception("unhandled error")
        return error_response(500)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
        if request.path.startswith(("/api/", "/inbox", "/dev/")):
            response.headers.setdefault("Cache-Control", "no-store")
        if app.config.get("PRIVACYBOT_HSTS"):  # served over https: browsers keep to it
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
