"""Holding replies and /healthz on the web side, against the fake Rasa (which also plays
the action server's /health): a resident hears at once that their message is kept, and
it is answered once, in order, when the part is back."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from twilio.request_validator import RequestValidator

from casework.db import session_scope
from casework.models import Message, OutboundMessage
from privacybot.settings import ConfigError
from tests.browser.fake_rasa import FakeRasa
from tests.browser.webapp import settings_for
from webhook import create_app, frontdoor, sms_format
from webhook.health import PartsHealth
from webhook.state import AppState, state

PUBLIC = "https://privacy.example.org"


@pytest.fixture
def app(tmp_path: Path, rasa: FakeRasa) -> Flask:
    return create_app(settings_for(tmp_path, rasa.url, public_base_url=PUBLIC), background=False)


def say(client: FlaskClient, text: str, cid: str | None = None) -> dict:
    body = {"text": text, **({"conversation_id": cid} if cid else {})}
    response = client.post("/api/chat", json=body)
    assert response.status_code == 200
    return response.get_json()


def inbound_rows(app: Flask) -> list[Message]:
    with session_scope(state(app).settings.database_url) as session:
        return list(session.scalars(select(Message).where(Message.direction == "in")))


def test_holding_words_come_from_the_org_config(app: Flask) -> None:
    holding = state(app).org.holding_reply
    assert "Talk2Us on 020 8080 6587" in holding and "kept your message" in holding


def test_action_server_down_holds_without_asking_rasa_then_answers_in_order_once(
    app: Flask, client: FlaskClient, rasa: FakeRasa
) -> None:
    rasa.actions_down = True
    first = say(client, "options")
    cid = first["conversation_id"]
    assert first["pending"] is True
    assert [m["text"] for m in first["messages"]] == [state(app).org.holding_reply]
    second = say(client, "and another thing", cid)
    assert second["pending"] is True
    # Rasa never saw the turns: nothing half-done in its tracker.
    assert rasa.received == [] and state(app).holding.is_set()

    assert frontdoor.replay_round(state(app)) == 0  # still down: nothing answered
    rasa.actions_down = False
    time.sleep(frontdoor.HELD_REPLAY_AFTER.total_seconds())
    assert frontdoor.replay_round(state(app)) == 2
    assert rasa.texts_from(cid) == ["options", "and another thing"]  # in order
    assert all(m.processed_at for m in inbound_rows(app))
    assert not state(app).holding.is_set()
    assert frontdoor.replay_round(state(app)) == 0  # answered once

    # The widget's polling from the cursor it was given shows the late answers.
    late = client.get(f"/api/chat/{cid}/messages?after={first['cursor']}").get_json()
    bot = [m["text"] for m in late["messages"] if m["author"] == "bot"]
    assert bot == ["Would you like to stop marketing?", "You said: and another thing"]


def test_a_held_button_press_keeps_the_buttons_it_answered(
    app: Flask, client: FlaskClient, rasa: FakeRasa
) -> None:
    cid = say(client, "options")["conversation_id"]
    rasa.actions_down = True  # just now: the web side's last check still says it is up
    assert say(client, "Yes", cid)["pending"] is True  # the holding reply comes after it
    rasa.actions_down = False
    time.sleep(frontdoor.HELD_REPLAY_AFTER.total_seconds())
    frontdoor.replay_round(state(app))
    assert rasa.texts_from(cid)[-1] == "/affirm"


def test_a_later_message_is_answered_after_the_held_one(
    app: Flask, client: FlaskClient, rasa: FakeRasa
) -> None:
    rasa.down = True
    cid = say(client, "first")["conversation_id"]
    rasa.down = False
    # Back before the retry loop came round: the held message goes first.
    reply = say(client, "second", cid)
    assert rasa.texts_from(cid) == ["first", "second"]
    assert [m["text"] for m in reply["messages"]] == ["You said: second"]


def test_a_slow_turn_gets_the_holding_reply_in_time_and_its_answer_later(
    tmp_path: Path, rasa: FakeRasa
) -> None:
    settings = settings_for(tmp_path, rasa.url, holding_reply_after=0.3)
    app = create_app(settings, background=False)
    client = app.test_client()
    rasa.delay = 4.0
    started = time.monotonic()
    data = say(client, "are you slow")
    assert time.monotonic() - started < 3.0  # well before Rasa answers
    assert data["pending"] is True
    state(app).turns.shutdown(wait=True)  # the turn goes on and stores its answer
    later = client.get(f"/api/chat/{data['conversation_id']}/messages?after={data['cursor']}")
    texts = [m["text"] for m in later.get_json()["messages"]]
    assert texts == [state(app).org.holding_reply, "You said: are you slow"]
    assert frontdoor.replay_unprocessed(state(app), older_than=frontdoor.HELD_REPLAY_AFTER) == 0
    assert rasa.texts_from(data["conversation_id"]) == ["are you slow"]  # asked once


def _sms(client: FlaskClient, phone: str, body: str) -> None:
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "From": phone,
        "To": "+447700900000",
        "Body": body,
    }
    signature = RequestValidator("test-twilio-token").compute_signature(
        PUBLIC + "/sms/inbound", params
    )
    response = client.post("/sms/inbound", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200


def test_an_sms_gets_one_holding_text_per_outage_then_its_answers(
    app: Flask, client: FlaskClient, rasa: FakeRasa
) -> None:
    phone = "+447700900456"
    holding = sms_format.normalise(state(app).org.holding_reply)

    def texts() -> list[str]:
        with session_scope(state(app).settings.database_url) as session:
            rows = session.scalars(select(OutboundMessage).order_by(OutboundMessage.id))
            return [r.body for r in rows]

    rasa.down = True
    _sms(client, phone, "hello")
    state(app).wait_idle()
    _sms(client, phone, "are you there")
    state(app).wait_idle()
    assert texts() == [holding]  # one, not two
    rasa.down = False
    time.sleep(frontdoor.HELD_REPLAY_AFTER.total_seconds())
    assert frontdoor.replay_round(state(app)) == 2
    assert texts() == [holding, "You said: hello", "You said: are you there"]
    # A second outage gets its own holding text.
    rasa.down = True
    _sms(client, phone, "again")
    state(app).wait_idle()
    assert texts()[-1] == holding and texts().count(holding) == 2


def test_healthz_reports_each_part_for_a_load_balancer(
    app: Flask, client: FlaskClient, rasa: FakeRasa
) -> None:
    ok = client.get("/healthz")
    assert ok.status_code == 200
    one = {"up": 1, "total": 1}
    assert ok.get_json() == {
        "status": "ok",
        "parts": {"web": "ok", "rasa": "ok", "actions": "ok", "database": "ok"},
        "instances": {"rasa": one, "actions": one, "pairs": one},
    }
    rasa.actions_down = True
    down = client.get("/healthz")
    assert down.status_code == 503
    assert down.get_json()["parts"] == {
        "web": "ok",
        "rasa": "ok",
        "actions": "down",
        "database": "ok",
    }
    assert down.headers["Cache-Control"] == "no-store"


def test_healthz_says_rasa_is_down_when_it_does_not_answer(tmp_path: Path) -> None:
    from privacybot.runner import free_port

    nowhere = f"http://127.0.0.1:{free_port()}"
    app = create_app(settings_for(tmp_path, nowhere), background=False)
    started = time.monotonic()
    response = app.test_client().get("/healthz")
    assert time.monotonic() - started < 2.5  # short timeouts, checked side by side
    assert response.status_code == 503
    parts = response.get_json()["parts"]
    assert parts["rasa"] == "down" and parts["actions"] == "down" and parts["database"] == "ok"


def test_healthz_counts_rasa_up_while_any_of_several_answers(
    tmp_path: Path, rasa: FakeRasa
) -> None:
    # The scaled profile: the first Rasa is gone, the client moves conversations on to
    # the second, so the web side must not hold every message.
    from privacybot.runner import free_port

    nowhere = f"http://127.0.0.1:{free_port()}"
    settings = settings_for(
        tmp_path, nowhere, rasa_urls=(nowhere, rasa.url), action_endpoint_url=f"{rasa.url}/webhook"
    )
    app = create_app(settings, background=False)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200  # serving; the lost instance is named
    assert response.get_json()["parts"]["rasa"] == "degraded"
    assert state(app).health.dialogue_up()
    alone = create_app(
        settings_for(tmp_path / "b", nowhere, rasa_urls=(nowhere,)), background=False
    )
    assert alone.test_client().get("/healthz").get_json()["parts"]["rasa"] == "down"


def test_healthz_reports_every_rasa_and_every_action_server(tmp_path: Path, rasa: FakeRasa) -> None:
    """The scaled profile: each Rasa calls its own action server (ACTION_ENDPOINT_URLS in
    RASA_URLS order). Counts only, and serving while one pair answers."""
    from privacybot.runner import free_port
    from tests.browser.fake_rasa import running_fake_rasa

    nowhere = f"http://127.0.0.1:{free_port()}"
    with running_fake_rasa(f"sqlite:///{tmp_path / 'casework.db'}") as second:

        def healthz(*pairs: tuple[str, str]) -> tuple[int, dict]:
            settings = settings_for(
                tmp_path,
                rasa.url,
                rasa_urls=tuple(r for r, _ in pairs),
                action_endpoint_urls=tuple(f"{a}/webhook" for _, a in pairs),
            )
            response = create_app(settings, background=False).test_client().get("/healthz")
            return response.status_code, response.get_json()

        both = ((rasa.url, rasa.url), (second.url, second.url))
        code, body = healthz(*both)
        assert code == 200 and body["status"] == "ok"
        assert body["instances"]["pairs"] == {"up": 2, "total": 2}

        second.actions_down = True  # the second pair's action server is gone: still serving
        code, body = healthz(*both)
        assert code == 200 and body["status"] == "degraded"
        assert body["parts"]["actions"] == "degraded" and body["parts"]["rasa"] == "ok"
        assert body["instances"] == {
            "rasa": {"up": 2, "total": 2},
            "actions": {"up": 1, "total": 2},
            "pairs": {"up": 1, "total": 2},
        }
        assert "http" not in str(body) and "127.0.0.1" not in str(body)  # no hosts

        # One Rasa up and one action server up, but not of the same pair: nothing serves.
        code, body = healthz((nowhere, rasa.url), (second.url, second.url))
        assert code == 503 and body["status"] == "degraded"
        assert body["instances"]["rasa"] == {"up": 1, "total": 2}
        assert body["instances"]["actions"] == {"up": 1, "total": 2}
        assert body["instances"]["pairs"] == {"up": 0, "total": 2}
        # ...and the front door holds messages rather than send them to a broken pair.
        settings = settings_for(
            tmp_path,
            rasa.url,
            rasa_urls=(nowhere, second.url),
            action_endpoint_urls=(f"{rasa.url}/webhook", f"{second.url}/webhook"),
        )
        assert not PartsHealth(settings).dialogue_up()
        second.actions_down = False
        assert PartsHealth(settings).dialogue_up()


def test_action_servers_must_pair_with_the_rasa_instances(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path,
        "http://127.0.0.1:1",
        rasa_urls=("http://a", "http://b", "http://c"),
        action_endpoint_urls=("http://a/webhook", "http://b/webhook"),
    )
    with pytest.raises(ConfigError, match="one per Rasa"):
        settings.dialogue_pairs  # noqa: B018


def test_a_retry_round_never_takes_a_fresh_web_message_from_its_own_request(
    app: Flask, client: FlaskClient, rasa: FakeRasa, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under load a request's turn may start a moment after its message is stored; a
    retry round replaying held messages (1 s old) in that moment must leave it alone, or
    the request answers HTTP 200 with no message and the answer only shows on polling."""
    st = state(app)
    cid = say(client, "hello")["conversation_id"]
    st.holding.set()  # another turn was held just now: the retry loop replays eagerly
    monkeypatch.setattr(frontdoor, "HELD_REPLAY_AFTER", timedelta(0))
    earlier = frontdoor._earlier_unanswered
    replayed: list[int] = []
    raced = False

    def retry_round_first(state_: AppState, message_id: int) -> list[int]:
        nonlocal raced
        if not raced:  # the request's turn is slow to start: the retry round runs first
            raced = True
            replayed.append(frontdoor.replay_round(state_))
        return earlier(state_, message_id)

    monkeypatch.setattr(frontdoor, "_earlier_unanswered", retry_round_first)
    data = say(client, "second", cid)
    assert replayed == [0]  # the round took nothing: the request had claimed its message
    assert [m["text"] for m in data["messages"]] == ["You said: second"]
    assert rasa.texts_from(cid) == ["hello", "second"]  # asked once
    assert all(m.processed_at for m in inbound_rows(app))


