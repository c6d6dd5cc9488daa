"""Faults over real processes on loopback: `privacybot run` itself (what `make run`
starts) with rasa, actions and gunicorn web, on its own ports and data, so killing its
parts never disturbs the other tests' stack. One stack for the whole module; the tests
run in order and each leaves it healthy again.

Each ends with every inbound message answered exactly once (stored as processed, and
one user turn per message in Rasa's tracker) and the records intact."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from casework.db import session_scope
from casework.models import Conversation, Message, OutboundMessage, Ticket, TicketKind
from privacybot.runner import MODEL_PATH
from tests.conftest import PROJECT_ROOT
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.integration.conftest import _stack_env

pytestmark = pytest.mark.integration

HOLDING = "I've kept your message"
TWILIO_SID = "AC" + "f" * 32


@dataclass
class RunningProduct:
    """`privacybot run` as a subprocess, and what the tests need to reach its parts."""

    runner: subprocess.Popen[bytes]
    env: dict[str, str]
    log: Path
    twilio: FakeTwilioAPI

    def url(self, part: str) -> str:
        return f"http://127.0.0.1:{self.env[part.upper() + '_PORT']}"

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]

    def child(self, name: str) -> psutil.Process:
        """A direct child of the runner: 'actions', 'rasa' or 'web'."""
        marks = {"actions": "rasa_sdk", "rasa": ".venv-rasa/bin/rasa", "web": "gunicorn"}
        for child in psutil.Process(self.runner.pid).children():
            if marks[name] in " ".join(child.cmdline()):
                return child
        raise LookupError(name)

    def healthz(self) -> dict[str, Any]:
        try:
            response = requests.get(f"{self.url('web')}/healthz", timeout=5)
        except requests.RequestException:
            return {"status": "unreachable"}
        return {"code": response.status_code, **response.json()}

    def wait_healthy(self, timeout: float = 240.0) -> None:
        deadline = time.monotonic() + timeout
        while self.healthz().get("code") != 200:
            assert self.runner.poll() is None, self.log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"not healthy: {self.healthz()}"
            time.sleep(0.5)

    def user_turns(self, sender: str) -> list[str]:
        tracker = requests.get(
            f"{self.url('rasa')}/conversations/{sender}/tracker",
            params={"token": self.env["RASA_TOKEN"]},
            timeout=30,
        ).json()
        return [e["text"] for e in tracker["events"] if e["event"] == "user"]

    @property
    def sqlite_path(self) -> str:
        assert self.database_url.startswith("sqlite:///"), self.database_url
        return self.database_url.split("///", 1)[1]


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProduct]:
    assert MODEL_PATH.exists(), "run `make model` first (make test does)"
    data_dir = tmp_path_factory.mktemp("faults")
    with FakeTwilioAPI() as twilio:
        env = {
            **os.environ,
            **_stack_env(
                data_dir,
                {
                    "TWILIO_ACCOUNT_SID": TWILIO_SID,
                    "TWILIO_API_BASE": twilio.base_url,
                    "TWILIO_FROM_NUMBER": "+447700900000",
                },
            ),
            "PYTHONPATH": str(PROJECT_ROOT),
        }
        log = data_dir / "runner.log"
        with open(log, "ab") as out:
            runner = subprocess.Popen(
                [sys.executable, "-m", "privacybot.cli", "run"],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        running = RunningProduct(runner, env, log, twilio)
        try:
            running.wait_healthy()
            yield running
        finally:
            survivors = _tree(runner.pid)
            if runner.poll() is None:
                runner.send_signal(signal.SIGTERM)
                runner.wait(timeout=60)
            for process in survivors:  # only if a test failed before the SIGKILL test
                if process.is_running():
                    process.kill()


def _tree(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


class WebResident:
    """The widget's side of a web chat: POST a message, poll for later ones."""

    def __init__(self, product: RunningProduct) -> None:
        self.product = product
        self.conversation_id: str | None = None
        self.cursor = 0

    def says(self, text: str) -> dict[str, Any]:
        body: dict[str, Any] = {"text": text}
        if self.conversation_id:
            body["conversation_id"] = self.conversation_id
        started = time.monotonic()
        response = requests.post(f"{self.product.url('web')}/api/chat", json=body, timeout=90)
        assert response.status_code == 200, response.text
        data = response.json()
        data["took"] = time.monotonic() - started
        data["text"] = "\n".join(m["text"] for m in data["messages"])
        self.conversation_id = data["conversation_id"]
        self.cursor = max(self.cursor, data["cursor"])
        return data

    def answer(self, text: str) -> str:
        """The bot's answer, at once or, after a holding reply (a turn over 2.5 s on a
        busy machine, such as the first after a restart), through polling."""
        data = self.says(text)
        return self.late_answer() if data.get("pending") else data["text"]

    def late_answer(self, timeout: float = 180.0) -> str:
        """What the widget's polling shows next from the bot."""
        url = f"{self.product.url('web')}/api/chat/{self.conversation_id}/messages"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = requests.get(url, params={"after": self.cursor}, timeout=10).json()
            self.cursor = data["cursor"]
            bot = [m["text"] for m in data["messages"] if m["author"] == "bot"]
            if bot:
                return "\n".join(bot)
            time.sleep(1.0)
        raise TimeoutError("no late answer")


