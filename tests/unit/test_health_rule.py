"""The front door's liveness rule (webhook.health.PartsHealth): a slow-but-alive Rasa
under load is not "down"; a refused connection is, at once; a turn that answered is
proof of life, and a failed turn is overturned only by a probe."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.fake_rasa import FakeRasa
from tests.browser.webapp import settings_for
from webhook import health
from webhook.health import DOWN, SLOW, UP, PartsHealth


class ScriptedProbe:
    """pair_state stand-in: answers the verdicts given, in order, and counts the calls."""

    def __init__(self, *verdicts: str) -> None:
        self.verdicts = list(verdicts)
        self.calls = 0
        self.rasa_answered: list[bool] = []
        self.done = threading.Event()

    def __call__(self, _settings: object, _http: object, rasa_answered: bool = False) -> str:
        self.calls += 1
        self.rasa_answered.append(rasa_answered)
        verdict = self.verdicts.pop(0)
        self.done.set()
        return verdict


@pytest.fixture
def parts(tmp_path: Path) -> PartsHealth:
    # max_age 0: every question probes unless a turn just proved the parts alive.
    return PartsHealth(settings_for(tmp_path, "http://127.0.0.1:1"), max_age=0.0)


def script(monkeypatch: pytest.MonkeyPatch, *verdicts: str) -> ScriptedProbe:
    probe = ScriptedProbe(*verdicts)
    monkeypatch.setattr(health, "pair_state", probe)
    return probe


def test_one_timeout_keeps_an_up_verdict_two_in_a_row_mark_it_down(
    parts: PartsHealth, monkeypatch: pytest.MonkeyPatch
) -> None:
    script(monkeypatch, UP, SLOW, UP, SLOW, SLOW, UP)
    assert parts.dialogue_up()
    assert parts.dialogue_up()  # slow once: still up
    assert parts.dialogue_up()  # answered: the count of timeouts starts again
    assert parts.dialogue_up()  # slow once
    assert not parts.dialogue_up()  # slow twice in a row: down
    assert parts.dialogue_up()  # answered again


def test_a_refused_probe_is_down_at_once_and_a_timeout_does_not_bring_it_back(
    parts: PartsHealth, monkeypatch: pytest.MonkeyPatch
) -> None:
    script(monkeypatch, UP, DOWN, SLOW, UP)
    assert parts.dialogue_up()
    assert not parts.dialogue_up()
    assert not parts.dialogue_up()  # slow after down: the standing verdict (down) holds
    assert parts.dialogue_up()


def test_a_slow_first_probe_is_not_taken_for_up(
    parts: PartsHealth, monkeypatch: pytest.MonkeyPatch
) -> None:
    script(monkeypatch, SLOW)
    assert not parts.dialogue_up()


def test_an_answered_turn_spares_rasa_its_status_probe_not_the_action_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = PartsHealth(settings_for(tmp_path, "http://127.0.0.1:1"), max_age=0.2)
    probe = script(monkeypatch, UP, UP, DOWN)
    assert parts.dialogue_up()
    time.sleep(0.15)
    parts.proved_alive()  # a turn came back with an answer
    time.sleep(0.1)  # the verdict is stale, the proof is not
    assert parts.dialogue_up()  # still checked (the action server), Rasa taken as up
    time.sleep(0.25)  # no turn answered since: Rasa is asked again
    assert not parts.dialogue_up()
    assert probe.calls == 3 and probe.rasa_answered == [False, True, False]


def test_a_failed_turn_drops_the_verdict_and_the_proof_of_life(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = PartsHealth(settings_for(tmp_path, "http://127.0.0.1:1"), max_age=5.0)
    probe = script(monkeypatch, UP, DOWN, UP)
    assert parts.dialogue_up()
    parts.proved_alive()
    parts.forget()  # a later turn failed: checked again at once, Rasa asked too
    assert not parts.dialogue_up()
    assert parts.dialogue_up()
    assert probe.rasa_answered == [False, False, False]


def test_a_cached_up_verdict_is_used_for_max_age_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = PartsHealth(settings_for(tmp_path, "http://127.0.0.1:1"), max_age=0.2)
    probe = script(monkeypatch, UP, UP)
    assert parts.dialogue_up() and parts.dialogue_up() and probe.calls == 1
    time.sleep(0.25)
    assert parts.dialogue_up() and probe.calls == 2


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that takes connections and never answers: a Rasa busy past the timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


def test_probes_tell_a_timeout_from_a_refused_connection(
    silent_port: int, rasa: FakeRasa, monkeypatch: pytest.MonkeyPatch
) -> None:
    from privacybot.runner import free_port

    monkeypatch.setattr(health, "CHECK_TIMEOUT", 0.2)
    silent = f"http://127.0.0.1:{silent_port}"
    nowhere = f"http://127.0.0.1:{free_port()}"
    assert health._rasa_state(silent, "t") == SLOW
    assert health._actions_state(f"{silent}/webhook") == SLOW
    assert health._rasa_state(nowhere, "t") == DOWN
    assert health._actions_state(f"{nowhere}/webhook") == DOWN
    assert health._rasa_state(rasa.url, "t") == UP
    rasa.actions_down = True
    assert health._actions_state(f"{rasa.url}/webhook") == DOWN  # HTTP 503


def test_pair_state_is_slow_only_when_no_pair_is_up_and_one_timed_out(
    tmp_path: Path, silent_port: int, rasa: FakeRasa, monkeypatch: pytest.MonkeyPatch
) -> None:
    from privacybot.runner import free_port

    monkeypatch.setattr(health, "CHECK_TIMEOUT", 0.2)
    silent = f"http://127.0.0.1:{silent_port}"
    nowhere = f"http://127.0.0.1:{free_port()}"

    def state_of(*pairs: tuple[str, str]) -> str:
        settings = settings_for(
            tmp_path,
            pairs[0][0],
            rasa_urls=tuple(r for r, _ in pairs),
            action_endpoint_urls=tuple(f"{a}/webhook" for _, a in pairs),
        )
        return health.pair_state(settings)

    assert state_of((nowhere, rasa.url), (silent, rasa.url)) == SLOW
    assert state_of((nowhere, rasa.url), (rasa.url, rasa.url)) == UP
    assert state_of((nowhere, rasa.url), (nowhere, nowhere)) == DOWN
    # a Rasa just answered a turn: only the action servers are asked
    settings = settings_for(tmp_path, silent, action_endpoint_url=f"{rasa.url}/webhook")
    assert health.pair_state(settings) == SLOW
    assert health.pair_state(settings, rasa_answered=True) == UP
    rasa.actions_down = True
    assert health.pair_state(settings, rasa_answered=True) == DOWN


def test_service_sessions_set_a_ca_bundle_only_for_https(monkeypatch: pytest.MonkeyPatch) -> None:
    """requests stats a CA bundle path for every request sent with one set, so loopback
    http sessions go without; an https service still gets the configured bundle."""
    from webhook.rasa_client import service_session

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/bundle.pem")
    assert (
        service_session(["http://127.0.0.1:5005", "http://127.0.0.1:5055/webhook"]).verify is True
    )
    both = service_session(["http://127.0.0.1:5005", "https://actions.internal/webhook"])
    assert both.verify == "/etc/ssl/certs/bundle.pem"
