"""`GET /healthz` for a load balancer: is each part up? Also what the front door asks
before a turn, so a message is held (and the resident told) rather than sent to a Rasa
whose action server is down.

Each check has a short timeout and the answer names parts only: no conversation, no
personal data, no versions or hosts.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from flask import Blueprint, jsonify
from sqlalchemy import text

from privacybot.settings import Settings
from webhook.state import AppState, state

bp = Blueprint("health", __name__)

CHECK_TIMEOUT = 1.0  # seconds per part; a load balancer's own timeout is usually 2-5 s
PARTS = ("web", "rasa", "actions", "database")


def rasa_up(settings: Settings, http: requests.Session | None = None) -> bool:
    """A Rasa answers with its model loaded (before that it swallows messages silently).
    With several (RASA_URLS) one is enough: the client moves a conversation on to the
    next when its own Rasa refuses the connection."""
    return any(_one_rasa_up(url, settings.rasa_token, http) for url in settings.rasa_instances)


def _one_rasa_up(url: str, token: str, http: requests.Session | None) -> bool:
    try:
        response = (http or requests).get(
            f"{url.rstrip('/')}/status", params={"token": token}, timeout=CHECK_TIMEOUT
        )
        return response.ok and bool(response.json().get("model_id"))
    except (requests.RequestException, ValueError):
        return False


def actions_up(settings: Settings, http: requests.Session | None = None) -> bool:
    base = settings.action_endpoint_url.rstrip("/").removesuffix("/webhook")
    try:
        return (http or requests).get(f"{base}/health", timeout=CHECK_TIMEOUT).ok
    except requests.RequestException:
        return False


def database_up(st: AppState) -> bool:
    try:
        with st.db() as session:
            session.execute(text("SELECT 1"))
        return True
    except Exception:  # any driver error means the same to a load balancer
        return False


class PartsHealth:
    """Rasa + actions, checked at most every `max_age` seconds per process (a turn costs
    one loopback GET at worst; a down part is checked again on the next message)."""

    def __init__(self, settings: Settings, max_age: float = 0.5) -> None:
        self.settings = settings
        self.max_age = max_age
        self._http = requests.Session()
        self._lock = threading.Lock()
        self._checked_at = -1e9
        self._ok = False

    def dialogue_up(self) -> bool:
        with self._lock:
            if self._ok and time.monotonic() - self._checked_at < self.max_age:
                return True
        ok = actions_up(self.settings, self._http) and rasa_up(self.settings, self._http)
        with self._lock:
            self._ok, self._checked_at = ok, time.monotonic()
        return ok

    def forget(self) -> None:
        """A turn just failed: check again before the next one."""
        with self._lock:
            self._ok = False


def report(st: AppState) -> dict[str, str]:
    with ThreadPoolExecutor(max_workers=3) as pool:
        checks = {
            "rasa": pool.submit(rasa_up, st.settings),
            "actions": pool.submit(actions_up, st.settings),
            "database": pool.submit(database_up, st),
        }
        results = {name: check.result() for name, check in checks.items()}
    return {"web": "ok", **{name: "ok" if up else "down" for name, up in results.items()}}


@bp.get("/healthz")
def healthz() -> Any:
    parts = report(state())
    healthy = all(v == "ok" for v in parts.values())
    body = {"status": "ok" if healthy else "degraded", "parts": parts}
    response = jsonify(body)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
