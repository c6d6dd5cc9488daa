"""Security headers on every kind of answer, and the session cookie's flags as the
browser receives them: HttpOnly and SameSite always, Secure (and the __Host- prefix)
when served over https, never Secure over plain http (the cookie would be dropped)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from casework import staff
from casework.db import session_scope
from tests.browser.fake_rasa import FakeRasa
from tests.browser.webapp import settings_for
from tests.web_checks import assert_page_security_headers, cookie_attributes
from webhook import create_app
from webhook.state import state

PASSWORD = "correct horse battery"


def _app(tmp_path: Path, rasa: FakeRasa, **overrides: object) -> Flask:
    app = create_app(settings_for(tmp_path, rasa.url, **overrides), background=False)
    with session_scope(state(app).settings.database_url) as session:
        staff.add_or_update(session, "agent@example.org", PASSWORD, "agent")
    return app


def _sign_in(client: FlaskClient, base_url: str) -> str:
    """The Set-Cookie header of a successful sign-in."""
    page = client.get("/inbox/login", base_url=base_url).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match
    response = client.post(
        "/inbox/login",
        base_url=base_url,
        data={"email": "agent@example.org", "password": PASSWORD, "csrf_token": match.group(1)},
        headers={"Referer": f"{base_url}/inbox/login"},  # Flask-WTF checks it over https
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response.headers["Set-Cookie"]


def test_session_cookie_over_https_is_secure_httponly_samesite(
    tmp_path: Path, rasa: FakeRasa
) -> None:
    app = _app(tmp_path, rasa, public_base_url="https://privacy.example.org")
    cookie = _sign_in(app.test_client(), "https://privacy.example.org")
    name, flags = cookie_attributes(cookie)
    assert name == "__Host-session"
    assert {"secure", "httponly", "samesite", "path"} <= set(flags) and "domain" not in flags
    assert "SameSite=Lax" in cookie and "Path=/" in cookie


def test_session_cookie_over_http_is_httponly_samesite_not_secure(
    tmp_path: Path, rasa: FakeRasa
) -> None:
    app = _app(tmp_path, rasa)
    cookie = _sign_in(app.test_client(), "http://127.0.0.1:8000")
    name, flags = cookie_attributes(cookie)
    assert name == "privacybot_session"
    assert {"httponly", "samesite"} <= set(flags) and "secure" not in flags


@pytest.mark.parametrize("path", ["/", "/inbox/login"])
def test_pages_carry_csp_framing_and_sniffing_headers(
    tmp_path: Path, rasa: FakeRasa, path: str
) -> None:
    assert_page_security_headers(_app(tmp_path, rasa).test_client().get(path).headers, False)


def test_staff_and_api_answers_are_not_cached(tmp_path: Path, rasa: FakeRasa) -> None:
    client = _app(tmp_path, rasa).test_client()
    for path in ("/api/tickets", "/inbox/login"):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "no-store", path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    chat = client.post("/api/chat", json={"text": "hello"})
    assert chat.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in chat.headers  # plain http: no HSTS


def test_https_answers_carry_hsts(tmp_path: Path, rasa: FakeRasa) -> None:
    client = _app(tmp_path, rasa, public_base_url="https://privacy.example.org").test_client()
    for path in ("/", "/api/tickets"):
        response = client.get(path, base_url="https://privacy.example.org")
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000", path
