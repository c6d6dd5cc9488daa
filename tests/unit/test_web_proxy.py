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


def test_proxy_hops_and_hsts_over_the_real_web_process(tmp_path: Path, rasa: FakeRasa) -> None:
    """gunicorn as `privacybot run` starts it, configured as behind one https proxy."""
    from urllib.parse import urlsplit

    import requests

    from privacybot.runner import free_port
    from tests.web_process import real_web_process, web_env

    env = web_env(
        tmp_path,
        WEB_PORT=str(free_port()),
        RASA_PORT=str(urlsplit(rasa.url).port),
        TRUSTED_PROXY_HOPS="1",
        PUBLIC_BASE_URL="https://privacy.example.org",
    )
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'casework.db'}"  # the fake Rasa writes here
    with real_web_process(env, tmp_path / "logs") as stack:

        def new_chat(forwarded_for: str) -> requests.Response:
            return requests.post(
                f"{stack.web_url}/api/chat",
                json={"text": "hello"},
                headers={"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "https"},
                timeout=30,
            )

        first, second = new_chat("203.0.113.1"), new_chat("203.0.113.2")
        assert [first.status_code, second.status_code] == [200, 200]
        assert first.headers["Strict-Transport-Security"] == "max-age=31536000"
        spoofed = [new_chat(f"{own}, 203.0.113.3") for own in ("9.9.9.9", "8.8.8.8")]
        assert [r.status_code for r in spoofed] == [200, 429]
        _assert_https_page_headers_and_cookie(stack.web_url)


def _assert_https_page_headers_and_cookie(web_url: str) -> None:
    """A page through the https proxy: CSP, framing, sniffing and referrer headers, and
    the session cookie Secure, HttpOnly, SameSite and host-only (the __Host- prefix)."""
    import requests

    from tests.web_checks import assert_page_security_headers, session_cookie
    from webhook.security import CSP

    page = requests.get(
        f"{web_url}/inbox/login", headers={"X-Forwarded-Proto": "https"}, timeout=30
    )
    assert page.status_code == 200
    assert page.headers["Content-Security-Policy"] == CSP
    assert_page_security_headers(page.headers, True)
    name, flags = session_cookie(page)
    assert name == "__Host-session"
    assert {"secure", "httponly", "samesite", "path"} <= set(flags) and "domain" not in flags
    assert flags["samesite"] == "SameSite=Lax" and flags["path"] == "Path=/"
