"""Staff least privilege over the real web process (gunicorn on loopback): the tickets
list masks contacts and carries no transcript, a full read is audited, a token revoked
with the real `privacybot staff revoke` stops working, and a session cookie copied
before sign-out is refused after it."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import requests
from sqlalchemy import select

from tests.integration.test_web_stack import STAFF, csrf, staff_session

pytestmark = pytest.mark.integration


def _ticket(stack: Any) -> str:
    from casework import tickets
    from casework.db import session_scope
    from casework.models import TicketKind

    with session_scope(stack.database_url) as session:
        return tickets.create_ticket(
            session,
            kind=TicketKind.HANDOFF,
            org="barnet-homes",
            channel="web",
            summary="Wants a person about a letter",
            contact="kim.lee@example.org",
            contact_method="email",
            transcript=[{"author": "resident", "text": "my email is kim.lee@example.org"}],
        ).reference


def _cli(stack: Any, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "privacybot.cli", *args],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_list_masks_full_read_is_audited_and_revoked_token_stops(stack: Any) -> None:
    from casework.db import session_scope
    from casework.models import AuditEvent

    staff_session(stack)  # creates the account
    reference = _ticket(stack)
    issued = _cli(stack, "staff", "token", STAFF[0], "--days", "1")
    assert issued.returncode == 0, issued.stderr
    token_id = issued.stderr.split("token id ")[1].split(",")[0]
    headers = {"Authorization": f"Bearer {issued.stdout.strip()}"}

    listing = requests.get(f"{stack.web_url}/api/tickets", headers=headers, timeout=30)
    assert listing.status_code == 200
    row = next(r for r in listing.json()["tickets"] if r["reference"] == reference)
    assert row["contact"] == "k…@example.org" and "transcript" not in row
    assert "kim.lee" not in listing.text

    full = requests.get(f"{stack.web_url}{row['url']}", headers=headers, timeout=30).json()
    assert full["contact"] == "kim.lee@example.org" and full["transcript"]
    with session_scope(stack.database_url) as session:
        reads = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "ticket.viewed", AuditEvent.ticket_reference == reference
            )
        ).all()
        assert [(e.actor, e.detail.get("via")) for e in reads] == [(STAFF[0], "api")]

    revoked = _cli(stack, "staff", "revoke", token_id)
    assert revoked.returncode == 0 and "revoked 1 token(s)" in revoked.stdout
    again = requests.get(f"{stack.web_url}/api/tickets", headers=headers, timeout=30)
    assert again.status_code == 401 and "WWW-Authenticate" in again.headers


def test_a_cookie_copied_before_sign_out_is_refused_after_it(stack: Any) -> None:
    signed_in = staff_session(stack)
    copy = requests.Session()
    copy.cookies.update(signed_in.cookies)
    assert copy.get(f"{stack.web_url}/api/tickets", timeout=30).status_code == 200
    signed_in.post(
        f"{stack.web_url}/inbox/logout",
        data={"csrf_token": csrf(signed_in, stack, "/inbox")},
        timeout=30,
    )
    assert copy.get(f"{stack.web_url}/api/tickets", timeout=30).status_code == 401
    page = copy.get(f"{stack.web_url}/inbox", timeout=30, allow_redirects=False)
    assert page.status_code == 302 and "/inbox/login" in page.headers["Location"]
