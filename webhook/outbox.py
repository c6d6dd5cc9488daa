"""Outbound SMS: the outbox's SMS rows drained by a sender thread, with retries.

Without TWILIO_ACCOUNT_SID (the default) nothing leaves the machine: rows are marked
"local" and the development phone page (/dev/phone) shows them. With it, the real
`twilio` client sends them; TWILIO_API_BASE points that client at another host (the
tests' local stand-in of Twilio's REST API).

`ChannelSender` holds what every channel's sender shares (claim once, retry with
backoff, record the outcome on the row); webhook.mailer's e-mail sender is the other.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from casework.db import session_scope
from casework.models import OutboundMessage, utcnow
from casework.pseudonym import mask_phone
from privacybot.settings import Settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Our own states; the rest are Twilio's (queued, sent, delivered, ...) or final local ones.
PENDING = "pending"  # waiting in the outbox for the sender thread
SMS = "sms"  # the only channel this sender takes (casework.outbox.SMS)
CLAIMED = "claimed"  # a sender took it (at updated_at)
# Far longer than one send takes (the Twilio client times out after 10 s): a row claimed
# this long ago and never finished belongs to a sender that died, and is sent again.
CLAIM_TIMEOUT = timedelta(minutes=2)
# Twilio error codes that retrying cannot fix (blocked by STOP, invalid or unreachable number).
PERMANENT_ERRORS = {21211, 21408, 21610, 21612, 21614}
# Delivery statuses in the order Twilio reports them; a late callback must not step back.
STATUS_RANK = {
    "queued": 0,
    "sending": 1,
    "accepted": 1,
    "sent": 2,
    "failed": 3,
    "undelivered": 3,
    "delivered": 4,
    "read": 5,
}


def enqueue(
    session: Session, *, conversation_id: str | None, to: str, body: str, blocked: bool = False
) -> OutboundMessage:
    """Queue an SMS. `blocked`: the resident texted STOP, so it is kept but never sent."""
    row = OutboundMessage(
        conversation_id=conversation_id,
        channel=SMS,
        to=to,
        body=body,
        status="blocked" if blocked else PENDING,
        last_error="recipient texted STOP" if blocked else None,
    )
    session.add(row)
    session.flush()
    return row


def record_inline(session: Session, *, conversation_id: str, to: str, body: str) -> None:
    """A reply given directly in the TwiML answer (keywords), kept for staff and the dev phone."""
    session.add(
        OutboundMessage(
            conversation_id=conversation_id, channel="sms", to=to, body=body, status="twiml"
        )
    )


def cancel_pending(session: Session, to: str) -> int:
    """After STOP nothing more may be sent to the number."""
    result = session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.to == to, OutboundMessage.status == PENDING)
        .values(status="cancelled", last_error="recipient texted STOP")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def record_status(
    session: Session, sid: str, status: str, error_code: str | None, row_id: int | None = None
) -> bool:
    """Twilio's delivery callback. False for an unknown message.

    `row_id` is the outbox row named in the callback URL; without it (a message sent
    before callbacks carried one) the row is found by Twilio's sid.
    """
    if row_id is not None:
        row = session.get(OutboundMessage, row_id)
        if row is None or row.provider_id not in (None, sid):
            return False
        row.provider_id = sid
    else:
        row = session.scalar(select(OutboundMessage).where(OutboundMessage.provider_id == sid))
    if row is None:
        return False
    status = status.lower()
    if STATUS_RANK.get(status, -1) >= STATUS_RANK.get(row.status, -1):
        row.status = status
    if error_code:
        row.last_error = f"Twilio error {error_code}"
    return True


def due_now(now: datetime, channel: str = SMS) -> ColumnElement[bool]:
    """Rows of one channel pending and due, or claimed by a sender that died (no result
    after CLAIM_TIMEOUT). Each sender asks for its own channel: an e-mail row is never
    texted. A sender that died after the provider accepted the message but before
    recording it makes the resend a duplicate; that is the price of never losing a reply."""
    pending = (OutboundMessage.status == PENDING) & (OutboundMessage.next_attempt_at <= now)
    abandoned = (OutboundMessage.status == CLAIMED) & (
        OutboundMessage.updated_at < now - CLAIM_TIMEOUT
    )
    return (OutboundMessage.channel == channel) & or_(pending, abandoned)


def for_address(session: Session, address: str, limit: int = 200) -> list[OutboundMessage]:
    query = select(OutboundMessage).where(OutboundMessage.to == address)
    return list(session.scalars(query.order_by(OutboundMessage.id).limit(limit)))


def for_conversation(session: Session, conversation_id: str) -> list[OutboundMessage]:
    """Everything queued in one conversation: on the web, only the written confirmations
    (opt-outs, withdrawals) to the contact the resident gave."""
    query = select(OutboundMessage).where(OutboundMessage.conversation_id == conversation_id)
    return list(session.scalars(query.order_by(OutboundMessage.id).limit(200)))


def make_twilio_client(settings: Settings) -> Any:
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    client = Client(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        http_client=TwilioHttpClient(timeout=10),
    )
    if settings.twilio_api_base:
        # Domain.base_url is what every Api request is built from (twilio 9.x).
        client.api.base_url = settings.twilio_api_base.rstrip("/")
    return client


class ChannelSender:
    """Claims due rows of one channel (so several web workers never send one twice) and
    hands each to `deliver`; a failure is retried with backoff up to MAX_ATTEMPTS.
    Subclasses say how a row is delivered (Twilio, SMTP)."""

    channel = SMS
    thread_name = "outbox"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, stopping: threading.Event) -> None:
        def loop() -> None:
            while not stopping.is_set():
                try:
                    self.send_due()
                except Exception:
                    log.exception("%s round failed", self.thread_name)
                self.wake.wait(1.0)
                self.wake.clear()

        self._thread = threading.Thread(target=loop, name=self.thread_name, daemon=True)
        self._thread.start()

    def send_due(self, limit: int = 50) -> int:
        """Send every due row once; returns how many were attempted."""
        url = self.settings.database_url
        with session_scope(url) as session:
            due = session.scalars(
                select(OutboundMessage.id)
                .where(due_now(utcnow(), self.channel))
                .order_by(OutboundMessage.id)
                .limit(limit)
            ).all()
        attempted = 0
        for row_id in due:
            if self._claim(row_id):
                attempted += 1
                self._send(row_id)
        return attempted

    def _claim(self, row_id: int) -> bool:
        """A conditional UPDATE: of several senders (web workers) exactly one wins a row,
        also when they race for the same abandoned claim."""
        now = utcnow()
        with session_scope(self.settings.database_url) as session:
            result = session.execute(
                update(OutboundMessage)
                .where(OutboundMessage.id == row_id, due_now(now, self.channel))
                .values(status=CLAIMED, attempts=OutboundMessage.attempts + 1, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def _send(self, row_id: int) -> None:
        with session_scope(self.settings.database_url) as session:
            row = session.get(OutboundMessage, row_id)
            assert row is not None
            to, body, attempts = row.to, row.body, row.attempts
        self.deliver(row_id, to, body, attempts)

    def deliver(self, row_id: int, to: str, body: str, attempts: int) -> None:
        """Send one claimed row and record the outcome (`_finish` or `_failed`)."""
        raise NotImplementedError

    def _failed(self, row_id: int, attempts: int, error_text: str, *, permanent: bool) -> bool:
        """Record a failed attempt: final when `permanent` or out of attempts, else due
        again after 1, 2, 4, 8 s. Returns whether it was given up."""
        give_up = permanent or attempts >= MAX_ATTEMPTS
        if give_up:
            self._finish(row_id, status="failed", error=error_text)
        else:
            delay = timedelta(seconds=2 ** (attempts - 1))
            self._finish(row_id, status=PENDING, error=error_text, retry_in=delay)
        return give_up

    def _finish(
        self,
        row_id: int,
        *,
        status: str,
        sid: str | None = None,
        error: str | None = None,
        retry_in: timedelta | None = None,
    ) -> None:
        with session_scope(self.settings.database_url) as session:
            row = session.get(OutboundMessage, row_id)
            assert row is not None
            if sid:
                row.provider_id = sid
                # A fast status callback may already have moved it on.
                if STATUS_RANK.get(row.status, -1) > STATUS_RANK.get(status, -1):
                    status = row.status
            row.status = status
            row.last_error = error
            if retry_in is not None:
                row.next_attempt_at = utcnow() + retry_in


class OutboxSender(ChannelSender):
    """The SMS rows: through Twilio's REST API, or kept "local" without an account."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = make_twilio_client(self.settings)
        return self._client

    def deliver(self, row_id: int, to: str, body: str, attempts: int) -> None:
        if not self.settings.twilio_configured:
            self._finish(row_id, status="local")
            return
        try:
            message = self.client.messages.create(
                to=to,
                from_=self.settings.twilio_from_number,
                body=body,
                # Our own row id rides in the (signed) callback URL: a callback that
                # beats the commit of Twilio's sid below still finds its message.
                status_callback=f"{self.settings.public_base_url}/sms/status?ref={row_id}",
            )
        except Exception as error:  # TwilioRestException, network errors
            code = getattr(error, "code", None)
            error_text = f"Twilio error {code}" if code else type(error).__name__
            gave_up = self._failed(row_id, attempts, error_text, permanent=code in PERMANENT_ERRORS)
            log.warning(
                "SMS to %s failed (attempt %d, code %s)%s",
                mask_phone(to),
                attempts,
                code,
                "; giving up" if gave_up else "; will retry",
            )
            return
        self._finish(row_id, status=str(message.status or "queued"), sid=message.sid)
