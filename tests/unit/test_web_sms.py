"""Twilio SMS webhook, keywords, outbox and delivery status: the real `twilio` library
(RequestValidator, REST client) against a local stand-in of Twilio's REST API."""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from casework import ledger
from casework.db import session_scope
from casework.models import (
    ConsentEvent,
    Conversation,
    Message,
    OutboundMessage,
    Ticket,
    TicketKind,
    utcnow,
)
from tests.browser.fake_rasa import FakeRasa
from tests.browser.webapp import settings_for
from tests.fakes.twilio_api import FakeTwilioAPI
from webhook import create_app, sms_format
from webhook.state import state

TOKEN = "test-twilio-token"
PUBLIC = "https://privacy.example.org"
PHONE = "+447700900123"
SID = "AC" + "1" * 32


@pytest.fixture
def twilio() -> Iterator[FakeTwilioAPI]:
    with FakeTwilioAPI() as fake:
        yield fake


@pytest.fixture
def app(tmp_path: Path, rasa: FakeRasa) -> Flask:
    # Behind a proxy: Twilio signs the public URL, not the host the app sees.
    return create_app(settings_for(tmp_path, rasa.url, public_base_url=PUBLIC), background=False)


@pytest.fixture
def live_app(tmp_path: Path, rasa: FakeRasa, twilio: FakeTwilioAPI) -> Flask:
    settings = settings_for(
        tmp_path,
        rasa.url,
        public_base_url=PUBLIC,
        twilio_account_sid=SID,
        twilio_api_base=twilio.base_url,
    )
    return create_app(settings, background=False)


def inbound(body: str, phone: str = PHONE, sid: str | None = None) -> dict[str, str]:
    return {
        "MessageSid": sid or "SM" + uuid.uuid4().hex,
        "AccountSid": SID,
        "From": phone,
        "To": "+447700900000",
        "Body": body,
        "NumMedia": "0",
    }


def post_signed(client: FlaskClient, path: str, params: dict[str, str], url: str | None = None):  # noqa: ANN201
    signature = RequestValidator(TOKEN).compute_signature(url or PUBLIC + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def db(app: Flask):  # noqa: ANN201
    return session_scope(state(app).settings.database_url)


def count(app: Flask, model: type) -> int:
    with db(app) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def outbox_rows(app: Flask) -> list[OutboundMessage]:
    with db(app) as session:
        return list(session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


def test_signed_message_is_stored_answered_in_background_and_sent_locally(
    app: Flask, rasa: FakeRasa
) -> None:
    client = app.test_client()
    response = post_signed(client, "/sms/inbound", inbound("What data do you keep?"))
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert b"<Message>" not in response.data  # the answer comes through the outbox
    state(app).wait_idle()
    rows = outbox_rows(app)
    assert [(r.to, r.body, r.status) for r in rows] == [
        (PHONE, "You said: What data do you keep?", "pending")
    ]
    assert state(app).outbox.send_due() == 1
    assert outbox_rows(app)[0].status == "local"  # no Twilio account: stays here


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
    ],
)
def test_unsigned_or_forged_requests_are_403_and_store_nothing(
    app: Flask, headers: dict[str, str]
) -> None:
    response = app.test_client().post("/sms/inbound", data=inbound("hi"), headers=headers)
    assert response.status_code == 403
    assert count(app, Message) == 0 and count(app, Conversation) == 0


def test_signature_over_the_internal_url_is_rejected(app: Flask) -> None:
    response = post_signed(
        app.test_client(), "/sms/inbound", inbound("hi"), url="http://localhost/sms/inbound"
    )
    assert response.status_code == 403


