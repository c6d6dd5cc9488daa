"""A local SMTP stand-in on 127.0.0.1 (stdlib socketserver): speaks enough SMTP for
smtplib (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeps what it accepted, and
can answer the next N transactions with a temporary failure, or refuse recipients."""

from __future__ import annotations

import email
import socketserver
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default

from tests.fakes.loopback import LoopbackServer


@dataclass
class Received:
    mail_from: str
    rcpt_to: list[str]
    message: EmailMessage


@dataclass
class SmtpBehaviour:
    fail_next: int = 0  # transactions answered "451" at MAIL FROM, then normal again
    refuse_rcpt: bool = False  # every RCPT TO answered "550" (no such mailbox)
    received: list[Received] = field(default_factory=list)
    attempts: int = 0  # MAIL FROM commands seen
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        behaviour = self.server.behaviour
        self.reply("220 stand-in ESMTP ready")
        mail_from: str | None = None
        rcpts: list[str] = []
        while line := self.rfile.readline():
            command = line.decode("ascii", "replace").rstrip("\r\n")
            verb = command[:4].upper()
            if verb == "EHLO":
                self.reply("250-stand-in")
                self.reply("250 8BITMIME")
            elif verb == "HELO":
                self.reply("250 stand-in")
            elif verb == "MAIL":
                with behaviour.lock:
                    behaviour.attempts += 1
                    failing = behaviour.fail_next > 0
                    behaviour.fail_next -= 1 if failing else 0
                if failing:
                    self.reply("451 4.3.0 try again later")
                    continue
                mail_from, rcpts = command.partition(":")[2].strip(" <>"), []
                self.reply("250 OK")
            elif verb == "RCPT":
                if behaviour.refuse_rcpt:
                    self.reply("550 5.1.1 no such mailbox")
                    continue
                rcpts.append(command.partition(":")[2].strip(" <>"))
                self.reply("250 OK")
            elif verb == "DATA":
                if mail_from is None or not rcpts:
                    self.reply("503 need MAIL and RCPT first")
                    continue
                self.reply("354 end with <CRLF>.<CRLF>")
                self._read_data(mail_from, rcpts)
                mail_from, rcpts = None, []
                self.reply("250 OK queued")
            elif verb == "RSET":
                mail_from, rcpts = None, []
                self.reply("250 OK")
            elif verb == "NOOP":
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")

    def _read_data(self, mail_from: str, rcpts: list[str]) -> None:
        lines: list[bytes] = []
        while (line := self.rfile.readline()) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)  # dot-unstuffing
        message = email.message_from_bytes(b"".join(lines), policy=default)
        assert isinstance(message, EmailMessage)
        with self.server.behaviour.lock:
            self.server.behaviour.received.append(Received(mail_from, rcpts, message))


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    behaviour: SmtpBehaviour


class SmtpStandIn(LoopbackServer):
    scheme = "smtp"

    def _make_server(self) -> _Server:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.behaviour = SmtpBehaviour()
        return server

    @property
    def behaviour(self) -> SmtpBehaviour:
        return self._server.behaviour
