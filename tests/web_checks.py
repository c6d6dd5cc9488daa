"""What every page must carry (security headers) and how its session cookie is flagged:
one reading shared by the Flask test-client, real-process and proxy tests."""

from __future__ import annotations

from collections.abc import Mapping

import requests


def assert_page_security_headers(headers: Mapping[str, str], https: bool) -> None:
    """CSP without inline script and with no framing, no sniffing, same-origin referrer;
    HSTS only over https."""
    csp = headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    if https:
        assert headers["Strict-Transport-Security"] == "max-age=31536000"
    else:
        assert "Strict-Transport-Security" not in headers


def cookie_attributes(set_cookie: str) -> tuple[str, dict[str, str]]:
    """A Set-Cookie value's name and attributes (lower-cased attribute name -> as sent)."""
    name_value, *attributes = (part.strip() for part in set_cookie.split(";"))
    return name_value.split("=", 1)[0], {a.split("=")[0].lower(): a for a in attributes}


def session_cookie(response: requests.Response) -> tuple[str, dict[str, str]]:
    """The session cookie of a real HTTP response. Flask-Login also clears an empty
    remember_token cookie, so there is more than one Set-Cookie."""
    cookies = response.raw.headers.getlist("Set-Cookie")
    found = [c for c in cookies if "session=" in c.split(";")[0]]
    assert len(found) == 1, cookies
    return cookie_attributes(found[0])
