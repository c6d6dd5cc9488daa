# ruff: noqa: F811  (test functions take the imported fixtures as arguments)
"""Least privilege on the staff side: the tickets list gives summaries with masked
contacts, a full ticket is its own audited read, tokens expire / are revoked / obey
lock-out, and signing out kills a copied session cookie on the server. Also the
inbox's SAR clock flags (a paused SAR is never overdue)."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from casework import audit, sar, staff, tickets
from casework.models import AuditEvent, StaffToken, TicketKind, utcnow
from casework.sar import today_uk
from tests.unit.test_web_inbox import (  # noqa: F401  (agent and app are fixtures)
    act,
    agent,
    app,
    csrf_token,
    db,
    login,
    make_sar,
)

COOKIE = "privacybot_session"


def bearer(app: Flask, days: int = 90) -> dict[str, str]:
    with db(app) as session:
        return {"Authorization": f"Bearer {staff.issue_token(session, 'agent@example.org', days)}"}


def phone_ticket(app: Flask) -> str:
    with db(app) as session:
        return tickets.create_ticket(
            session,
            kind=TicketKind.MARKETING_OPT_OUT,
            org="barnet-homes",
            channel="sms",
            summary="Stop marketing texts",
            contact="+447700900987",
            contact_method="sms",
            details={"channels": ["sms"]},
            transcript=[{"author": "resident", "text": "stop texting me on 07700 900987"}],
        ).reference


def test_list_gives_summaries_with_masked_contacts(app: Flask) -> None:
    sar_ref = make_sar(app, today_uk())  # contact sam@example.org
    sms_ref = phone_ticket(app)
    response = app.test_client().get("/api/tickets", headers=bearer(app))
    rows = {r["reference"]: r for r in response.get_json()["tickets"]}
    assert rows[sar_ref]["contact"] == "s…@example.org"
    assert rows[sms_ref]["contact"] == "***987"
    for row in rows.values():
        assert "transcript" not in row and "details" not in row
        assert row["url"] == f"/api/tickets/{row['reference']}"
    body = response.get_data(as_text=True)
    assert "sam@example.org" not in body and "900987" not in body
    with db(app) as session:
        viewed = session.scalars(select(AuditEvent).where(AuditEvent.action == "ticket.viewed"))
        assert list(viewed) == []  # a list is not a read of any one ticket


def test_full_ticket_is_its_own_audited_read(app: Flask) -> None:
    ref = phone_ticket(app)
    before = utcnow() - timedelta(seconds=1)
    full = app.test_client().get(f"/api/tickets/{ref}", headers=bearer(app)).get_json()
    assert full["contact"] == "+447700900987" and full["transcript"]
    with db(app) as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "ticket.viewed")
        ).one()
        assert (event.actor, event.ticket_reference, event.detail) == (
            "agent@example.org",
            ref,
            {"via": "api"},
        )
        assert event.at >= before


def test_expired_revoked_and_locked_out_tokens_are_refused(app: Flask) -> None:
    client = app.test_client()
    headers = bearer(app)
    assert client.get("/api/tickets", headers=headers).status_code == 200
    with db(app) as session:  # the token's 90 days are over
        session.scalars(select(StaffToken)).one().expires_at = utcnow() - timedelta(seconds=1)
    assert client.get("/api/tickets", headers=headers).status_code == 401

    headers = bearer(app)
    with db(app) as session:
        user = staff.find(session, "agent@example.org")
        assert user is not None
        user.locked_until = utcnow() + timedelta(minutes=15)
    assert client.get("/api/tickets", headers=headers).status_code == 401
    with db(app) as session:
        user = staff.find(session, "agent@example.org")
        assert user is not None
        user.locked_until = None
    assert client.get("/api/tickets", headers=headers).status_code == 200
    with db(app) as session:
        assert staff.revoke(session, "agent@example.org") == 1
    assert client.get("/api/tickets", headers=headers).status_code == 401


def test_an_account_locked_out_at_the_inbox_is_locked_out_of_the_api(app: Flask) -> None:
    headers = bearer(app)
    client = app.test_client()
    assert client.get("/api/tickets", headers=headers).status_code == 200
    guesser = app.test_client()
    for _ in range(staff.MAX_FAILED_LOGINS):  # someone guessing the password at the inbox
        assert login(guesser, password="not the password").status_code == 401
    assert client.get("/api/tickets", headers=headers).status_code == 401
    assert login(app.test_client()).status_code == 401  # the right password waits too


def test_sign_out_kills_a_copied_session_cookie(app: Flask) -> None:
    resident_pc = app.test_client()
    assert login(resident_pc).status_code == 302
    cookie = resident_pc.get_cookie(COOKIE)
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie.value)
    assert thief.get("/inbox").status_code == 200  # the copy works while signed in
    resident_pc.post("/inbox/logout", data={"csrf_token": csrf_token(resident_pc, "/inbox")})
    assert thief.get("/inbox").status_code == 302
    assert thief.get("/api/tickets").status_code == 401
    again = app.test_client()  # signing in again works, with a new session version
    assert login(again).status_code == 302 and again.get("/inbox").status_code == 200


def test_a_new_password_signs_old_sessions_out(app: Flask) -> None:
    client = app.test_client()
    login(client)
    with db(app) as session:
        staff.add_or_update(session, "agent@example.org", "another long password", "agent")
    assert client.get("/inbox").status_code == 302


def test_paused_sar_shows_paused_with_its_days_never_overdue(
    app: Flask, agent: FlaskClient
) -> None:
    # Due 3 to 10 days ago (a month is 28-31 days, plus a weekend or holiday roll).
    ref = make_sar(app, today_uk() - timedelta(days=38))
    paused_on = today_uk() - timedelta(days=12)
    act(agent, ref, "pause", reason="Which years?", on=paused_on.isoformat())
    with db(app) as session:
        ticket = tickets.get_ticket(session, ref)
        assert ticket is not None and ticket.sar is not None
        assert ticket.sar.due_on is not None and ticket.sar.due_on < today_uk()
    row = agent.get("/inbox/queue.json").get_json()["tickets"][0]
    assert (row["reference"], row["due_flag"], row["paused_days"]) == (ref, "paused", 12)
    assert "paused 12 day(s)" in agent.get("/inbox").get_data(as_text=True)
    page = agent.get(f"/inbox/tickets/{ref}").get_data(as_text=True)
    assert "paused 12 day(s)" in page and "tag-overdue" not in page
    act(agent, ref, "resume", on=today_uk().isoformat())
    row = agent.get("/inbox/queue.json").get_json()["tickets"][0]
    assert row["paused_days"] is None and row["due_flag"] != "overdue"  # 12 days added back


def test_inbox_refuses_bad_clock_dates_and_late_id_requests(app: Flask, agent: FlaskClient) -> None:
    ref = make_sar(app, today_uk() - timedelta(days=3))
    tomorrow = (today_uk() + timedelta(days=1)).isoformat()
    page = act(agent, ref, "id_received", on=tomorrow).get_data(as_text=True)
    assert "is in the future" in page
    early = (today_uk() - timedelta(days=4)).isoformat()
    assert "before the request was received" in act(
        agent, ref, "pause", reason="x", on=early
    ).get_data(as_text=True)
    late = make_sar(app, today_uk() - timedelta(days=70))
    page = act(agent, late, "request_id").get_data(as_text=True)
    assert "too late to ask for ID" in page
    with db(app) as session:
        ticket = tickets.get_ticket(session, late)
        assert ticket is not None and ticket.sar is not None and not ticket.sar.id_required
        assert sar.paused_days_so_far(ticket.sar) == 0


def _sar_of(app: Flask, ref: str):  # noqa: ANN202
    with db(app) as session:
        ticket = tickets.get_ticket(session, ref)
        assert ticket is not None and ticket.sar is not None
        session.expunge(ticket.sar)
        return ticket.sar


def test_id_received_without_a_request_does_not_restart_the_clock(
    app: Flask, agent: FlaskClient
) -> None:
    ref = make_sar(app, today_uk() - timedelta(days=10))
    due = _sar_of(app, ref).due_on
    page = act(agent, ref, "id_received", on=today_uk().isoformat()).get_data(as_text=True)
    assert "the clock keeps running from receipt" in page
    assert _sar_of(app, ref).due_on == due  # not ten days later
    with db(app) as session:
        [event] = [e for e in audit.events_for(session, ref) if e.action == "sar.id_received"]
        assert event.detail["clock_restarted"] is False
    # Asked for, the ID does restart it: from the day it arrived.
    act(agent, ref, "request_id")
    assert _sar_of(app, ref).due_on is None
    page = act(agent, ref, "id_received", on=today_uk().isoformat()).get_data(as_text=True)
    assert "the due date is recalculated" in page
    restarted = _sar_of(app, ref).due_on
    assert restarted is not None and restarted > due


def test_extension_ends_two_further_months_after_the_first(app: Flask, agent: FlaskClient) -> None:
    from dateutil.relativedelta import relativedelta

    from casework.sar_clock import next_working_day

    received = today_uk() - timedelta(days=3)
    ref = make_sar(app, received)
    act(agent, ref, "extend", reason="Records held by three services")
    # ICO: "a further two months", run on from the first month's calendar date.
    first_month = received + relativedelta(months=1)
    expected = next_working_day(first_month + relativedelta(months=2))
    assert _sar_of(app, ref).due_on == expected
    assert expected.isoformat() in agent.get(f"/inbox/tickets/{ref}").get_data(as_text=True)
    # Told after the first month is over: refused, with the date it had to be told by.
    late = make_sar(app, today_uk() - timedelta(days=45))
    page = act(agent, late, "extend", reason="Many records").get_data(as_text=True)
    assert "too late to extend" in page and not _sar_of(app, late).extended
