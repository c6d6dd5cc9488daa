"""Security headers and the session cookie as the real web process (gunicorn on loopback,
plain http) sends them; the https variant behind a proxy is in tests/unit/test_web_proxy.py."""

from __future__ import annotations

from typing import Any

import pytest
import requests

pytestmark = pytest.mark.integration


def session_cookie(response: requests.Response) -> tuple[str, dict[str, str]]:
    """The session cookie's name and attributes (lower-cased name -> as sent). Flask-Login
    also clears an empty remember_token cookie, so there is more than one Set-Cookie."""
    cookies = response.raw.headers.getlist("Set-Cookie")
    found = [c for c in cookies if "session=" in c.split(";")[0]]
    assert len(found) == 1, cookies
    name_value, *attributes = (part.strip() for part in found[0].split(";"))
    return name_value.split("=", 1)[0], {a.split("=")[0].lower(): a for a in attributes}


@pytest.mark.parametrize("path", ["/", "/inbox/login"])
def test_pages_carry_csp_framing_sniffing_and_referrer_headers(stack: Any, path: str) -> None:
    headers = requests.get(stack.web_url + path, timeout=30).headers
    csp = headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers  # plain http: no HSTS


def test_api_answers_are_not_sniffed_or_cached(stack: Any) -> None:
    for response in (
        requests.post(f"{stack.web_url}/api/chat", json={"text": ""}, timeout=30),
        requests.get(f"{stack.web_url}/api/tickets", timeout=30),
    ):
        assert response.status_code in (400, 401)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"


def test_session_cookie_over_plain_http_is_httponly_samesite_not_secure(stack: Any) -> None:
    # Secure over http would make the browser drop it; over https it is (test_web_proxy.py).
    page = requests.get(f"{stack.web_url}/inbox/login", timeout=30)
    name, flags = session_cookie(page)
    assert name == "privacybot_session"
    assert {"httponly", "samesite"} <= set(flags) and "secure" not in flags
    assert flags["samesite"] == "SameSite=Lax"
