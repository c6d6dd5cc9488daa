"""A bounded fuzzing pass over `POST /api/chat` and `/sms/inbound` (the Flask app with a
fake Rasa on loopback): odd JSON shapes, types, unicode, control characters, slash
commands, huge and empty fields, forged and real signatures. Every answer is a deliberate
status (never 5xx), and no request leaves a partial record: a refused request stores
nothing, an accepted one is stored and answered.

Two passes: a seeded generator of hand-picked nasties (the same 400 cases every run; a
failure names its seed and case number) and hypothesis over any JSON and any signed SMS
body (derandomised, so CI sees the same examples; a failure is shrunk to its smallest)."""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from casework.db import session_scope
from casework.models import Conversation, Message
from tests.browser.fake_rasa import FakeRasa
from tests.browser.webapp import settings_for
from webhook import create_app
from webhook.state import state

SEED = 20261202
CASES = 200
TOKEN = "test-twilio-token"
PUBLIC = "https://privacy.example.org"

_WORDS = [
    "hello",
    "/restart",
    "/affirm",
    "STOP",
    "start",
    "HELP",
    "yes",
    "",
    " ",
    "talk to a person",
]
_ODD = [
    "\x00",
    "\u202e",
    "\ud7ff",
    "\ud800",  # a lone surrogate: valid in JSON text, not encodable as UTF-8
    "😀",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\r\n",
    "%s%n",
]


def _text(rng: random.Random) -> Any:
    kind = rng.randrange(8)
    if kind == 0:
        return rng.choice(_WORDS)
    if kind == 1:
        return "".join(rng.choice(_ODD) for _ in range(rng.randrange(1, 6)))
    if kind == 2:
        return "x" * rng.choice([999, 1000, 1001, 1600, 5000])
    if kind == 3:
        return rng.choice([None, 0, 1.5, True, [], {}, ["hi"], {"text": "hi"}])
    if kind == 4:
        return "".join(chr(rng.randrange(1, 0x2FFF)) for _ in range(rng.randrange(1, 40)))
    return " ".join(rng.choice(_WORDS + _ODD) for _ in range(rng.randrange(1, 8)))


def _chat_body(rng: random.Random, known: list[str]) -> Any:
    shape = rng.randrange(10)
    if shape == 0:
        return rng.choice([[], "text", 42, None, [{"text": "hi"}]])
    body: dict[str, Any] = {}
    if rng.random() < 0.9:
        body["text"] = _text(rng)
    if rng.random() < 0.5:
        body["conversation_id"] = rng.choice(
            [*known[-3:], uuid.uuid4().hex, "../etc/passwd", "", 7, None, "a" * 200, "%00"]
            if known
            else [uuid.uuid4().hex, "", 7, None]
        )
    if rng.random() < 0.2:
        body[rng.choice(["extra", "__proto__", "buttons"])] = _text(rng)
    return body


def _count(app: Flask, model: type) -> int:
    with session_scope(state(app).settings.database_url) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _inbound(app: Flask) -> int:
    """Stored resident messages (replies to earlier SMS arrive from a background job)."""
    with session_scope(state(app).settings.database_url) as session:
        query = select(func.count()).where(Message.direction == "in")
        return int(session.scalar(query) or 0)


def _unanswered(app: Flask) -> int:
    with session_scope(state(app).settings.database_url) as session:
        query = select(func.count()).where(
            Message.direction == "in", Message.processed_at.is_(None)
        )
        return int(session.scalar(query) or 0)


@pytest.fixture
def app(tmp_path: Path, rasa: FakeRasa, monkeypatch: pytest.MonkeyPatch) -> Flask:
    for name in ("RATE_LIMIT_CHAT", "RATE_LIMIT_NEW_CHAT", "RATE_LIMIT_SMS"):
        monkeypatch.setenv(name, "100000/minute")  # the limits are tested elsewhere
    return create_app(settings_for(tmp_path, rasa.url, public_base_url=PUBLIC), background=False)


def _check(case: int, status: int, before: int, after: int, allowed: set[int]) -> None:
    where = f"seed {SEED} case {case}"
    assert status < 500, f"{where}: server error {status}"
    assert status in allowed, f"{where}: unexpected {status}"
    if status >= 400:
        assert after == before, f"{where}: a refused request stored {after - before} message(s)"