def signed_sms(
    product: RunningProduct, phone: str, body: str, sid: str | None = None, timeout: float = 30
) -> requests.Response:
    params = {
        "MessageSid": sid or "SM" + uuid.uuid4().hex,
        "AccountSid": TWILIO_SID,
        "From": phone,
        "To": "+447700900000",
        "Body": body,
    }
    url = product.env["PUBLIC_BASE_URL"] + "/sms/inbound"
    signature = RequestValidator(product.env["TWILIO_AUTH_TOKEN"]).compute_signature(url, params)
    response = requests.post(
        f"{product.url('web')}/sms/inbound",
        data=params,
        headers={"X-Twilio-Signature": signature},
        timeout=timeout,
    )
    assert response.status_code == 200
    return response


def new_phone() -> str:
    return "+4477009" + str(uuid.uuid4().int)[:5]


def assert_each_answered_once(product: RunningProduct, conversation_id: str) -> None:
    with session_scope(product.database_url) as session:
        inbound = session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.direction == "in")
            .order_by(Message.id)
        ).all()
        assert inbound and all(m.processed_at for m in inbound)
        texts = [m.text for m in inbound]
    assert product.user_turns(conversation_id) == texts  # each reached Rasa once, in order


def kill(process: psutil.Process) -> list[psutil.Process]:
    """SIGKILL a part's main process; returns the workers it leaves behind."""
    workers = process.children(recursive=True)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    return workers


def finish_sar(me: WebResident) -> str:
    me.answer("12 High Street, London NW9 4EW")
    me.answer("everything")
    me.answer("email")
    me.answer("sam.smith@example.com")
    receipt = me.answer("yes")
    match = re.search(r"SAR-[0-9A-Z]{6}", receipt)
    assert match, receipt
    return match.group(0)


def assert_sar_recorded(product: RunningProduct, conversation_id: str, reference: str) -> None:
    with session_scope(product.database_url) as session:
        [ticket] = session.scalars(
            select(Ticket).where(Ticket.conversation_id == conversation_id)
        ).all()
        assert ticket.reference == reference and ticket.kind == TicketKind.SAR
        assert ticket.sar is not None and ticket.sar.due_on is not None


def test_action_server_killed_mid_sar_form(product: RunningProduct) -> None:
    me = WebResident(product)
    assert "full name" in me.answer("what do you hold on me? I want it all")
    me.answer("Sam Smith")
    actions = product.child("actions")
    workers = kill(actions)
    time.sleep(1.0)  # a resident takes longer than that to type the next answer

    held = me.says("my own")
    assert held["pending"] and HOLDING in held["text"] and held["took"] < 3.0
    assert product.healthz()["parts"]["actions"] == "down"
    # An SMS resident in the same outage: one holding text for two messages.
    phone = "+4477009" + str(uuid.uuid4().int)[:5]
    signed_sms(product, phone, "what is personal data?")
    signed_sms(product, phone, "who is your data protection officer?")
    product.twilio.wait_for(lambda ms: any(m.to == phone for m in ms), timeout=20)

    # The runner restarts the action server (after clearing the orphaned Sanic worker).
    assert "postcode" in me.late_answer()
    product.wait_healthy()
    assert all(not w.is_running() for w in workers)
    assert product.child("actions").pid != actions.pid
    log = product.log.read_text()
    assert "actions exited (code -9)" in log and "actions restarted (restart 1" in log

    reference = finish_sar(me)
    assert_sar_recorded(product, me.conversation_id or "", reference)
    assert_each_answered_once(product, me.conversation_id or "")

    sent = product.twilio.wait_for(
        lambda ms: len([m for m in ms if m.to == phone]) >= 3, timeout=60
    )
    bodies = [m.body for m in sent if m.to == phone]
    assert len(bodies) == 3 and HOLDING in bodies[0]
    assert all(HOLDING not in b for b in bodies[1:])


