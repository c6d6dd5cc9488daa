"""Staff least privilege over the real web process (gunicorn on loopback): the tickets
list masks contacts and carries no transcript, a full read is audited, a token revoked
with the real `privacybot staff revoke` stops working, a session cookie copied
before sign-out is refused after it, sign-in failures lock the account's token out,
and a paused SAR shows "paused" with its days in the inbox, never "overdue"."""

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


def test_sign_in_failures_lock_the_account_and_its_token(stack: Any) -> None:
    from casework import staff
    from casework.db import session_scope

    email, password = (
        "locked-agent@example.org",
        "the right long password",
    )  # not STAFF: others sign in
    with session_scope(stack.database_url) as session:
        staff.add_or_update(session, email, password, "agent")
        headers = {"Authorization": f"Bearer {staff.issue_token(session, email, 1)}"}
    assert requests.get(f"{stack.web_url}/api/tickets", headers=headers, timeout=30).ok

    def sign_in(attempt: str) -> int:
        http = requests.Session()
        form = {
            "email": email,
            "password": attempt,
            "csrf_token": csrf(http, stack, "/inbox/login"),
        }
        return http.post(f"{stack.web_url}/inbox/login", data=form, timeout=30).status_code

    assert [sign_in("a guess") for _ in range(staff.MAX_FAILED_LOGINS)] == [401] * 5
    refused = requests.get(f"{stack.web_url}/api/tickets", headers=headers, timeout=30)
    assert refused.status_code == 401 and "WWW-Authenticate" in refused.headers
    assert sign_in(password) == 401  # the right password waits out the lock-out too


def test_a_paused_sar_shows_paused_with_its_days_never_overdue(stack: Any) -> None:
    from datetime import timedelta

    from casework.db import session_scope
    from casework.sar import create_sar, today_uk
    from tests.integration.test_web_stack import ticket_action

    with session_scope(stack.database_url) as session:
        reference = create_sar(  # due 3 to 10 days ago: a month and a weekend or holiday roll
            session,
            org="barnet-homes",
            channel="web",
            conversation_id=None,
            requester_name="Pat Paused",
            contact="pat@example.org",
            contact_method="email",
            records_locator="3 Road",
            scope="everything",
            received_on=today_uk() - timedelta(days=38),
        ).reference
    http = staff_session(stack)
    paused_on = (today_uk() - timedelta(days=12)).isoformat()
    ticket_action(http, stack, reference, "pause", reason="Which years?", on=paused_on)
    page = http.get(f"{stack.web_url}/inbox/tickets/{reference}", timeout=30).text
    assert "paused 12 day(s)" in page and "tag-overdue" not in page
    inbox = http.get(f"{stack.web_url}/inbox", timeout=30).text
    row = inbox[inbox.index(reference) :].split("</tr>")[0]
    assert "paused 12 day(s)" in row and "overdue" not in row