def test_tampered_body_with_a_replayed_signature_is_403(app: Flask) -> None:
    params = inbound("hello")
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/sms/inbound", params)
    tampered = {**params, "Body": "STOP"}
    response = app.test_client().post(
        "/sms/inbound", data=tampered, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 403
    assert count(app, Message) == 0


def test_twilio_retries_are_deduplicated_on_message_sid(app: Flask, rasa: FakeRasa) -> None:
    client = app.test_client()
    params = inbound("hello", sid="SM" + "a" * 32)
    for _ in range(3):
        assert post_signed(client, "/sms/inbound", params).status_code == 200
    state(app).wait_idle()
    assert count(app, Message) == 2  # one in, one reply
    assert len(rasa.received) == 1
    assert len(outbox_rows(app)) == 1


def test_one_conversation_per_phone_number_whatever_its_format(app: Flask) -> None:
    client = app.test_client()
    post_signed(client, "/sms/inbound", inbound("one", phone="+447700900123"))
    post_signed(client, "/sms/inbound", inbound("two", phone="07700900123"))
    state(app).wait_idle()
    assert count(app, Conversation) == 1


def test_bad_fields_are_400(app: Flask) -> None:
    client = app.test_client()
    assert post_signed(client, "/sms/inbound", inbound("x", sid="nope")).status_code == 400
    assert post_signed(client, "/sms/inbound", inbound("x", phone="<script>")).status_code == 400
    assert post_signed(client, "/sms/inbound", inbound("x" * 1601)).status_code == 413
    assert count(app, Message) == 0


def test_stop_records_opt_outs_blocks_sms_and_tells_staff(app: Flask) -> None:
    client = app.test_client()
    post_signed(client, "/sms/inbound", inbound("I want a copy of my data"))
    state(app).wait_idle()
    response = post_signed(client, "/sms/inbound", inbound("Stop"))
    assert b"unsubscribed" in response.data and b"START" in response.data
    with db(app) as session:
        conversation = session.scalars(select(Conversation)).one()
        assert conversation.sms_blocked
        key = conversation.sender_key
        choices = ledger.current_choices(session, key, "barnet-homes")
        assert choices[("marketing", "sms")] == "opt_out"
        assert choices[(ledger.SMS_SERVICE, "sms")] == "opt_out"
        by_kind = {t.kind: t for t in session.scalars(select(Ticket))}
        assert by_kind[TicketKind.SAR].sms_unreachable  # the resident's open request is flagged
        assert by_kind[TicketKind.MARKETING_OPT_OUT].sms_unreachable
        assert "STOP" in by_kind[TicketKind.MARKETING_OPT_OUT].summary
    # Replies after STOP are kept for staff but never sent.
    post_signed(client, "/sms/inbound", inbound("what about my request"))
    state(app).wait_idle()
    assert outbox_rows(app)[-1].status == "blocked"


def test_start_re_enables_sms_but_not_marketing(app: Flask) -> None:
    client = app.test_client()
    post_signed(client, "/sms/inbound", inbound("STOP"))
    response = post_signed(client, "/sms/inbound", inbound("start"))
    assert b"still opted out of marketing" in response.data
    with db(app) as session:
        conversation = session.scalars(select(Conversation)).one()
        assert not conversation.sms_blocked
        key = conversation.sender_key
        assert (
            ledger.current_choices(session, key, "barnet-homes")[(ledger.SMS_SERVICE, "sms")]
            == "opt_in"
        )
        assert ledger.is_marketing_opted_out(session, key, "barnet-homes", "sms")
        assert not session.scalars(select(Ticket)).one().sms_unreachable
    assert count(app, ConsentEvent) == 3


def test_help_explains_the_service_and_the_contact_team(app: Flask, rasa: FakeRasa) -> None:
    response = post_signed(app.test_client(), "/sms/inbound", inbound("HELP"))
    assert b"Talk2Us" in response.data and b"020 8080 6587" in response.data
    assert rasa.received == []


def test_long_answers_fit_three_segments_with_the_citation_shortened(app: Flask) -> None:
    post_signed(app.test_client(), "/sms/inbound", inbound("tell me the long version"))
    state(app).wait_idle()
    body = outbox_rows(app)[0].body
    assert sms_format.segments(body) <= 3
    assert sms_format.is_gsm(body)
    assert body.startswith("You have the right")
    assert body.endswith(".") or body.endswith(")")


def test_numbered_quick_replies(app: Flask, rasa: FakeRasa) -> None:
    client = app.test_client()
    post_signed(client, "/sms/inbound", inbound("options please"))
    state(app).wait_idle()
    assert outbox_rows(app)[0].body.endswith("Reply 1 Yes, 2 No")
    post_signed(client, "/sms/inbound", inbound("1"))
    state(app).wait_idle()
    assert rasa.received[-1][1] == "/affirm"
    assert outbox_rows(app)[-1].body == "You chose yes."


def test_rasa_down_the_sms_waits_in_the_store(app: Flask, rasa: FakeRasa) -> None:
    from datetime import timedelta

    from webhook import frontdoor

    rasa.down = True
    assert post_signed(app.test_client(), "/sms/inbound", inbound("hello")).status_code == 200
    state(app).wait_idle()
    holding = sms_format.normalise(state(app).org.holding_reply)
    assert [r.body for r in outbox_rows(app)] == [holding]  # told at once, nothing else
    rasa.down = False
    assert frontdoor.replay_unprocessed(state(app), older_than=timedelta(0)) == 1
    assert [r.body for r in outbox_rows(app)] == [holding, "You said: hello"]


def _post_status(client: FlaskClient, url: str, sid: str, status: str) -> TestResponse:
    """A delivery callback as Twilio sends it: form POST signed over the full URL."""
    params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": SID}
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + url, params)
    return client.post(url, data=params, headers={"X-Twilio-Signature": signature})


