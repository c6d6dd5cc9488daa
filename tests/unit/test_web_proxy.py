"""Behind a proxy: TRUSTED_PROXY_HOPS proxies' X-Forwarded-For is believed (werkzeug's
ProxyFix), so per-address limits see the resident, not the proxy; no more hops than
configured, so a client cannot pick its own address; HSTS when served over https."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.browser.fake_rasa import FakeRasa
from tests.browser.webapp import settings_for
from webhook import create_app


def _client(tmp_path: Path, rasa: FakeRasa, **overrides: object) -> FlaskClient:
    return create_app(settings_for(tmp_path, rasa.url, **overrides), background=False).test_client()


def _new_chat(client: FlaskClient, forwarded_for: str) -> int:
    response = client.post(
        "/api/chat", json={"text": "hello"}, headers={"X-Forwarded-For": forwarded_for}
    )
    return response.status_code


@pytest.fixture(autouse=True)
def one_new_chat_per_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATE_LIMIT_NEW_CHAT", "1/minute")


def test_without_trusted_proxies_forwarded_for_is_ignored(tmp_path: Path, rasa: FakeRasa) -> None:
    client = _client(tmp_path, rasa)
    assert [_new_chat(client, a) for a in ("203.0.113.1", "203.0.113.2")] == [200, 429]


def test_behind_one_proxy_each_resident_has_their_own_limit(tmp_path: Path, rasa: FakeRasa) -> None:
    client = _client(tmp_path, rasa, trusted_proxy_hops=1)
    assert [_new_chat(client, a) for a in ("203.0.113.1", "203.0.113.2")] == [200, 200]
    # A client's own X-Forwarded-For entries come before the proxy's and are not believed.
    spoofed = ["9.9.9.9, 203.0.113.3", "8.8.8.8, 203.0.113.3"]
    assert [_new_chat(client, a) for a in spoofed] == [200, 429]


def test_hsts_only_when_served_over_https(tmp_path: Path, rasa: FakeRasa) -> None:
    https = _client(tmp_path, rasa, public_base_url="https://privacy.example.org")
    header = https.get("/").headers.get("Strict-Transport-Security")
    assert header == "max-age=31536000"
    plain = _client(tmp_path / "plain", rasa)
    assert "Strict-Transport-Security" not in plain.get("/").headers