def test_fuzz_chat_api(app: Flask) -> None:
    rng = random.Random(SEED)
    client = app.test_client()
    known: list[str] = []
    statuses: dict[int, int] = {}
    for case in range(CASES):
        body = _chat_body(rng, known)
        before = _count(app, Message)
        if rng.random() < 0.1:  # not JSON at all, or broken JSON
            raw = rng.choice([b"{", b"text=hi", json.dumps(body)[:-1].encode(), b"\xff\xfe"])
            response = client.post("/api/chat", data=raw, content_type="application/json")
        else:
            response = client.post("/api/chat", json=body)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        _check(case, response.status_code, before, _count(app, Message), {200, 400, 404, 413, 415})
        if response.status_code == 200:
            known.append(response.get_json()["conversation_id"])
    assert _unanswered(app) == 0  # every stored message was answered in its request
    assert statuses.get(200, 0) > 20 and statuses.get(400, 0) > 20  # both paths exercised


def _sms_form(rng: random.Random) -> dict[str, str]:
    good = rng.random() < 0.7  # mostly well-formed, so the accepted path is fuzzed too
    form = {
        "MessageSid": "SM" + uuid.uuid4().hex if good else rng.choice(["bad", "", "SM" + "g" * 32]),
        "AccountSid": "AC" + "0" * 32,
        "From": rng.choice(["+447700900123", "447700900124"])
        if good
        else rng.choice(["07700 900124", "+1", "<b>", "", "+44" + "9" * 20]),
        "To": "+447700900000",
        "NumMedia": rng.choice(["0", "1", "x"]),
    }
    text = _text(rng)
    if rng.random() < 0.9:
        form["Body"] = text if isinstance(text, str) else json.dumps(text)
    # What a form on the wire can carry: no NUL, no lone surrogates (not UTF-8).
    return {k: re.sub("[\x00\ud800-\udfff]", "", v) for k, v in form.items()}


def test_fuzz_sms_inbound(app: Flask) -> None:
    rng = random.Random(SEED + 1)
    client = app.test_client()
    validator = RequestValidator(TOKEN)
    sign: Callable[[dict[str, str]], str] = lambda form: validator.compute_signature(  # noqa: E731
        PUBLIC + "/sms/inbound", form
    )
    accepted = 0
    for case in range(CASES):
        form = _sms_form(rng)
        signature = sign(form) if rng.random() < 0.8 else rng.choice(["", "forged", sign({})])
        before = _inbound(app)
        response = client.post("/sms/inbound", data=form, headers={"X-Twilio-Signature": signature})
        _check(case, response.status_code, before, _inbound(app), {200, 400, 403, 413})
        accepted += response.status_code == 200
    state(app).wait_idle()
    assert accepted > 40
    assert _unanswered(app) == 0  # keywords inline, the rest by the background job
    assert _count(app, Conversation) <= 2  # two valid phone numbers, one conversation each


def test_half_an_emoji_is_stored_as_a_replacement_character(app: Flask, rasa: FakeRasa) -> None:
    """What the fuzzing found: a lone surrogate (a message cut inside an emoji) was a 500."""
    response = app.test_client().post(
        "/api/chat", data=b'{"text": "hi \\ud83d"}', content_type="application/json"
    )
    assert response.status_code == 200
    assert rasa.received[-1][1] == "hi \ufffd"


# Property-based pass (hypothesis): any JSON a browser or script could post, derandomised
# so CI sees the same examples every run, bounded to keep the unit suite quick.
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
_chat_bodies = st.one_of(
    _json,
    st.fixed_dictionaries(
        {"text": st.one_of(st.text(max_size=1200), _json)},
        optional={"conversation_id": st.one_of(st.text(max_size=40), _json)},
    ),
)


@settings(
    max_examples=120,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=_chat_bodies)
def test_any_json_body_is_answered_or_refused_whole(app: Flask, body: Any) -> None:
    before = _count(app, Message)
    response = app.test_client().post("/api/chat", json=body)
    assert response.status_code in {200, 400, 404, 413, 415}
    if response.status_code != 200:
        assert _count(app, Message) == before
    assert _unanswered(app) == 0


_sms_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=1700,
)


@settings(
    max_examples=80,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=_sms_text, sender=st.sampled_from(["+447700900125", "07700 900126", "+1", ""]))
def test_any_signed_sms_body_is_stored_and_answered_or_refused(
    app: Flask, body: str, sender: str
) -> None:
    form = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "+447700900000",
        "Body": body,
    }
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/sms/inbound", form)
    before = _inbound(app)
    response = app.test_client().post(
        "/sms/inbound", data=form, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code in {200, 400, 413}
    if response.status_code != 200:
        assert _inbound(app) == before
    state(app).wait_idle()
    assert _unanswered(app) == 0
