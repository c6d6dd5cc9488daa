"""Outbound e-mail: the outbox's e-mail rows (confirmations of opt-outs and withdrawals)
sent over SMTP by a sender thread, with the SMS sender's claim and retry logic.

Only when SMTP_URL is set (`smtp://[user:password@]host[:port]`, `smtp+starttls://...`
or `smtps://...`). Without it no e-mail sender runs: the rows stay pending with the
reason (casework.outbox.NO_EMAIL_SENDER), staff see them on the ticket and send the
e-mail themselves, and the bot says so. Addresses never reach the log (masked).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from casework.contacts import mask_email
from casework.outbox import EMAIL
from privacybot.orgs import Org
from privacybot.settings import ConfigError, Settings
from webhook.outbox import ChannelSender

log = logging.getLogger(__name__)

TIMEOUT = 10.0  # seconds per SMTP conversation, well inside the outbox's claim timeout
SENT = "sent"  # accepted by the SMTP server (delivery beyond it is not reported back)


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    security: str  # "plain", "starttls" or "tls"
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpTarget:
    parts = urlsplit(url)
    schemes = {"smtp": ("plain", 25), "smtp+starttls": ("starttls", 587), "smtps": ("tls", 465)}
    if parts.scheme not in schemes or not parts.hostname:
        raise ConfigError(
            "SMTP_URL must look like smtp://host:port, smtp+starttls://... or smtps://..."
        )
    security, default_port = schemes[parts.scheme]
    return SmtpTarget(
        host=parts.hostname,
        port=parts.port or default_port,
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def build_message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(body)
    return message


def _permanent(error: Exception) -> bool:
    """A 5xx answer (unknown mailbox, refused sender) will not change on retry; a 4xx,
    a dropped connection or a timeout may."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    code = getattr(error, "smtp_code", None)
    return isinstance(code, int) and code >= 500


def _error_text(error: Exception) -> str:
    """For staff on the row: the SMTP code, never the server's text (it may quote the address)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in error.recipients.values()})
        return f"SMTP error {', '.join(map(str, codes))} (recipient refused)"
    code = getattr(error, "smtp_code", None)
    return f"SMTP error {code}" if code else type(error).__name__


class EmailSender(ChannelSender):
    channel = EMAIL
    thread_name = "email-outbox"

    def __init__(self, settings: Settings, org: Org) -> None:
        super().__init__(settings)
        if not settings.smtp_url:
            raise ConfigError("the e-mail sender needs SMTP_URL")
        self.target = parse_smtp_url(settings.smtp_url)
        self.sender = settings.smtp_from or org.contact.get("email", "")
        if "@" not in self.sender:
            raise ConfigError("SMTP_FROM must be set (the organisation has no contact e-mail)")
        self.subject = org.confirmation_email_subject

    def deliver(self, row_id: int, to: str, body: str, attempts: int) -> None:
        try:
            self._smtp_send(build_message(self.sender, to, self.subject, body))
        except (smtplib.SMTPException, OSError) as error:
            reason = _error_text(error)
            gave_up = self._failed(row_id, attempts, reason, permanent=_permanent(error))
            log.warning(
                "e-mail %d to %s failed (attempt %d, %s)%s",
                row_id,
                mask_email(to),
                attempts,
                reason,
                "; giving up" if gave_up else "; will retry",
            )
            return
        log.info("e-mail %d to %s accepted by the SMTP server", row_id, mask_email(to))
        self._finish(row_id, status=SENT)

    def _smtp_send(self, message: EmailMessage) -> None:
        target = self.target
        smtp_class = smtplib.SMTP_SSL if target.security == "tls" else smtplib.SMTP
        with smtp_class(target.host, target.port, timeout=TIMEOUT) as smtp:
            if target.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if target.username:
                smtp.login(target.username, target.password or "")
            smtp.send_message(message)
