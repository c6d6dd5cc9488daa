"""Claims of a worker that died: taken over soon (live workers renew theirs), and a turn
that Rasa already took is answered from its tracker, never sent to Rasa twice."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from casework.db import session_scope
from casework.models import Message
from tests.browser.fake_rasa import FakeRasa
from webhook import frontdoor
from webhook.rasa_client import MESSAGE_ID_KEY, RasaUnavailable, answer_from_events
from webhook.state import state


def held_message(client: FlaskClient, rasa: FakeRasa, text: str) -> tuple[str, int]:
    """A stored, unanswered message (Rasa was down when it came)."""
    rasa.down = True
    data = client.post("/api/chat", json={"text": text}).get_json()
    assert data["pending"] is True
    rasa.down = False
    return data["conversation_id"], data["message_id"]


def age_claim(app: Flask, message_id: int, by: timedelta = frontdoor.CLAIM_TIMEOUT) -> None:
    with session_scope(state(app).settings.database_url) as session:
        message = session.get(Message, message_id)
        assert message is not None and message.claimed_at is not None
        message.claimed_at -= by + timedelta(seconds=1)


def bot_texts(client: FlaskClient, cid: str, after: int) -> list[str]:
    later = client.get(f"/api/chat/{cid}/messages?after={after}").get_json()
    return [m["text"] for m in later["messages"] if m["author"] == "bot"]


def test_a_turn_rasa_took_before_its_worker_died_is_answered_from_the_tracker(
    app: Flask, client: FlaskClient, rasa: FakeRasa
) -> None:
    cid, message_id = held_message(client, rasa, "is anyone there")
    st = state(app)
    # The worker claimed it, Rasa took the turn, and the worker died before storing it.
    with st.db() as session:
        assert frontdoor.claim(session, message_id)
    st.rasa.send(cid, "is anyone there", message_id=message_id)
    age_claim(app, message_id)

    assert frontdoor.replay_unprocessed(st, older_than=timedelta(hours=1)) == 1
    assert rasa.texts_from(cid) == ["is anyone there"]  # one user turn, not two
    assert bot_texts(client, cid, message_id) == ["You said: is anyone there"]
    assert frontdoor.replay_unprocessed(st, older_than=timedelta(0)) == 0


def test_a_claim_taken_over_before_rasa_saw_the_turn_is_sent_once(
    app: Flask, client: FlaskClient, rasa: FakeRasa
) -> None:
    cid, message_id = held_message(client, rasa, "hello there")
    st = state(app)
    with st.db() as session:
        assert frontdoor.claim(session, message_id)
    age_claim(app, message_id)
    # A stale claim is taken at once, however young the message.
    assert frontdoor.replay_unprocessed(st, older_than=timedelta(hours=1)) == 1
    assert rasa.texts_from(cid) == ["hello there"]
    [user] = [e for e in rasa.trackers[cid] if e["event"] == "user"]
    assert user["metadata"] == {MESSAGE_ID_KEY: message_id}


def test_a_live_worker_renews_its_claims_so_no_one_takes_them(
    app: Flask, client: FlaskClient, rasa: FakeRasa
) -> None:
    _, message_id = held_message(client, rasa, "still thinking")
    st = state(app)
    with st.db() as session:
        assert frontdoor.claim(session, message_id)
    with st.running(message_id):
        age_claim(app, message_id)
        assert frontdoor.renew_claims(st) == 1  # the heartbeat
        assert frontdoor.replay_unprocessed(st, older_than=timedelta(0)) == 0
    assert frontdoor.renew_claims(st) == 0  # the turn ended: nothing of ours left
    age_claim(app, message_id)
    assert frontdoor.replay_unprocessed(st, older_than=timedelta(0)) == 1


def test_the_answer_is_read_from_rasa_tracker_events() -> None:
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "hi", "metadata": {MESSAGE_ID_KEY: 6}},
        {"event": "bot", "text": "first"},
        {"event": "user", "text": "options", "metadata": {MESSAGE_ID_KEY: 7, "model_id": "m"}},
        {"event": "action", "name": "utter_options"},
        {
            "event": "bot",
            "text": "Pick one",
            "data": {"buttons": [{"title": "Yes", "payload": "/affirm"}]},
        },
        {"event": "bot", "text": None, "data": {}},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "later", "metadata": {MESSAGE_ID_KEY: 8}},
        {"event": "bot", "text": "not this"},
    ]
    [answer] = answer_from_events(events, 7) or []
    assert answer.text == "Pick one" and answer.buttons == [{"title": "Yes", "payload": "/affirm"}]
    assert answer_from_events(events, 9) is None
    assert answer_from_events([{"event": "user", "metadata": {MESSAGE_ID_KEY: 5}}], 5) == []


def test_a_turn_rasa_answers_after_the_client_gave_up_is_answered_once_from_the_tracker(
    app: Flask, client: FlaskClient, rasa: FakeRasa
) -> None:
    """Rasa slower than the client's timeout still takes the turn: the retry must not
    send the message again (a form would take the same answer twice) but deliver the
    late answer Rasa recorded."""
    st = state(app)
    cid, message_id = held_message(client, rasa, "are you slow")
    st.rasa.timeout = 0.3
    rasa.delay = 1.0
    with pytest.raises(RasaUnavailable):
        frontdoor.process(st, message_id)
    st.rasa.timeout, rasa.delay = 25.0, 0.0
    time.sleep(1.0)  # Rasa finishes the turn the client gave up on
    assert rasa.texts_from(cid) == ["are you slow"]
    # Not retried while its claim is fresh; taken over once it is stale.
    assert frontdoor.replay_unprocessed(st, older_than=timedelta(0)) == 0
    age_claim(app, message_id)
    assert frontdoor.replay_unprocessed(st, older_than=timedelta(0)) == 1
    assert rasa.texts_from(cid) == ["are you slow"]  # one turn, not two
    assert bot_texts(client, cid, message_id) == ["You said: are you slow"]
    assert frontdoor.replay_unprocessed(st, older_than=timedelta(0)) == 0