def test_replies_go_through_twilio_with_retries_and_status_callbacks(
    live_app: Flask, twilio: FakeTwilioAPI
) -> None:
    client = live_app.test_client()
    post_signed(client, "/sms/inbound", inbound("hello"))
    state(live_app).wait_idle()
    twilio.fail_next(2)  # two 500s from Twilio, then success
    for _ in range(3):
        with db(live_app) as session:  # skip the back-off wait
            session.execute(update(OutboundMessage).values(next_attempt_at=utcnow()))
        state(live_app).outbox.send_due()
    row = outbox_rows(live_app)[0]
    assert row.attempts == 3 and row.status == "queued" and row.provider_id
    [sent] = twilio.sent_to(PHONE)
    assert sent.body == "You said: hello" and sent.from_ == "+447700900000"
    callback = f"/sms/status?ref={row.id}"
    assert sent.status_callback == PUBLIC + callback
    # Twilio calls back (signed); our endpoint is reached through the test client.
    assert _post_status(client, callback, sent.sid, "delivered").status_code == 204
    assert outbox_rows(live_app)[0].status == "delivered"
    # A late 'sent' callback does not step back.
    _post_status(client, callback, sent.sid, "sent")
    assert outbox_rows(live_app)[0].status == "delivered"
    # A callback naming another message's row changes nothing.
    other_sid = "SM" + "0" * 32
    assert _post_status(client, callback, other_sid, "failed").status_code == 200
    assert outbox_rows(live_app)[0].status == "delivered"


def _sent_without_sid(app: Flask) -> tuple[int, str]:
    """One reply sent through Twilio, its sid taken back out as if not committed yet."""
    post_signed(app.test_client(), "/sms/inbound", inbound("hello"))
    state(app).wait_idle()
    state(app).outbox.send_due()
    row = outbox_rows(app)[0]
    with db(app) as session:
        session.execute(update(OutboundMessage).values(provider_id=None))
    return row.id, row.provider_id


def test_a_status_callback_that_beats_the_sid_commit_finds_its_row(
    live_app: Flask, twilio: FakeTwilioAPI
) -> None:
    row_id, sid = _sent_without_sid(live_app)
    response = _post_status(live_app.test_client(), f"/sms/status?ref={row_id}", sid, "delivered")
    assert response.status_code == 204
    row = outbox_rows(live_app)[0]
    assert (row.status, row.provider_id) == ("delivered", sid)


def test_a_callback_without_ref_waits_briefly_for_the_sid_commit(
    live_app: Flask, twilio: FakeTwilioAPI
) -> None:
    # Messages sent before callbacks carried a ref are found by sid.
    row_id, sid = _sent_without_sid(live_app)

    def commit_sid_later() -> None:
        time.sleep(0.3)
        with db(live_app) as session:
            session.execute(update(OutboundMessage).values(provider_id=sid))

    late = threading.Thread(target=commit_sid_later)
    late.start()
    response = _post_status(live_app.test_client(), "/sms/status", sid, "delivered")
    late.join()
    assert response.status_code == 204
    assert outbox_rows(live_app)[0].status == "delivered"


def test_number_blocked_at_twilio_fails_without_retrying(
    live_app: Flask, twilio: FakeTwilioAPI
) -> None:
    twilio.block(PHONE)
    post_signed(live_app.test_client(), "/sms/inbound", inbound("hello"))
    state(live_app).wait_idle()
    state(live_app).outbox.send_due()
    row = outbox_rows(live_app)[0]
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, "Twilio error 21610")


