"""The web chat API (DESIGN.md contract) against a fake Rasa."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from casework.db import session_scope
from casework.models import Conversation, ConversationState, Message, Ticket
from tests.browser.fake_rasa import FakeRasa
from webhook import frontdoor
from webhook.state import state


def count(app: Flask, model: type) -> int:
    with session_scope(state(app).settings.database_url) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_first_message_creates_a_conversation_and_returns_the_contract_shape(
    client: FlaskClient, rasa: FakeRasa
) -> None:
    response = client.post("/api/chat", json={"text": "hello there"})
    assert response.status_code == 200
    data = response.get_json()
    assert set(data) >= {"conversation_id", "messages"}
    assert data["messages"] == [
        {**data["messages"][0], "text": "You said: hello there", "buttons": []}
    ]
    assert rasa.received == [(data["conversation_id"], "hello there")]


def test_conversation_continues_and_messages_are_stored_in_order(
    app: Flask, client: FlaskClient
) -> None:
    cid = client.post("/api/chat", json={"text": "one"}).get_json()["conversation_id"]
    again = client.post("/api/chat", json={"conversation_id": cid, "text": "two"})
    assert again.get_json()["conversation_id"] == cid
    with session_scope(state(app).settings.database_url) as session:
        texts = [(m.author, m.text) for m in session.scalars(select(Message).order_by(Message.id))]
        processed = session.scalars(select(Message.processed_at)).all()
    assert texts == [
        ("resident", "one"),
        ("bot", "You said: one"),
        ("resident", "two"),
        ("bot", "You said: two"),
    ]
    assert all(processed)


def test_polling_returns_later_messages_with_a_cursor(client: FlaskClient) -> None:
    first = client.post("/api/chat", json={"text": "hi"}).get_json()
    cid, cursor = first["conversation_id"], first["cursor"]
    history = client.get(f"/api/chat/{cid}/messages?after=0").get_json()
    assert [m["author"] for m in history["messages"]] == ["resident", "bot"]
    assert history["cursor"] == cursor
    assert client.get(f"/api/chat/{cid}/messages?after={cursor}").get_json()["messages"] == []
    assert client.get(f"/api/chat/{cid}/messages?after=abc").status_code == 400


def test_unknown_or_malformed_conversation_is_404_and_stores_nothing(
    app: Flask, client: FlaskClient
) -> None:
    for cid in ("0" * 32, "not-an-id", "../../etc"):
        response = client.post("/api/chat", json={"conversation_id": cid, "text": "hi"})
        assert response.status_code == 404
        assert "error" in response.get_json()
    assert client.get(f"/api/chat/{'0' * 32}/messages").status_code == 404
    assert count(app, Message) == 0 and count(app, Conversation) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"text": ""},
        {"text": "   "},
        {"text": "x" * 1001},
        {"text": 5},
        {},
        [],
        {"text": "a", "conversation_id": 7},
    ],
)
def test_bad_messages_get_a_polite_400_and_store_nothing(
    app: Flask, client: FlaskClient, body: object
) -> None:
    response = client.post("/api/chat", json=body)
    assert response.status_code == 400
    assert (
        response.get_json()["error"].startswith("Please")
        or "not valid" in response.get_json()["error"]
    )
    assert count(app, Message) == 0


def test_oversized_body_is_413_and_non_json_is_415(app: Flask, client: FlaskClient) -> None:
    big = client.post(
        "/api/chat", data=b'{"text": "' + b"a" * 70_000 + b'"}', content_type="application/json"
    )
    assert big.status_code == 413
    form = client.post("/api/chat", data={"text": "hi"})
    assert form.status_code == 415
    assert count(app, Message) == 0


def test_html_is_stored_and_returned_as_plain_text(client: FlaskClient) -> None:
    text = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    data = client.post("/api/chat", json={"text": text}).get_json()
    assert data["messages"][0]["text"] == f"You said: {text}"
    # The JSON is data; the widget renders it with textContent (see widget.js).
    page = client.get("/")
    assert b"<script>alert" not in page.data


def test_slash_commands_are_not_passed_as_intents(client: FlaskClient, rasa: FakeRasa) -> None:
    cid = client.post("/api/chat", json={"text": "/restart"}).get_json()["conversation_id"]
    assert rasa.texts_from(cid) == ["restart"]
    client.post("/api/chat", json={"conversation_id": cid, "text": '/inform{"name": "x"}'})
    assert rasa.texts_from(cid)[-1] == 'inform{"name": "x"}'


def test_offered_button_payloads_pass(client: FlaskClient, rasa: FakeRasa) -> None:
    data = client.post("/api/chat", json={"text": "show me options"}).get_json()
    cid = data["conversation_id"]
    assert data["messages"][0]["buttons"] == [
        {"title": "Yes", "payload": "/affirm"},
        {"title": "No", "payload": "/deny"},
    ]
    reply = client.post("/api/chat", json={"conversation_id": cid, "text": "/affirm"}).get_json()
    assert reply["messages"][0]["text"] == "You chose yes."
    # The offer is used up: the same payload now is plain text.
    client.post("/api/chat", json={"conversation_id": cid, "text": "/deny"})
    assert rasa.texts_from(cid)[-1] == "deny"


def test_rasa_down_gets_the_holding_reply_message_kept_and_answered_later(
    app: Flask, client: FlaskClient, rasa: FakeRasa
) -> None:
    rasa.down = True
    response = client.post("/api/chat", json={"text": "are you there"})
    assert response.status_code == 200
    data = response.get_json()
    assert data["pending"] is True
    assert [m["text"] for m in data["messages"]] == [state(app).org.holding_reply]
    cid = data["conversation_id"]
    with session_scope(state(app).settings.database_url) as session:
        stored = session.scalars(select(Message).where(Message.direction == "in")).all()
        assert [(m.text, m.processed_at) for m in stored] == [("are you there", None)]
    rasa.down = False
    assert frontdoor.replay_unprocessed(state(app), older_than=timedelta(0)) == 1
    later = client.get(f"/api/chat/{cid}/messages?after={data['cursor']}").get_json()
    new = [m["text"] for m in later["messages"] if m["author"] == "bot"]
    assert new == ["You said: are you there"]
    # Nothing is answered twice.
    assert frontdoor.replay_unprocessed(state(app), older_than=timedelta(0)) == 0


def test_handoff_bot_stays_silent_staff_reply_arrives_and_bot_speaks_after_resume(
    app: Flask, client: FlaskClient, rasa: FakeRasa
) -> None:
    first = client.post("/api/chat", json={"text": "I want a person"}).get_json()
    cid = first["conversation_id"]
    assert "passed this to the Talk2Us team" in first["messages"][0]["text"]
    assert first["with_staff"] is True
    sent_before = len(rasa.received)
    # While staff own it: no Rasa call, one acknowledgement only.
    ack = client.post("/api/chat", json={"conversation_id": cid, "text": "hello?"}).get_json()
    assert [m["author"] for m in ack["messages"]] == ["system"]
    again = client.post(
        "/api/chat", json={"conversation_id": cid, "text": "still there?"}
    ).get_json()
    assert again["messages"] == []
    assert len(rasa.received) == sent_before
    with session_scope(state(app).settings.database_url) as session:
        ticket = session.scalars(select(Ticket)).one()
        assert [e["text"] for e in ticket.transcript][-2:] == ["hello?", "still there?"]
        conversation = session.get(Conversation, cid)
        assert conversation is not None and conversation.state == ConversationState.STAFF


def test_end_and_delete_removes_the_conversation(
    app: Flask, client: FlaskClient, rasa: FakeRasa
) -> None:
    cid = client.post("/api/chat", json={"text": "hi"}).get_json()["conversation_id"]
    assert client.delete(f"/api/chat/{cid}").get_json() == {"deleted": True, "conversation_id": cid}
    assert count(app, Message) == 0 and count(app, Conversation) == 0
    assert client.get(f"/api/chat/{cid}/messages").status_code == 404
    assert client.post("/api/chat", json={"conversation_id": cid, "text": "x"}).status_code == 404
    assert (cid, {"event": "restart"}) in rasa.events


def test_bursts_from_one_conversation_get_429(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RATE_LIMIT_CHAT", "3/minute")
    cid = client.post("/api/chat", json={"text": "1"}).get_json()["conversation_id"]
    codes = [
        client.post("/api/chat", json={"conversation_id": cid, "text": str(i)}).status_code
        for i in range(4)
    ]
    assert codes == [200, 200, 200, 429]  # the first message had no id yet
    limited = client.post("/api/chat", json={"conversation_id": cid, "text": "x"})
    assert "Too many messages" in limited.get_json()["error"]
    assert count(app, Message) == 8  # 4 answered turns, nothing from the refused ones


def test_a_429_says_when_to_come_back_in_whole_seconds(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RATE_LIMIT_CHAT", "2/minute")
    cid = client.post("/api/chat", json={"text": "1"}).get_json()["conversation_id"]
    started = time.time()  # the limit's window opens with the first counted message
    ok = client.post("/api/chat", json={"conversation_id": cid, "text": "2"})
    assert ok.status_code == 200 and "Retry-After" not in ok.headers
    client.post("/api/chat", json={"conversation_id": cid, "text": "3"})
    limited = client.post("/api/chat", json={"conversation_id": cid, "text": "4"})
    assert limited.status_code == 429
    seconds = limited.get_json()["retry_after"]
    assert limited.headers["Retry-After"] == str(seconds)
    # Never sooner than the window really reopens, never more than the window itself.
    assert started + 60 - time.time() <= seconds <= 61


def test_retry_after_rounds_up_to_at_least_a_second() -> None:
    from webhook.errors import retry_after

    assert retry_after(100.0, now=100.0) == 1
    assert retry_after(100.2, now=100.0) == 1
    assert retry_after(130.5, now=100.0) == 31


def test_widget_page_and_config(client: FlaskClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert b'src="/static/widget.js"' in page.data
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    config = client.get("/api/chat/config").get_json()
    assert config["retention_days"] == 90 and config["contact_team"] == "Talk2Us"


def test_widget_on_the_landlords_site_may_call_the_chat_api(client: FlaskClient) -> None:
    """The widget is embedded on the organisation's website (another origin)."""
    landlord = "https://www.barnethomes.org"
    preflight = client.options(
        "/api/chat",
        headers={
            "Origin": landlord,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == landlord
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    posted = client.post("/api/chat", json={"text": "hello"}, headers={"Origin": landlord})
    assert posted.status_code == 200
    assert posted.headers["Access-Control-Allow-Origin"] == landlord


def test_other_origins_and_other_routes_get_no_cors(client: FlaskClient) -> None:
    evil = client.options(
        "/api/chat",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in evil.headers
    tickets = client.get("/api/tickets", headers={"Origin": "https://www.barnethomes.org"})
    assert "Access-Control-Allow-Origin" not in tickets.headers


def test_a_claim_left_by_a_dead_worker_is_answered_after_the_timeout(
    app: Flask, client: FlaskClient, rasa: FakeRasa
) -> None:
    rasa.down = True
    data = client.post("/api/chat", json={"text": "is anyone there"}).get_json()
    cid, message_id = data["conversation_id"], data["message_id"]
    rasa.down = False
    url = state(app).settings.database_url
    # A worker claimed the message and died before answering: its claim is fresh...
    with session_scope(url) as session:
        assert frontdoor.claim(session, message_id)
    assert frontdoor.replay_unprocessed(state(app), older_than=timedelta(0)) == 0
    # ...then stale: the message is no longer held by anyone and gets its answer.
    with session_scope(url) as session:
        message = session.get(Message, message_id)
        assert message is not None and message.processed_at is None
        message.claimed_at -= frontdoor.CLAIM_TIMEOUT + timedelta(seconds=1)
    assert frontdoor.replay_unprocessed(state(app), older_than=timedelta(0)) == 1
    later = client.get(f"/api/chat/{cid}/messages?after={message_id}").get_json()
    bot = [m["text"] for m in later["messages"] if m["author"] == "bot"]
    assert bot == ["You said: is anyone there"]
    with session_scope(url) as session:
        message = session.get(Message, message_id)
        assert message is not None and message.processed_at is not None
    assert frontdoor.replay_unprocessed(state(app), older_than=timedelta(0)) == 0


def test_a_turn_rasa_answers_with_nothing_gets_the_apology_not_silence(
    app: Flask, client: FlaskClient, rasa: FakeRasa
) -> None:
    """Both parts up, the turn said nothing (an action failed inside Rasa): the resident
    gets the organisation's no-answer apology, once, and the message counts as answered."""
    body = client.post("/api/chat", json={"text": "please stay silent"}).get_json()
    assert [m["text"] for m in body["messages"]] == [state(app).org.no_reply]
    assert "speak to a person" in state(app).org.no_reply
    with session_scope(state(app).settings.database_url) as session:
        message = session.scalars(select(Message).where(Message.direction == "in")).one()
        assert message.processed_at is not None
    assert rasa.texts_from(body["conversation_id"]) == ["please stay silent"]
