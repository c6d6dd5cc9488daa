"""The web side: web chat API + widget, Twilio SMS webhook, staff handoff inbox.

`gunicorn 'webhook:create_app()'` runs it; `flask --app webhook run` too.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from flask import Flask

from privacybot.settings import Settings, load_settings

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 64 * 1024  # a chat message or a Twilio webhook is a few kB at most


def create_app(settings: Settings | None = None, *, background: bool = True) -> Flask:
    """Build the app. `background=False` (tests) starts no threads: call the outbox's
    `send_due()` and `frontdoor.replay_unprocessed()` by hand."""
    from casework.db import upgrade
    from privacybot.orgs import load_org
    from webhook import api, chat, cors, inbox, security, sms, suppressions
    from webhook.outbox import OutboxSender
    from webhook.rasa_client import RasaClient
    from webhook.state import AppState

    settings = settings or load_settings()
    upgrade(settings.database_url)

    app = Flask(__name__)
    secure_cookies = settings.production or settings.public_base_url.startswith("https://")
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_REQUEST_BYTES,
        SESSION_COOKIE_NAME="__Host-session" if secure_cookies else "privacybot_session",
        SESSION_COOKIE_SECURE=secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        WTF_CSRF_TIME_LIMIT=8 * 3600,
        JSON_SORT_KEYS=False,
    )
    state = AppState(
        settings=settings,
        org=load_org(settings.org),
        rasa=RasaClient(settings.rasa_url, settings.rasa_token),
        outbox=OutboxSender(settings),
    )
    app.extensions["privacybot"] = state

    blueprints = (chat.bp, chat.api_bp, sms.bp, inbox.bp, api.bp)
    for blueprint in (*blueprints, suppressions.bp, suppressions.admin_bp):
        app.register_blueprint(blueprint)
    if not settings.production:
        from webhook import dev

        app.register_blueprint(dev.bp)
    security.init_app(app)
    cors.init_app(app, state.org.contact.get("website"))

    if background:
        _start_background(state)
    return app


def _start_background(state: object) -> None:
    from webhook.frontdoor import replay_unprocessed
    from webhook.state import AppState

    assert isinstance(state, AppState)
    state.outbox.start(state.stopping)

    def retry_loop() -> None:
        while not state.stopping.wait(10.0):
            try:
                replay_unprocessed(state)
            except Exception:
                log.exception("retry round failed")

    threading.Thread(target=retry_loop, name="replay", daemon=True).start()
