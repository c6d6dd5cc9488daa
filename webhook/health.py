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


# A probe's verdict on a part: it answered; it refused or errored (down for sure); or it
# did not answer within CHECK_TIMEOUT (a busy part is slow, not necessarily down).
UP, DOWN, SLOW = "up", "down", "slow"


def _rasa_state(url: str, token: str, http: requests.Session | None = None) -> str:
    """This Rasa answers with its model loaded (before that it swallows messages silently)."""
    try:
        response = (http or requests).get(
            f"{url.rstrip('/')}/status", params={"token": token}, timeout=CHECK_TIMEOUT
        )
        return UP if response.ok and bool(response.json().get("model_id")) else DOWN
    except requests.Timeout:
        return SLOW
    except (requests.RequestException, ValueError):
        return DOWN


def _actions_state(endpoint: str, http: requests.Session | None = None) -> str:
    base = endpoint.rstrip("/").removesuffix("/webhook")
    try:
        return UP if (http or requests).get(f"{base}/health", timeout=CHECK_TIMEOUT).ok else DOWN
    except requests.Timeout:
        return SLOW
    except requests.RequestException:
        return DOWN


def _one_rasa_up(url: str, token: str, http: requests.Session | None = None) -> bool:
    return _rasa_state(url, token, http) == UP


def _one_actions_up(endpoint: str, http: requests.Session | None = None) -> bool:
    return _actions_state(endpoint, http) == UP


def pair_state(
    settings: Settings, http: requests.Session | None = None, rasa_answered: bool = False
) -> str:
    """UP when at least one Rasa answers and so does the action server it calls (one is
    enough: the client moves a conversation on to the next Rasa when its own refuses it);
    else SLOW when some part of a pair only timed out, else DOWN. Checked pair by pair,
    stopping at the first that answers. `rasa_answered`: a Rasa answered a turn just now,
    so only the action servers are asked (Rasa's /status is slow to answer while Rasa is
    busy, and a busy Rasa is what answered)."""
    seen: dict[str, str] = {}
    verdict = DOWN
    for rasa, actions in settings.dialogue_pairs:
        if actions not in seen:
            seen[actions] = _actions_state(actions, http)
        pair = seen[actions]
        if pair == UP and not rasa_answered:
            if rasa not in seen:
                seen[rasa] = _rasa_state(rasa, settings.rasa_token, http)
            pair = seen[rasa]
        if pair == UP:
            return UP
        if pair == SLOW:
            verdict = SLOW
    return verdict


def pair_up(settings: Settings, http: requests.Session | None = None) -> bool:
    return pair_state(settings, http) == UP


def database_up(st: AppState) -> bool:
    try:
        with st.db() as session:
            session.execute(text("SELECT 1"))
        return True
    except Exception:  # any driver error means the same to a load balancer
        return False


class PartsHealth:
    """Are Rasa and the action server up, as the front door asks before every turn.

    The rule (a slow-but-alive part under load is not "down"):
    - a probe refused or answered with an error: down at once;
    - a probe that times out: down only after SLOW_LIMIT timeouts in a row (until then
      the standing verdict holds; a turn to a part that is really hung still gets the
      holding reply from the web request's own 2.5 s limit);
    - a turn that came back with an answer is Rasa's proof of life: the next check asks
      only the action server (Rasa's /status, slow while Rasa is busy, is left out). The
      action server is still checked before turns as often as before: a turn that
      answered says nothing of it (a turn without custom actions answers without it).
    A verdict is reused for `max_age` seconds; a failed turn (`forget`) drops it and
    Rasa's proof both. Single-flight: while one probe runs, concurrent turns wait for its
    answer instead of each sending their own."""

    SLOW_LIMIT = 2

    def __init__(self, settings: Settings, max_age: float = 0.5) -> None:
        self.settings = settings
        self.max_age = max_age
        self._http = service_session([*settings.rasa_instances, *settings.action_endpoints])
        self._lock = threading.Lock()
        self._checked_at = -1e9
        self._proved_at = -1e9
        self._ok = False
        self._timeouts = 0
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
        verdict = DOWN
        with self._lock:
            rasa_answered = time.monotonic() - self._proved_at < self.max_age
        try:
            verdict = pair_state(self.settings, self._http, rasa_answered)
        finally:
            with self._lock:
                self._settle(verdict)
                ok = self._ok
                flight, self._in_flight = self._in_flight, None
            if flight is not None:
                flight.set()
        return ok

    def _settle(self, verdict: str) -> None:
        """Apply one probe's verdict (under the lock)."""
        self._timeouts = self._timeouts + 1 if verdict == SLOW else 0
        if verdict != SLOW:
            self._ok = verdict == UP
        elif self._timeouts >= self.SLOW_LIMIT:
            self._ok = False
        self._checked_at = time.monotonic()

    def proved_alive(self) -> None:
        """A turn came back with an answer: Rasa is up (its action server, not known)."""
        with self._lock:
            self._proved_at = time.monotonic()

    def forget(self) -> None:
        """A turn just failed: check again before the next one."""
        with self._lock:
            self._ok = False
            self._proved_at = -1e9


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
