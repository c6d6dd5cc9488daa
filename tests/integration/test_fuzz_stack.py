"""A bounded fuzzing pass over loopback against the real web process (gunicorn as
`privacybot run` starts it, with the real Rasa and action server behind it): any JSON
to `POST /api/chat` (wrong types, odd unicode, lone surrogates, huge strings, broken
JSON, wrong content types) and any signed `/sms/inbound` form (twilio's own signing).

Every answer is deliberate (never 5xx); a refusal is polite JSON and stores nothing; an
accepted message is stored whole (its conversation and the message itself, as sent) and
answered. Hypothesis is derandomised, so every run sends the same examples."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

pytestmark = pytest.mark.integration

CHAT_STATUSES = {200, 400, 404, 413, 415}
SMS_STATUSES = {200, 400, 403, 413, 429}  # 429: five texts a second from one phone
FUZZ = settings(
    derandomize=True,
    deadline=None,
    database=None,  # nothing carried between runs: the same examples every time
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_ODD = st.sampled_from(
    ["\x00", "\u202e", "\ud83d", "\udfff", "😀", "<script>alert(1)</script>", "' OR 1=1 --"]
    + ["\r\n", "%s%n", "/restart", "/affirm", "STOP", "ﷺ", "\u0301" * 20, "talk to a person"]
)
_HUGE = st.sampled_from(["x" * 1000, "x" * 1001, "é" * 1000, "😀" * 999, "y" * 70_000])
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=5,
)
_text = st.one_of(  # weighted towards text that gets past validation, to reach Rasa
    *[st.text(min_size=1, max_size=80).filter(str.strip)] * 3,
    st.text(max_size=3),
    st.lists(_ODD, min_size=1, max_size=5).map("".join),
    _HUGE,
    _json,
)
_message = st.fixed_dictionaries(
    {"text": _text},
    optional={
        "conversation_id": st.one_of(
            *[st.just("known")] * 4,  # the per-conversation path, as the widget uses it
            st.sampled_from(["../etc/passwd", "", "%00", "a" * 200]),
            st.uuids().map(lambda u: u.hex),
            _json,
        ),
        "buttons": _json,
    },
)
_chat_body = st.one_of(_json, _message, _message, _message)
_raw = st.sampled_from(
    [
        (b"{", "application/json"),
        (b'{"text": "hi"', "application/json"),
        (b"\xff\xfe{}", "application/json"),
        (b'{"text": "hi \\ud83d"}', "application/json"),
        (b"text=hi", "application/x-www-form-urlencoded"),
        (b'{"text": "hi"}', "text/plain"),
        (b"", "application/json"),
    ]
)


def _counts(stack: Any) -> tuple[int, int]:
    """(conversations, resident messages): only requests add these, never background jobs."""
    from casework.db import session_scope
    from casework.models import Conversation, Message

    with session_scope(stack.database_url) as session:
        conversations = session.scalar(select(func.count()).select_from(Conversation))
        inbound = session.scalar(select(func.count()).where(Message.direction == "in"))
        return int(conversations or 0), int(inbound or 0)


def _assert_polite_refusal(response: requests.Response, allowed: set[int]) -> None:
    assert response.status_code in allowed, response.text[:300]
    assert response.headers["Content-Type"].startswith("application/json"), response.text[:300]
    body = response.json()
    assert body["status"] == response.status_code
    assert isinstance(body["error"], str) and 10 < len(body["error"]) < 200
    assert "Traceback" not in response.text and "Exception" not in response.text


def _stored_as_sent(text: str) -> str:
    # The web side keeps what a resident typed, trimmed; half an emoji becomes U+FFFD.
    return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text.strip())


class _Chat:
    """Conversations the fuzz started, so "known" ids reach the per-conversation path."""

    known: list[str] = []
    accepted = 0
    statuses: dict[int, int] = {}


def _post_chat(stack: Any, body: Any, raw: tuple[bytes, str] | None) -> requests.Response:
    url = f"{stack.web_url}/api/chat"
    if raw is not None:
        return requests.post(url, data=raw[0], headers={"Content-Type": raw[1]}, timeout=90)
    if isinstance(body, dict) and body.get("conversation_id") == "known":
        body = {**body, "conversation_id": _Chat.known[-1] if _Chat.known else ""}
    return requests.post(url, json=body, timeout=90)


@settings(FUZZ, max_examples=90)
@example(body={"text": "y" * 70_000}, raw=None)  # past the 64 kB request limit: 413
@example(body={"text": "hi \ud83d"}, raw=None)  # half an emoji
@given(body=_chat_body, raw=st.one_of(st.none(), st.none(), st.none(), _raw))
def test_any_chat_post_is_answered_whole_or_refused_politely(
    stack: Any, body: Any, raw: tuple[bytes, str] | None
) -> None:
    from casework.db import session_scope
    from casework.models import Conversation, Message

    before = _counts(stack)
    response = _post_chat(stack, body, raw)
    _Chat.statuses[response.status_code] = _Chat.statuses.get(response.status_code, 0) + 1
    assert response.status_code < 500, response.text[:300]
    if response.status_code != 200:
        _assert_polite_refusal(response, CHAT_STATUSES)
        assert _counts(stack) == before, "a refused message left a record"
        return
    data = response.json()
    new = data["conversation_id"] not in _Chat.known
    assert _counts(stack) == (before[0] + new, before[1] + 1)
    with session_scope(stack.database_url) as session:
        message = session.get(Message, data["message_id"])
        assert message is not None and message.conversation_id == data["conversation_id"]
        conversation = session.get(Conversation, data["conversation_id"])
        assert conversation is not None and conversation.channel == "web"
        if raw is None:
            assert message.text == _stored_as_sent(body["text"])
        assert message.processed_at is not None, "accepted but not answered"
        for reply in data["messages"]:
            assert session.get(Message, reply["id"]) is not None
    _Chat.known.append(data["conversation_id"])
    _Chat.accepted += 1


def test_the_chat_fuzz_reached_both_paths(stack: Any) -> None:
    """The pass above is only worth something if it got past validation, many times."""
    assert _Chat.accepted >= 15, _Chat.statuses
    assert _Chat.accepted - len(set(_Chat.known)) >= 2, "few messages to a known conversation"


# --- /sms/inbound ---------------------------------------------------------------------------

_RUN = str(uuid.uuid4().int)[:4]  # this session's phones, apart from other tests' phones
_PHONES = [f"+447700{_RUN}{n:02d}" for n in range(12)]
_sms_body = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=200),
    st.lists(_ODD.filter(lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s)), max_size=5).map(
        "".join
    ),
    st.sampled_from(
        ["STOP", "start", "HELP", "yes", "", "   ", "x" * 1600, "x" * 1601, "z" * 70_000]
    ),
)
_sms_form = st.fixed_dictionaries(
    {
        "From": st.one_of(
            st.sampled_from(_PHONES),
            st.sampled_from(_PHONES),
            st.sampled_from(["07700 900124", "+1", "<b>", "", "+44" + "9" * 20, "٠٧٧٠٠"]),
        ),
        "Body": _sms_body,
        "MessageSid": st.one_of(
            st.just("fresh"), st.just("fresh"), st.sampled_from(["bad", "", "SM" + "g" * 32])
        ),
    },
    optional={"NumMedia": st.sampled_from(["0", "1", "x"]), "Extra": st.text(max_size=20)},
)


class _Sms:
    accepted: list[str] = []  # MessageSids stored and to be answered


def _signed_post(stack: Any, form: dict[str, str], signature: str | None) -> requests.Response:
    url = stack.settings.public_base_url + "/sms/inbound"
    if signature is None:
        signature = RequestValidator(stack.settings.twilio_auth_token).compute_signature(url, form)
    return requests.post(
        f"{stack.web_url}/sms/inbound",
        data=form,
        headers={"X-Twilio-Signature": signature},
        timeout=30,
    )


@settings(FUZZ, max_examples=80)
@example(form={"From": _PHONES[0], "Body": "z" * 70_000, "MessageSid": "fresh"}, forged=None)
@example(form={"From": _PHONES[0], "Body": "nul \x00 here", "MessageSid": "fresh"}, forged=None)
@given(form=_sms_form, forged=st.sampled_from([None, None, None, None, "", "forged"]))
def test_any_signed_sms_is_stored_whole_or_refused_politely(
    stack: Any, form: dict[str, str], forged: str | None
) -> None:
    from casework.db import session_scope
    from casework.models import Conversation, Message

    if form["MessageSid"] == "fresh":
        form = {**form, "MessageSid": "SM" + uuid.uuid4().hex}
    form = {**form, "AccountSid": stack.env["TWILIO_ACCOUNT_SID"], "To": "+447700900000"}
    before = _counts(stack)
    response = _signed_post(stack, form, forged)
    assert response.status_code < 500, response.text[:300]
    if response.status_code != 200:
        _assert_polite_refusal(response, SMS_STATUSES)
        assert _counts(stack) == before, "a refused SMS left a record"
        return
    assert response.headers["Content-Type"].startswith("text/xml")
    assert _counts(stack)[1] == before[1] + 1
    with session_scope(stack.database_url) as session:
        message = session.scalars(
            select(Message).where(Message.external_id == form["MessageSid"])
        ).one()
        assert message.direction == "in"
        assert message.text == (form["Body"].strip() or "(empty)")
        conversation = session.get(Conversation, message.conversation_id)
        assert conversation is not None and conversation.channel == "sms"
    _Sms.accepted.append(form["MessageSid"])


def test_every_accepted_sms_is_answered(stack: Any) -> None:
    """The background job (real Rasa) answers all of them; none is left half-done."""
    from casework.db import session_scope
    from casework.models import Message

    assert len(_Sms.accepted) >= 25

    def unanswered() -> list[str]:
        with session_scope(stack.database_url) as session:
            query = select(Message.external_id).where(
                Message.external_id.in_(_Sms.accepted), Message.processed_at.is_(None)
            )
            return list(session.scalars(query))

    deadline = time.monotonic() + 60
    while unanswered() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert unanswered() == []


def test_no_message_without_its_conversation(stack: Any) -> None:
    from casework.db import session_scope
    from casework.models import Conversation, Message

    with session_scope(stack.database_url) as session:
        orphans = session.scalar(
            select(func.count())
            .select_from(Message)
            .where(~Message.conversation_id.in_(select(Conversation.id)))
        )
        empty_web = session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(
                Conversation.id.in_(_Chat.known),
                ~Conversation.id.in_(select(Message.conversation_id)),
            )
        )
    assert (orphans, empty_web) == (0, 0)
