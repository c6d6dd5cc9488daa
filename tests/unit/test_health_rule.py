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
        self.done = threading.Event()

    def __call__(self, *_: object) -> str:
        self.calls += 1
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


def test_an_answered_turn_stands_in_for_a_probe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = PartsHealth(settings_for(tmp_path, "http://127.0.0.1:1"), max_age=0.2)
    probe = script(monkeypatch, UP)
    assert parts.dialogue_up() and probe.calls == 1
    for _ in range(4):  # turns keep answering, each within max_age of the last
        time.sleep(0.1)
        parts.proved_alive()
        assert parts.dialogue_up()
    assert probe.calls == 1  # 0.4 s on, older than max_age: no probe was needed


def test_a_failed_turn_is_overturned_by_a_probe_not_by_another_turn(
    parts: PartsHealth, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe = script(monkeypatch, UP, DOWN, UP)
    assert parts.dialogue_up()
    parts.forget()  # this turn failed...
    parts.proved_alive()  # ...while a turn started earlier came back with an answer
    assert not parts.dialogue_up() and probe.calls == 2  # probed: down
    parts.proved_alive()
    assert parts.dialogue_up() and probe.calls == 3  # only the probe brings it back


def test_under_steady_turns_the_periodic_probe_runs_in_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = PartsHealth(settings_for(tmp_path, "http://127.0.0.1:1"), probe_every=0.0)
    script(monkeypatch, UP)
    assert parts.dialogue_up()
    gate, probed = threading.Event(), threading.Event()

    def busy_probe(*_: object) -> str:
        gate.wait(5)  # a busy Rasa: the probe takes its time, and finds the parts down
        probed.set()
        return DOWN

    monkeypatch.setattr(health, "pair_state", busy_probe)
    parts.proved_alive()
    started = time.monotonic()
    assert parts.dialogue_up()  # the turn is not made to wait for the due probe
    assert parts.dialogue_up()  # nor is the next one, while that probe runs
    assert time.monotonic() - started < 0.5 and not probed.is_set()
    gate.set()
    assert probed.wait(5)
    deadline = time.monotonic() + 5
    while parts.dialogue_up() and time.monotonic() < deadline:  # its verdict lands
        time.sleep(0.01)
    assert not parts.dialogue_up()


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