def test_a_web_message_answered_by_another_worker_returns_that_answer_not_nothing(
    app: Flask, client: FlaskClient, rasa: FakeRasa, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its claim went stale (a stalled machine) and another worker answered it: the
    request returns the stored answer rather than an empty 200."""
    cid = say(client, "hello")["conversation_id"]
    real = frontdoor._process_one

    def answered_elsewhere(state_: AppState, message_id: int, **_: bool) -> frontdoor.Outcome:
        # Another worker took the (stale) claim and answered first.
        with state_.db() as session:
            session.execute(update(Message).where(Message.id == message_id).values(claimed_at=None))
        real(state_, message_id)
        return frontdoor.Outcome(already_processed=True)

    monkeypatch.setattr(frontdoor, "_process_one", answered_elsewhere)
    data = say(client, "second", cid)
    assert [m["text"] for m in data["messages"]] == ["You said: second"]
    assert rasa.texts_from(cid) == ["hello", "second"]


def test_concurrent_turns_share_one_health_check(
    tmp_path: Path, rasa: FakeRasa, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stale health answer and eight turns at once: one check of Rasa and the action
    server, whose answer all eight get, not eight checks of parts already slow."""
    from webhook import health

    calls: list[float] = []
    real = health.pair_state

    def slow_pair_state(*args: object) -> str:
        calls.append(time.monotonic())
        time.sleep(0.3)  # a busy Rasa answering /status
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(health, "pair_state", slow_pair_state)
    parts = PartsHealth(settings_for(tmp_path, rasa.url))
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: parts.dialogue_up(), range(8)))
    assert answers == [True] * 8
    assert len(calls) == 1
    rasa.actions_down = True
    parts.forget()  # a turn failed: the next one checks again, and sees it down
    assert not parts.dialogue_up() and len(calls) == 2
