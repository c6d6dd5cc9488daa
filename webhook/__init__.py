"""The web side: web chat API + widget, Twilio SMS webhook, staff handoff inbox.

`gunicorn 'webhook:create_app()'` runs it; `flask --app webhook run` too.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from flask import Flask

from privacybot.settings import ConfigError, Settings, load_settings

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 64 * 1024  # a chat message or a Twilio webhook is a few kB at most


def create_app(settings: Settings | None = None, *, background: bool = True) -> Flask:
    """Build the app. `background=False` (tests) starts no threads: call the outbox's
    `send_due()` and `frontdoor.replay_unprocessed()` by hand."""
    from casework.db import upgrade
    from privacybot.orgs import load_org
    from webhook import api, chat, cors, health, inbox, security, sms, suppressions
    from webhook.health import PartsHealth
    from webhook.outbox import OutboxSender
    from webhook.rasa_client import RasaClient
    from webhook.state import AppState

    settings = settings or load_settings()
    if settings.production and settings.dev_tools:
        raise ConfigError("DEV_TOOLS must be off in production mode")
    upgrade(settings.database_url)

    app = Flask(__name__)
    if settings.trusted_proxy_hops:
        # Rate limits must see the resident's address, not the proxy's; only as many
        # X-Forwarded-For entries as there are proxies we run are believed.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings.trusted_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    https = settings.public_base_url.startswith("https://")
    secure_cookies = settings.production or https
    app.config.update(
        PRIVACYBOT_HSTS=https,
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
        rasa=RasaClient(settings.rasa_instances, settings.rasa_token),
        outbox=OutboxSender(settings),
        health=PartsHealth(settings),
    )
    if settings.smtp_configured:
        from webhook.mailer import EmailSender

        state.email_outbox = EmailSender(settings, state.org)
    app.extensions["privacybot"] = state

    blueprints = (chat.bp, chat.api_bp, sms.bp, inbox.bp, api.bp, health.bp)
    for blueprint in (*blueprints, suppressions.bp, suppressions.admin_bp):
        app.register_blueprint(blueprint)
    if settings.dev_tools:
        from webhook import dev

        app.register_blueprint(dev.bp)
        log.warning("DEV_TOOLS is on: /dev/phone answers loopback clients")
    security.init_app(app)
    cors.init_app(app, state.org.contact.get("website"))

    if background:
        _start_background(state)
    return app


def _start_background(state: object) -> None:
    from webhook.frontdoor import CLAIM_RENEW_EVERY, renew_claims, replay_round
    from webhook.sms import ingest_spool
    from webhook.state import AppState

    assert isinstance(state, AppState)
    state.outbox.start(state.stopping)
    if state.email_outbox is not None:
        state.email_outbox.start(state.stopping)

    def retry_loop() -> None:
        # Every 10 s: messages of a worker that died (30 s old). Every 2 s while this
        # process holds messages: once Rasa and the action server answer again.
        # One tick a second, so a message held just now is not left for a 10 s wait.
        tick = 0
        while not state.stopping.wait(1.0):
            tick += 1
            try:
                ingest_spool(state)  # SMS kept on disk while the store was busy
            except Exception:
                log.exception("storing spooled SMS failed")
            if tick % (2 if state.holding.is_set() else 10):
                continue
            try:
                replay_round(state)
            except Exception:
                log.exception("retry round failed")

    def heartbeat() -> None:
        # Its own thread: the retry loop may itself be inside a long turn.
        while not state.stopping.wait(CLAIM_RENEW_EVERY):
            try:
                renew_claims(state)
            except Exception:
                log.exception("renewing claims failed")

    threading.Thread(target=retry_loop, name="replay", daemon=True).start()
    threading.Thread(target=heartbeat, name="claims", daemon=True).start()
