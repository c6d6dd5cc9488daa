"""Security headers and the session cookie as the real web process (gunicorn on loopback,
plain http) sends them; the https variant behind a proxy is in tests/unit/test_web_proxy.py."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.web_checks import assert_page_security_headers, session_cookie

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("path", ["/", "/inbox/login"])
def test_pages_carry_csp_framing_sniffing_and_referrer_headers(stack: Any, path: str) -> None:
    assert_page_security_headers(requests.get(stack.web_url + path, timeout=30).headers, False)


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