def test_rasa_killed_mid_sar_form(product: RunningProduct) -> None:
    me = WebResident(product)
    assert "full name" in me.answer("I want a copy of my data")
    me.answer("Sam Smith")
    kill(product.child("rasa"))

    held = me.says("my own")
    assert held["pending"] and HOLDING in held["text"] and held["took"] < 3.0
    # Rasa reloads its model (20-60 s); the tracker store kept the form's state.
    assert "postcode" in me.late_answer(timeout=240)
    product.wait_healthy()
    assert "rasa restarted (restart 1" in product.log.read_text()
    reference = finish_sar(me)
    assert_sar_recorded(product, me.conversation_id or "", reference)
    assert_each_answered_once(product, me.conversation_id or "")


def test_web_killed_mid_sar_form(product: RunningProduct) -> None:
    me = WebResident(product)
    assert "full name" in me.answer("I want a copy of my data")
    me.answer("Sam Smith")
    web = product.child("web")
    workers = kill(web)  # gunicorn's master; its worker is orphaned until the runner acts
    product.wait_healthy(timeout=120)
    assert all(not w.is_running() for w in workers)
    assert product.child("web").pid != web.pid
    assert "web restarted (restart 1" in product.log.read_text()
    # Nothing of the conversation lived in the web process: the form goes on.
    assert "postcode" in me.answer("my own")
    reference = finish_sar(me)
    assert_sar_recorded(product, me.conversation_id or "", reference)
    assert_each_answered_once(product, me.conversation_id or "")


def test_twilio_failing_three_times_then_one_sms_is_delivered(product: RunningProduct) -> None:
    phone = "+4477009" + str(uuid.uuid4().int)[:5]
    product.twilio.fail_next(3)
    signed_sms(product, phone, "what is personal data?")
    product.twilio.wait_for(lambda ms: any(m.to == phone for m in ms), timeout=60)
    time.sleep(2.0)  # no second copy on its way
    assert len(product.twilio.sent_to(phone)) == 1
    with session_scope(product.database_url) as session:
        [row] = session.scalars(select(OutboundMessage).where(OutboundMessage.to == phone)).all()
        assert row.attempts == 4 and row.provider_id is not None


def _sms_conversation(product: RunningProduct, phone: str) -> tuple[str, list[Message]]:
    """The phone's conversation id and its stored messages, in order."""
    with session_scope(product.database_url) as session:
        inbound = session.scalars(
            select(Message).join(Conversation).where(Conversation.address == phone)
        ).all()
        assert inbound, f"nothing stored from {phone}"
        conversation_id = inbound[0].conversation_id
        messages = session.scalars(
            select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
        ).all()
        return conversation_id, list(messages)


def _settled_texts(product: RunningProduct, phone: str, count: int, timeout: float) -> list[str]:
    """The texts Twilio was asked to send to `phone`, once `count` have come and a short
    quiet spell shows no further copy on its way (polled, not one long sleep)."""
    product.twilio.wait_for(
        lambda ms: len([m for m in ms if m.to == phone]) >= count, timeout=timeout
    )
    quiet_until = time.monotonic() + 3.0
    while time.monotonic() < quiet_until:
        assert len(product.twilio.sent_to(phone)) == count
        time.sleep(0.2)
    return [m.body for m in product.twilio.sent_to(phone)]