def test_status_callback_must_be_signed(live_app: Flask) -> None:
    response = live_app.test_client().post(
        "/sms/status", data={"MessageSid": "SM" + "b" * 32, "MessageStatus": "delivered"}
    )
    assert response.status_code == 403


def test_wrong_account_sid_is_rejected(live_app: Flask) -> None:
    params = {**inbound("hi"), "AccountSid": "AC" + "9" * 32}
    assert post_signed(live_app.test_client(), "/sms/inbound", params).status_code == 403


def test_bursts_from_one_phone_get_429(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATE_LIMIT_SMS", "2/minute")
    client = app.test_client()
    codes = [post_signed(client, "/sms/inbound", inbound(f"m{i}")).status_code for i in range(3)]
    assert codes == [200, 200, 429]
    other = post_signed(client, "/sms/inbound", inbound("hi", phone="+447700900999"))
    assert other.status_code == 200
    state(app).wait_idle()
    assert count(app, Message) == 6


def test_dev_phone_signs_requests_the_webhook_accepts(tmp_path: Path, rasa: FakeRasa) -> None:
    app = create_app(settings_for(tmp_path, rasa.url, dev_tools=True), background=False)
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    assert client.get("/dev/phone").status_code == 200
    signed = client.post(
        "/dev/phone/sign", json={"phone": "07700 900123", "body": "HELP"}
    ).get_json()
    response = client.post(
        signed["url"], data=signed["params"], headers={"X-Twilio-Signature": signed["signature"]}
    )
    assert response.status_code == 200 and b"Talk2Us" in response.data
    log = client.get("/dev/phone/messages?phone=07700900123").get_json()["messages"]
    assert [m["dir"] for m in log] == ["in", "out"]


def test_dev_pages_do_not_exist_in_production(tmp_path: Path, rasa: FakeRasa) -> None:
    settings = dataclasses.replace(settings_for(tmp_path, rasa.url), production=True)
    client = create_app(settings, background=False).test_client()
    assert client.get("/dev/phone").status_code == 404
    assert client.post("/dev/phone/sign", json={}).status_code == 404


def _age_claims(app: Flask, minutes: int = 3) -> None:
    """As if every claim was taken by a worker that died `minutes` ago."""
    with db(app) as session:
        session.execute(
            update(Message)
            .where(Message.claimed_at.is_not(None))
            .values(claimed_at=utcnow() - timedelta(minutes=minutes))
        )


@pytest.mark.parametrize("bodies", [["STOP", "START", "HELP"], ["  ", "unstop"]])
def test_inline_answers_are_never_replayed(app: Flask, rasa: FakeRasa, bodies: list[str]) -> None:
    """Keywords and empty texts are answered in the TwiML and marked processed with it:
    the retry loop, minutes later, finds nothing to send to Rasa or text again."""
    from webhook import frontdoor

    client = app.test_client()
    for body in bodies:
        assert b"<Message>" in post_signed(client, "/sms/inbound", inbound(body)).data
    _age_claims(app)
    assert frontdoor.replay_unprocessed(state(app), older_than=timedelta(0)) == 0
    state(app).wait_idle()
    assert rasa.received == []
    assert len(outbox_rows(app)) == len(bodies)  # one text per message, not two
    with db(app) as session:
        inbound_rows = session.scalars(select(Message).where(Message.direction == "in")).all()
        assert all(m.processed_at is not None for m in inbound_rows)


def test_unstop_is_an_opt_in_word(app: Flask) -> None:
    client = app.test_client()
    post_signed(client, "/sms/inbound", inbound("STOP"))
    response = post_signed(client, "/sms/inbound", inbound("Unstop"))
    assert b"switched back on" in response.data
    with db(app) as session:
        assert not session.scalars(select(Conversation)).one().sms_blocked


def test_yes_opts_in_only_while_the_number_is_opted_out(app: Flask, rasa: FakeRasa) -> None:
    client = app.test_client()
    # Not opted out: YES is an ordinary answer for Rasa (say, to "shall I start a SAR?").
    assert b"<Message>" not in post_signed(client, "/sms/inbound", inbound("Yes")).data
    state(app).wait_idle()
    assert [text for _, text in rasa.received] == ["Yes"]
    post_signed(client, "/sms/inbound", inbound("STOP"))
    response = post_signed(client, "/sms/inbound", inbound("YES"))
    assert b"switched back on" in response.data
    state(app).wait_idle()
    assert [text for _, text in rasa.received] == ["Yes"]
    with db(app) as session:
        conversation = session.scalars(select(Conversation)).one()
        assert not conversation.sms_blocked
        decisions = [e.decision for e in ledger.history(session, conversation.sender_key)]
        assert decisions[-1] == "opt_in"


def _abandoned_claim(app: Flask, minutes: float) -> int:
    """A reply whose sender claimed it `minutes` ago and then died before sending."""
    post_signed(app.test_client(), "/sms/inbound", inbound("hello"))
    state(app).wait_idle()
    with db(app) as session:
        row = session.scalars(select(OutboundMessage)).one()
        row.status, row.attempts = "claimed", 1
        session.flush()
        session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == row.id)
            .values(updated_at=utcnow() - timedelta(minutes=minutes))
        )
        return row.id


