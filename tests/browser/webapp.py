"""Helpers to run the web app against fakes: settings for a temp directory, and a real
HTTP server in a thread (for the browser tests while developing without Rasa)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from werkzeug.serving import make_server

from privacybot.runner import free_port
from privacybot.settings import Settings, load_settings


def settings_for(data_dir: Path, rasa_url: str, **overrides: object) -> Settings:
    """Settings for a throwaway database; the secrets are fixed test values."""
    import os

    saved = dict(os.environ)
    os.environ.update(
        {
            "DATA_DIR": str(data_dir),
            "DATABASE_URL": f"sqlite:///{data_dir / 'casework.db'}",
            "SECRET_KEY": "test-secret-key",
            "RASA_TOKEN": "test-rasa-token",
            "TWILIO_AUTH_TOKEN": "test-twilio-token",
            "RASA_URL": rasa_url,
            # The fake Rasa also answers the action server's /health.
            "ACTION_ENDPOINT_URL": f"{rasa_url}/webhook",
            "ORG": "barnet-homes",
        }
    )
    for key in (
        "TWILIO_ACCOUNT_SID",
        "TWILIO_API_BASE",
        "PRIVACYBOT_ENV",
        "PUBLIC_BASE_URL",
        "DEV_TOOLS",
        "PSEUDONYM_KEY",
    ):
        os.environ.pop(key, None)
    try:
        settings = load_settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return dataclasses.replace(settings, **overrides)  # type: ignore[arg-type]


@contextmanager
def serve(app: Flask, port: int | None = None) -> Iterator[str]:
    """Serve `app` on loopback in a thread; yields the base URL."""
    port = port or free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
