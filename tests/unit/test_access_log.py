"""The web process's access log (real gunicorn, as `privacybot run` starts it) keeps
routes and statuses but no conversation ids or query strings (phone numbers, cursors)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import requests

from privacybot.runner import free_port
from tests.browser.fake_rasa import FakeRasa
from tests.web_process import real_web_process, web_env
from webhook.accesslog import redact_path


def test_redact_path() -> None:
    cid = "0123456789abcdef" * 2
    assert redact_path(f"/api/chat/{cid}/messages?after=3") == "/api/chat/:id/messages"
    assert redact_path(f"/api/chat/{cid}") == "/api/chat/:id"
    assert redact_path("/dev/phone/messages?phone=07700900123") == "/dev/phone/messages"
    assert redact_path("/inbox/tickets/SAR-7KQ4MX") == "/inbox/tickets/SAR-7KQ4MX"


def test_the_web_process_logs_no_conversation_ids(tmp_path: Path, rasa: FakeRasa) -> None:
    env = web_env(tmp_path, WEB_PORT=str(free_port()), RASA_PORT=str(urlsplit(rasa.url).port))
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'casework.db'}"  # the fake Rasa writes here
    with real_web_process(env, tmp_path / "logs") as stack:
        reply = requests.post(f"{stack.web_url}/api/chat", json={"text": "hi"}, timeout=30)
        cid = reply.json()["conversation_id"]
        history = f"{stack.web_url}/api/chat/{cid}/messages?after=0"
        assert requests.get(history, timeout=10).status_code == 200
        requests.get(f"{stack.web_url}/dev/phone/messages?phone=07700900123", timeout=10)
    log = (tmp_path / "logs" / "web.log").read_text()
    assert '"POST /api/chat HTTP/1.1" 200' in log
    assert '"GET /api/chat/:id/messages HTTP/1.1" 200' in log
    assert cid not in log and "07700900123" not in log and "after=" not in log
