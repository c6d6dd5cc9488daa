"""The outbox's e-mail sender (webhook.mailer) against a real SMTP stand-in on 127.0.0.1:
delivered once with the right To and text, retried after temporary failures, claimed
once by racing senders, given up on a refused mailbox; and, with no SMTP configured, no
sender at all and rows that wait with the reason."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from casework import db as casework_db
from casework import outbox
from casework.models import OutboundMessage
from privacybot.orgs import load_org
from privacybot.settings import ConfigError, load_settings
from tests.fakes.smtp import SmtpStandIn
from webhook.mailer import EmailSender, parse_smtp_url

ADDRESS = "k.smith@example.org"
BODY = "You asked Barnet Homes to stop sending marketing e-mails to this address (MKT-ABC234)."


@pytest.fixture
def smtp() -> Iterator[SmtpStandIn]:
    server = SmtpStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def configured(database_url: str, smtp: SmtpStandIn, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SMTP_URL", smtp.url)
    monkeypatch.setenv("SMTP_FROM", "talk2us@example.net")
    return database_url


def sender() -> EmailSender:
    return EmailSender(load_settings(), load_org("barnet-homes"))


def queue_email(database_url: str, to: str = ADDRESS, *, email_sender: bool = True) -> int:
    with casework_db.session_scope(database_url) as session:
        outbox.queue(
            session,
            channel=outbox.EMAIL,
            conversation_id="web-1",
            to=to,
            body=BODY,
            secret="test-secret-key",
            email_sender=email_sender,
        )
        return session.scalars(select(OutboundMessage.id)).all()[-1]


def row(database_url: str, row_id: int) -> OutboundMessage:
    with casework_db.session_scope(database_url) as session:
        found = session.get(OutboundMessage, row_id)
        assert found is not None
        session.expunge(found)
        return found


def test_a_queued_email_is_delivered_once_with_the_right_to_and_text(
    configured: str, smtp: SmtpStandIn
) -> None:
    row_id = queue_email(configured)
    assert row(configured, row_id).last_error is None  # a sender is configured: no wait reason
    mailer = sender()
    assert mailer.send_due() == 1
    assert mailer.send_due() == 0  # sent rows are not taken again
    [received] = smtp.behaviour.received
    assert received.rcpt_to == [ADDRESS] and received.mail_from == "talk2us@example.net"
    assert received.message["To"] == ADDRESS
    assert received.message["Subject"] == "Barnet Homes: confirmation of your privacy request"
    assert received.message.get_content().strip() == BODY
    sent = row(configured, row_id)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 1, None)


def test_a_server_failing_twice_then_accepting_delivers_once(
    configured: str, smtp: SmtpStandIn
) -> None:
    smtp.behaviour.fail_next = 2
    row_id = queue_email(configured)
    mailer = sender()
    mailer.send_due()
    waiting = row(configured, row_id)
    assert (waiting.status, waiting.last_error) == ("pending", "SMTP error 451")  # for staff
    deadline = time.monotonic() + 15  # backoff: due again after 1 s, then 2 s
    while row(configured, row_id).status != "sent" and time.monotonic() < deadline:
        mailer.send_due()
        time.sleep(0.2)
    sent = row(configured, row_id)
    assert (sent.status, sent.attempts) == ("sent", 3)
    assert smtp.behaviour.attempts == 3
    assert [r.rcpt_to for r in smtp.behaviour.received] == [[ADDRESS]]


def test_racing_senders_deliver_a_row_once(configured: str, smtp: SmtpStandIn) -> None:
    queue_email(configured)
    senders = [sender() for _ in range(4)]
    barrier = threading.Barrier(len(senders))
    results: list[int] = []

    def run(mailer: EmailSender) -> None:
        barrier.wait()
        results.append(mailer.send_due())

    threads = [threading.Thread(target=run, args=(s,)) for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 0, 0, 1]
    assert len(smtp.behaviour.received) == 1


def test_a_refused_mailbox_is_given_up_at_once_and_the_log_has_no_address(
    configured: str, smtp: SmtpStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    smtp.behaviour.refuse_rcpt = True
    row_id = queue_email(configured)
    with caplog.at_level(logging.INFO, logger="webhook.mailer"):
        assert sender().send_due() == 1
    failed = row(configured, row_id)
    assert (failed.status, failed.attempts) == ("failed", 1)  # a 5xx is not retried
    assert failed.last_error == "SMTP error 550 (recipient refused)"
    assert smtp.behaviour.received == []
    assert caplog.records, "the failure is logged"
    assert ADDRESS not in caplog.text and "k…@example.org" in caplog.text


def test_an_sms_row_is_never_emailed(configured: str, smtp: SmtpStandIn) -> None:
    with casework_db.session_scope(configured) as session:
        outbox.queue(
            session,
            channel=outbox.SMS,
            conversation_id="web-2",
            to="+447700900987",
            body="a text",
            secret="test-secret-key",
        )
    assert sender().send_due() == 0
    assert smtp.behaviour.received == []


def test_without_smtp_no_sender_runs_and_the_row_waits_with_the_reason(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from webhook import create_app
    from webhook.state import state

    monkeypatch.delenv("SMTP_URL", raising=False)
    settings = load_settings()
    assert not settings.smtp_configured
    app = create_app(settings, background=False)
    assert state(app).email_outbox is None
    row_id = queue_email(database_url, email_sender=settings.smtp_configured)
    waiting = row(database_url, row_id)
    assert (waiting.status, waiting.last_error) == ("pending", outbox.NO_EMAIL_SENDER)


def test_with_smtp_the_app_runs_an_email_sender(configured: str) -> None:
    from webhook import create_app
    from webhook.state import state

    app = create_app(load_settings(), background=False)
    assert isinstance(state(app).email_outbox, EmailSender)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://127.0.0.1:2525", ("127.0.0.1", 2525, "plain", None, None)),
        (
            "smtp+starttls://u%40x:p%3Aw@mail.example",
            ("mail.example", 587, "starttls", "u@x", "p:w"),
        ),
        ("smtps://mail.example", ("mail.example", 465, "tls", None, None)),
    ],
)
def test_smtp_urls(url: str, expected: tuple[Any, ...]) -> None:
    target = parse_smtp_url(url)
    assert (target.host, target.port, target.security, target.username, target.password) == (
        expected
    )


def test_a_wrong_smtp_url_fails_at_start() -> None:
    with pytest.raises(ConfigError, match="SMTP_URL"):
        parse_smtp_url("http://mail.example")