def test_web_killed_between_an_inbound_sms_and_its_reply(product: RunningProduct) -> None:
    """gunicorn's master and workers SIGKILLed right after the SMS is stored (the test
    watches the database for it), before its reply: Rasa may or may not have taken the
    turn by then; either way, after the restart the SMS gets one answer."""
    phone, body, sid = new_phone(), "what is personal data?", "SM" + uuid.uuid4().hex
    web = product.child("web")
    parts = [*web.children(recursive=True), web]  # its workers, then the master
    restarts = product.log.read_text().count("web restarted")
    watch = sqlite3.connect(product.sqlite_path, isolation_level=None)

    def post() -> None:
        try:
            signed_sms(product, phone, body, sid=sid)
        except (requests.RequestException, AssertionError):
            pass  # the web may die before it answers Twilio: the message is stored already

    poster = threading.Thread(target=post, daemon=True)
    poster.start()
    deadline = time.monotonic() + 30
    query = "SELECT id, claimed_at FROM messages WHERE external_id = ?"
    while (row := watch.execute(query, (sid,)).fetchone()) is None:
        assert time.monotonic() < deadline, "the SMS was never stored"
    for process in parts:
        process.send_signal(signal.SIGKILL)
    state = "SELECT claimed_at, processed_at FROM messages WHERE id = ?"
    claimed_at, processed_at = watch.execute(state, (row[0],)).fetchone()
    assert processed_at is None, "the kill came after the reply was stored"
    assert product.twilio.sent_to(phone) == []
    watch.close()
    poster.join(timeout=30)

    product.wait_healthy(timeout=120)
    assert product.child("web").pid != web.pid
    assert product.log.read_text().count("web restarted") == restarts + 1
    # A claim of the dead worker goes stale in 15 s; an unclaimed message waits 10 s.
    [text] = _settled_texts(product, phone, 1, timeout=90)
    assert HOLDING not in text
    conversation_id, messages = _sms_conversation(product, phone)
    [message] = [m for m in messages if m.direction == "in"]
    assert message.external_id == sid and message.processed_at is not None
    assert product.user_turns(conversation_id) == [body]  # Rasa took the turn once
    if claimed_at is not None:  # it died mid-turn: the claim was taken over, once
        web_log = (product.log.parent / "logs" / "web.log").read_text()
        assert web_log.count(f"message {row[0]}: taken over from a worker that died") == 1
    replies = [m for m in messages if m.direction == "out"]
    assert replies and all(m.author == "bot" for m in replies)
    with session_scope(product.database_url) as session:
        rows = session.scalars(select(OutboundMessage).where(OutboundMessage.to == phone)).all()
        assert len(rows) == 1 and rows[0].provider_id is not None


def test_sqlite_busy_beyond_its_timeout_keeps_every_message(product: RunningProduct) -> None:
    """Another connection holds the casework database's write lock past the 10 s busy
    timeout while a web message and an SMS arrive. The web message is refused with a
    polite 503 and a retry hint (nothing stored, so nothing lost: the widget resends it);
    the SMS is kept on disk with one holding text. Released: each answered once."""
    me, phone = WebResident(product), new_phone()
    web_text, sms_text = "what is personal data?", "who is your data protection officer?"
    lock = sqlite3.connect(product.sqlite_path, isolation_level=None, timeout=30)
    lock.execute("BEGIN IMMEDIATE")
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            web = pool.submit(
                requests.post, f"{product.url('web')}/api/chat", json={"text": web_text}, timeout=60
            )
            sms = pool.submit(signed_sms, product, phone, sms_text)
            web_response, sms_response = web.result(), sms.result()
        spooled = list((Path(product.env["DATA_DIR"]) / "spool" / "sms").glob("*.json"))
    finally:
        lock.execute("ROLLBACK")
        lock.close()

    assert web_response.status_code == 503, web_response.text
    busy = web_response.json()
    assert busy["retry_after"] > 0 and "no need to type it again" in busy["error"]
    assert HOLDING in sms_response.text and len(spooled) == 1

    answer = me.answer(web_text)  # the widget's resend
    assert answer and HOLDING not in answer
    assert_each_answered_once(product, me.conversation_id or "")
    [text] = _settled_texts(product, phone, 1, timeout=60)
    assert HOLDING not in text
    conversation_id, messages = _sms_conversation(product, phone)
    assert [(m.direction, m.author) for m in messages] == [
        ("in", "resident"),
        ("out", "system"),  # the holding reply the TwiML gave, on record
        *[("out", "bot")] * (len(messages) - 2),
    ]
    assert messages[0].processed_at is not None
    assert product.user_turns(conversation_id) == [sms_text]
    assert not list((Path(product.env["DATA_DIR"]) / "spool" / "sms").glob("*.json"))


def _alive(process: psutil.Process) -> bool:
    """Running and not a zombie (a dead child that its new parent has not reaped yet)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _port_free(port: str) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", int(port))) != 0


def test_sigkill_of_the_runner_leaves_no_process_and_frees_every_port(
    product: RunningProduct,
) -> None:
    """Last: it ends the module's stack."""
    tree = _tree(product.runner.pid)
    assert len(tree) >= 4  # rasa, the Sanic main and worker, gunicorn master and worker
    product.runner.send_signal(signal.SIGKILL)
    product.runner.wait(timeout=10)
    deadline = time.monotonic() + 30
    while left := [p.pid for p in tree if _alive(p)]:
        assert time.monotonic() < deadline, f"still running: {left}"
        time.sleep(0.2)
    for part in ("WEB_PORT", "RASA_PORT", "ACTIONS_PORT"):
        assert _port_free(product.env[part]), part
