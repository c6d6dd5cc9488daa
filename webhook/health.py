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
from webhook.rasa_client import service_session
from webhook.state import AppState, state

bp = Blueprint("health", __name__)

CHECK_TIMEOUT = 1.0  # seconds per part; a load balancer's own timeout is usually 2-5 s


def _one_rasa_up(url: str, token: str, http: requests.Session | None = None) -> bool:
    """This Rasa answers with its model loaded (before that it swallows messages silently)."""
    try:
        response = (http or requests).get(
            f"{url.rstrip('/')}/status", params={"token": token}, timeout=CHECK_TIMEOUT
        )
        return response.ok and bool(response.json().get("model_id"))
    except (requests.RequestException, ValueError):
        return False


def _one_actions_up(endpoint: str, http: requests.Session | None = None) -> bool:
    base = endpoint.rstrip("/").removesuffix("/webhook")
    try:
        return (http or requests).get(f"{base}/health", timeout=CHECK_TIMEOUT).ok
    except requests.RequestException:
        return False


def pair_up(settings: Settings, http: requests.Session | None = None) -> bool:
    """At least one Rasa answers and so does the action server it calls (one is enough:
    the client moves a conversation on to the next Rasa when its own refuses it).
    Checked pair by pair, stopping at the first that answers."""
    rasa_seen: dict[str, bool] = {}
    actions_seen: dict[str, bool] = {}
    for rasa, actions in settings.dialogue_pairs:
        if actions not in actions_seen:
            actions_seen[actions] = _one_actions_up(actions, http)
        if not actions_seen[actions]:
            continue
        if rasa not in rasa_seen:
            rasa_seen[rasa] = _one_rasa_up(rasa, settings.rasa_token, http)
        if rasa_seen[rasa]:
            return True
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
    one loopback GET at worst; a down part is checked again on the next message).

    Single-flight: while one check runs, concurrent turns wait for its answer instead of
    each sending their own (under load a stale answer would otherwise multiply the
    GETs to the very parts that are slow to answer them)."""

    def __init__(self, settings: Settings, max_age: float = 0.5) -> None:
        self.settings = settings
        self.max_age = max_age
        self._http = service_session(settings.rasa_instances)
        self._lock = threading.Lock()
        self._checked_at = -1e9
        self._ok = False
        self._in_flight: threading.Event | None = None

    def dialogue_up(self) -> bool:
        with self._lock:
            if self._ok and time.monotonic() - self._checked_at < self.max_age:
                return True
            flight = self._in_flight
            if flight is None:
                self._in_flight = threading.Event()
        if flight is not None:
            return self._await(flight)
        return self._check()

    def _await(self, flight: threading.Event) -> bool:
        # Every pair checked in turn, each part with its own timeout, and some slack.
        flight.wait(2 * CHECK_TIMEOUT * max(len(self.settings.dialogue_pairs), 1) + 1.0)
        with self._lock:
            return self._ok

    def _check(self) -> bool:
        ok = False
        try:
            ok = pair_up(self.settings, self._http)
        finally:
            with self._lock:
                self._ok, self._checked_at = ok, time.monotonic()
                flight, self._in_flight = self._in_flight, None
            if flight is not None:
                flight.set()
        return ok

    def forget(self) -> None:
        """A turn just failed: check again before the next one."""
        with self._lock:
            self._ok = False


def _word(up: int, total: int) -> str:
    return "ok" if up == total else "degraded" if up else "down"


def report(st: AppState) -> dict[str, Any]:
    """Every Rasa and every action server, checked side by side: counts only (no hosts),
    and whether the web side can serve (the database, and one Rasa + actions pair)."""
    settings = st.settings
    rasa_urls = list(dict.fromkeys(settings.rasa_instances))
    actions_urls = list(dict.fromkeys(settings.action_endpoints))
    with ThreadPoolExecutor(max_workers=len(rasa_urls) + len(actions_urls) + 1) as pool:
        database = pool.submit(database_up, st)
        rasa_checks = {u: pool.submit(_one_rasa_up, u, settings.rasa_token) for u in rasa_urls}
        actions_checks = {u: pool.submit(_one_actions_up, u) for u in actions_urls}
        rasa = {url: check.result() for url, check in rasa_checks.items()}
        actions = {url: check.result() for url, check in actions_checks.items()}
        database_ok = database.result()
    pairs = settings.dialogue_pairs
    pairs_up = sum(1 for r, a in pairs if rasa[r] and actions[a])
    counts = {
        "rasa": {"up": sum(rasa.values()), "total": len(rasa)},
        "actions": {"up": sum(actions.values()), "total": len(actions)},
        "pairs": {"up": pairs_up, "total": len(pairs)},
    }
    return {
        "serving": database_ok and pairs_up > 0,
        "parts": {
            "web": "ok",
            "rasa": _word(counts["rasa"]["up"], counts["rasa"]["total"]),
            "actions": _word(counts["actions"]["up"], counts["actions"]["total"]),
            "database": "ok" if database_ok else "down",
        },
        "instances": counts,
    }


@bp.get("/healthz")
def healthz() -> Any:
    checked = report(state())
    parts = checked["parts"]
    # 200 while it can serve (a load balancer keeps sending); "degraded" names a part
    # down even then, so an operator sees a lost Rasa or action server.
    status = "ok" if all(v == "ok" for v in parts.values()) else "degraded"
    response = jsonify({"status": status, "parts": parts, "instances": checked["instances"]})
    response.status_code = 200 if checked["serving"] else 503
    response.headers["Cache-Control"] = "no-store"
    return response