def test_an_outbox_claim_of_a_dead_sender_is_sent_later_once(
    live_app: Flask, twilio: FakeTwilioAPI
) -> None:
    _abandoned_claim(live_app, minutes=3)
    sender = state(live_app).outbox
    assert sender.send_due() == 1
    assert sender.send_due() == 0
    [sent] = twilio.sent_to(PHONE)
    assert sent.body == "You said: hello"
    row = outbox_rows(live_app)[0]
    assert (row.status, row.attempts) == ("queued", 2)


def test_a_fresh_outbox_claim_is_left_to_its_sender(live_app: Flask, twilio: FakeTwilioAPI) -> None:
    _abandoned_claim(live_app, minutes=0.5)  # still within the claim timeout: alive
    assert state(live_app).outbox.send_due() == 0
    assert twilio.sent_to(PHONE) == []


def test_two_senders_racing_for_an_abandoned_claim_send_it_once(
    live_app: Flask, twilio: FakeTwilioAPI
) -> None:
    from webhook.outbox import OutboxSender

    _abandoned_claim(live_app, minutes=3)
    senders = [OutboxSender(state(live_app).settings) for _ in range(4)]
    barrier = threading.Barrier(len(senders))

    def run(sender: OutboxSender) -> int:
        barrier.wait()
        return sender.send_due()

    results: list[int] = []
    threads = [threading.Thread(target=lambda s=s: results.append(run(s))) for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 0, 0, 1]
    assert len(twilio.sent_to(PHONE)) == 1


def test_unsigned_posts_cannot_use_up_a_residents_sms_limit(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RATE_LIMIT_SMS", "2/minute")
    client = app.test_client()
    for i in range(5):  # an attacker naming the resident's number, without Twilio's key
        forged = client.post("/sms/inbound", data=inbound(f"x{i}"))
        assert forged.status_code == 403
    codes = [post_signed(client, "/sms/inbound", inbound(f"m{i}")).status_code for i in range(3)]
    assert codes == [200, 200, 429]  # the resident's own limit is whole
    state(app).wait_idle()


def test_rate_limit_keys_do_not_hold_a_plain_hash_of_the_number(app: Flask) -> None:
    import hashlib

    from casework.pseudonym import subject_key
    from webhook.security import sender_key

    with app.test_request_context("/sms/inbound", method="POST", data={"From": PHONE}):
        key = sender_key()
    assert hashlib.sha256(PHONE.encode()).hexdigest()[:16] not in key
    assert key == "sms:" + subject_key(PHONE, state(app).settings.pseudonym_key)[:32]


def test_the_sms_sender_never_texts_an_email_row(live_app: Flask, twilio: FakeTwilioAPI) -> None:
    """An e-mail confirmation waits for an e-mail sender; only the SMS row is texted."""
    from casework import outbox as confirmations

    secret = state(live_app).settings.secret_key
    with db(live_app) as session:
        for channel, to in (("email", "sam@example.com"), ("sms", PHONE)):
            confirmations.queue(
                session, channel=channel, conversation_id=None, to=to, body=channel, secret=secret
            )
    assert state(live_app).outbox.send_due() == 1
    assert [m.body for m in twilio.sent_to(PHONE)] == ["sms"]
    assert twilio.sent_to("sam@example.com") == []
    statuses = {row.channel: row.status for row in outbox_rows(live_app)}
    assert statuses == {"email": "pending", "sms": "queued"}
