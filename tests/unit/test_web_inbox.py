"""The staff inbox and the tickets API: login, lock-out, CSRF, queue, ticket actions,
replies over the original channel, hand-back to the bot, audit, CSV export."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from casework import audit, handoff, staff, tickets
from casework.db import session_scope
from casework.models import (
    Conversation,
    ConversationState,
    Message,
    OutboundMessage,
    Ticket,
    TicketKind,
    TicketStatus,
)
from casework.sar import create_sar, today_uk
from tests.browser.fake_rasa import FakeRasa
from tests.browser.webapp import settings_for
from webhook import create_app
from webhook.state import state

PASSWORD = "correct horse battery"


@pytest.fixture
def app(tmp_path: Path, rasa: FakeRasa) -> Flask:
    app = create_app(settings_for(tmp_path, rasa.url), background=False)
    with db(app) as session:
        staff.add_or_update(session, "agent@example.org", PASSWORD, "agent", "Agent Smith")
        staff.add_or_update(session, "admin@example.org", PASSWORD, "admin", "Ada Admin")
    return app


def db(app: Flask):  # noqa: ANN201
    return session_scope(state(app).settings.database_url)


def csrf_token(client: FlaskClient, path: str = "/inbox/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, html[:500]
    return match.group(1)


def login(client: FlaskClient, email: str = "agent@example.org", password: str = PASSWORD):  # noqa: ANN201
    token = csrf_token(client)
    return client.post(
        "/inbox/login", data={"email": email, "password": password, "csrf_token": token}
    )


@pytest.fixture
def agent(app: Flask) -> FlaskClient:
    client = app.test_client()
    assert login(client).status_code == 302
    return client


def act(client: FlaskClient, reference: str, name: str, **form: str):  # noqa: ANN201
    token = csrf_token(client, f"/inbox/tickets/{reference}")
    return client.post(
        f"/inbox/tickets/{reference}/{name}",
        data={**form, "csrf_token": token},
        follow_redirects=True,
    )


def web_handoff(app: Flask, client: FlaskClient, text: str = "I want a person") -> tuple[str, str]:
    cid = client.post("/api/chat", json={"text": text}).get_json()["conversation_id"]
    with db(app) as session:
        ticket = tickets.open_handoff_for(session, cid)
        assert ticket is not None
        return cid, ticket.reference


def make_sar(app: Flask, received: date, name: str = "Sam") -> str:
    with db(app) as session:
        return create_sar(
            session,
            org="barnet-homes",
            channel="web",
            conversation_id=None,
            requester_name=name,
            contact="sam@example.org",
            contact_method="email",
            records_locator="1 Road",
            scope="everything",
            received_on=received,
        ).reference


# --- sign-in ---------------------------------------------------------------------------------


def test_inbox_needs_a_login(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/inbox").status_code == 302
    assert client.get("/inbox/queue.json").status_code in (302, 401)


def test_login_without_csrf_token_is_refused(app: Flask) -> None:
    client = app.test_client()
    response = client.post(
        "/inbox/login", data={"email": "agent@example.org", "password": PASSWORD}
    )
    assert response.status_code == 400
    assert client.get("/inbox").status_code == 302


def test_login_and_logout(app: Flask) -> None:
    client = app.test_client()
    assert login(client).status_code == 302
    assert client.get("/inbox").status_code == 200
    token = csrf_token(client, "/inbox")
    client.post("/inbox/logout", data={"csrf_token": token})
    assert client.get("/inbox").status_code == 302


def test_brute_force_locks_the_account(app: Flask) -> None:
    client = app.test_client()
    for _ in range(5):
        assert login(client, password="wrong password!!").status_code == 401
    assert login(client).status_code == 401  # locked, even with the right password
    with db(app) as session:
        user = staff.find(session, "agent@example.org")
        assert user is not None and staff.is_locked(user)


def test_login_bursts_get_429(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATE_LIMIT_LOGIN", "3/minute")
    client = app.test_client()
    codes = [login(client, email=f"x{i}@example.org").status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]


def test_session_cookie_flags(app: Flask) -> None:
    client = app.test_client()
    response = login(client)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secure_cookie_behind_https(tmp_path: Path, rasa: FakeRasa) -> None:
    settings = settings_for(tmp_path, rasa.url, public_base_url="https://example.org")
    app = create_app(settings, background=False)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"].startswith("__Host-")


# --- queue -------------------------------------------------------------------------------------


def test_queue_order_and_due_date_highlights(app: Flask, agent: FlaskClient) -> None:
    today = today_uk()
    later = make_sar(app, today)
    overdue = make_sar(app, today - timedelta(days=70))
    soon = make_sar(app, today - timedelta(days=27))
    with db(app) as session:
        optout = tickets.create_ticket(
            session,
            kind=TicketKind.MARKETING_OPT_OUT,
            org="barnet-homes",
            channel="sms",
            summary="x",
        ).reference
    _, handoff_ref = web_handoff(app, app.test_client())
    rows = agent.get("/inbox/queue.json").get_json()["tickets"]
    assert [r["reference"] for r in rows] == [handoff_ref, overdue, soon, later, optout]
    flags = {r["reference"]: r["due_flag"] for r in rows}
    assert flags[overdue] == "overdue" and flags[soon] == "due-soon" and flags[later] == ""
    page = agent.get("/inbox").get_data(as_text=True)
    assert "overdue" in page and "due soon" in page


def test_filters_and_search(app: Flask, agent: FlaskClient) -> None:
    sar_ref = make_sar(app, today_uk())
    _, handoff_ref = web_handoff(app, app.test_client())

    def refs(query: str) -> list[str]:
        rows = agent.get("/inbox/queue.json?" + query).get_json()["tickets"]
        return [r["reference"] for r in rows]

    assert refs("kind=sar") == [sar_ref]
    assert refs("kind=handoff&channel=web") == [handoff_ref]
    assert refs("channel=sms") == []
    assert refs("assignee=none") == [handoff_ref, sar_ref]
    assert refs("assignee=me") == []
    assert refs("status=resolved") == []
    response = agent.get(f"/inbox?q={sar_ref.lower()}")
    assert response.status_code == 302 and response.headers["Location"].endswith(sar_ref)


# --- ticket page and actions -------------------------------------------------------------------


def test_viewing_a_ticket_is_audited_and_user_text_is_escaped(
    app: Flask, agent: FlaskClient
) -> None:
    _, ref = web_handoff(app, app.test_client(), "<script>alert('person')</script>")
    page = agent.get(f"/inbox/tickets/{ref}").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;person&#39;)&lt;/script&gt;" in page
    with db(app) as session:
        actions = [e.action for e in audit.events_for(session, ref)]
    assert "ticket.viewed" in actions


def test_unknown_ticket_and_csrf_less_action(app: Flask, agent: FlaskClient) -> None:
    assert agent.get("/inbox/tickets/SAR-NOPE22").status_code == 404
    _, ref = web_handoff(app, app.test_client())
    response = agent.post(f"/inbox/tickets/{ref}/assign", data={})
    assert response.status_code == 400
    with db(app) as session:
        ticket = tickets.get_ticket(session, ref)
        assert ticket is not None and ticket.assignee_id is None


def test_full_handoff_staff_reply_reaches_widget_then_hand_back(
    app: Flask, agent: FlaskClient, rasa: FakeRasa
) -> None:
    resident = app.test_client()
    cid, ref = web_handoff(app, resident)
    cursor = resident.get(f"/api/chat/{cid}/messages").get_json()["cursor"]
    assert "Assigned to you" in act(agent, ref, "assign").get_data(as_text=True)
    act(agent, ref, "note", text="Checked the tenancy file")
    act(agent, ref, "reply", text="Hello, this is Talk2Us. How can we help?")
    new = resident.get(f"/api/chat/{cid}/messages?after={cursor}").get_json()["messages"]
    assert [(m["author"], m["text"]) for m in new] == [
        ("staff", "Hello, this is Talk2Us. How can we help?")
    ]
    page = act(agent, ref, "close", outcome="Answered the question").get_data(as_text=True)
    assert "handed back" in page
    assert (cid, {"event": "resume"}) in rasa.events
    with db(app) as session:
        conversation = session.get(Conversation, cid)
        assert conversation is not None and conversation.state == ConversationState.BOT
        ticket = tickets.get_ticket(session, ref)
        assert ticket is not None and ticket.status == TicketStatus.RESOLVED
        assert [n.visibility for n in ticket.notes] == ["internal", "resident"]
        actions = [e.action for e in audit.events_for(session, ref)]
    assert {
        "ticket.assigned",
        "ticket.note_added",
        "ticket.replied",
        "conversation.handed_back",
    } <= set(actions)
    # The bot speaks again.
    reply = resident.post("/api/chat", json={"conversation_id": cid, "text": "thanks"}).get_json()
    assert reply["messages"][0]["text"] == "You said: thanks"


def test_reply_to_an_sms_resident_goes_through_the_outbox(app: Flask, agent: FlaskClient) -> None:
    with db(app) as session:
        conversation = Conversation(
            id="c" * 32, org="barnet-homes", channel="sms", address="+447700900123"
        )
        session.add(conversation)
        session.flush()
        ref = handoff.open_handoff(
            session, conversation_id=conversation.id, org="barnet-homes", reason="r"
        ).reference
    act(agent, ref, "reply", text="We have your message \u2013 we\u2019ll call you.")
    with db(app) as session:
        row = session.scalars(select(OutboundMessage)).one()
        assert (row.to, row.body, row.status) == (
            "+447700900123",
            "We have your message - we'll call you.",
            "pending",
        )
        conversation = session.get(Conversation, "c" * 32)
        assert conversation is not None
        conversation.sms_blocked = True
    page = act(agent, ref, "reply", text="Another").get_data(as_text=True)
    assert "texted STOP" in page
    with db(app) as session:
        assert len(session.scalars(select(OutboundMessage)).all()) == 1


def test_too_long_sms_reply_is_refused(app: Flask, agent: FlaskClient) -> None:
    with db(app) as session:
        session.add(
            Conversation(id="d" * 32, org="barnet-homes", channel="sms", address="+447700900124")
        )
        session.flush()
        ref = handoff.open_handoff(
            session, conversation_id="d" * 32, org="barnet-homes", reason="r"
        ).reference
    page = act(agent, ref, "reply", text="word " * 200).get_data(as_text=True)
    assert "SMS segments" in page
    with db(app) as session:
        assert session.scalars(select(Message).where(Message.author == "staff")).all() == []


def test_sar_clock_actions(app: Flask, agent: FlaskClient) -> None:
    received = today_uk() - timedelta(days=3)
    ref = make_sar(app, received)

    def due() -> date | None:
        with db(app) as session:
            ticket = tickets.get_ticket(session, ref)
            assert ticket is not None and ticket.sar is not None
            return ticket.sar.due_on

    original = due()
    act(agent, ref, "request_id")
    act(agent, ref, "id_received", on=today_uk().isoformat())
    after_id = due()
    assert after_id is not None and original is not None and after_id >= original
    act(agent, ref, "pause", reason="Which years?")
    page = act(agent, ref, "pause", reason="again").get_data(as_text=True)
    assert "already paused" in page
    act(agent, ref, "resume", on=today_uk().isoformat())
    page = act(agent, ref, "extend", reason="").get_data(as_text=True)
    assert "Please give" in page
    act(agent, ref, "extend", reason="Many years of records across three services")
    extended = due()
    assert extended is not None and extended > after_id
    act(agent, ref, "close", outcome="Data sent by secure email")
    with db(app) as session:
        ticket = tickets.get_ticket(session, ref)
        assert ticket is not None and ticket.status == TicketStatus.RESOLVED
        actions = [e.action for e in audit.events_for(session, ref)]
    for expected in (
        "sar.id_requested",
        "sar.id_received",
        "sar.paused",
        "sar.resumed",
        "sar.extended",
        "sar.closed",
    ):
        assert expected in actions
    assert act(agent, ref, "bogus").status_code == 404


def test_bad_date_is_a_polite_error(app: Flask, agent: FlaskClient) -> None:
    ref = make_sar(app, today_uk())
    page = act(agent, ref, "id_received", on="31/02/2025").get_data(as_text=True)
    assert "Please give the date as YYYY-MM-DD." in page


def test_csv_cells_cannot_start_a_formula() -> None:
    from webhook.inbox import _cell

    assert _cell("=1+1") == "'=1+1" and _cell("@SUM(A1)") == "'@SUM(A1)" and _cell("ok") == "ok"


# --- export and API ------------------------------------------------------------------------------


def test_csv_export_is_admin_only_and_formula_safe(app: Flask, agent: FlaskClient) -> None:
    make_sar(app, today_uk(), name='=HYPERLINK("http://evil")')
    assert agent.get("/inbox/export.csv").status_code == 403
    admin = app.test_client()
    login(admin, "admin@example.org")
    response = admin.get("/inbox/export.csv?status=all")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.splitlines()[0].startswith("reference,kind,status")
    assert "'Subject access request from =HYPERLINK" not in text  # summary starts with text
    assert ",=" not in text
    with db(app) as session:
        assert session.scalars(select(Ticket)).first() is not None


def test_tickets_api_with_bearer_token_and_session(app: Flask, agent: FlaskClient) -> None:
    ref = make_sar(app, today_uk())
    anonymous = app.test_client()
    assert anonymous.get("/api/tickets").status_code == 401
    assert (
        anonymous.get("/api/tickets", headers={"Authorization": "Bearer nope"}).status_code == 401
    )
    with db(app) as session:
        token = staff.issue_token(session, "agent@example.org")
    headers = {"Authorization": f"Bearer {token}"}
    listing = anonymous.get("/api/tickets", headers=headers).get_json()
    assert [t["reference"] for t in listing["tickets"]] == [ref]
    one = anonymous.get(f"/api/tickets/{ref}", headers=headers).get_json()
    assert set(one) >= {
        "reference",
        "kind",
        "status",
        "channel",
        "created_at",
        "due_date",
        "contact",
        "summary",
        "transcript",
    }
    assert one["kind"] == "sar" and one["due_date"]
    assert anonymous.get("/api/tickets/SAR-ZZZZZZ", headers=headers).status_code == 404
    assert agent.get(f"/api/tickets/{ref}").status_code == 200  # the inbox session works too


def test_a_confirmation_waiting_for_staff_shows_on_the_ticket(
    app: Flask, agent: FlaskClient
) -> None:
    """No e-mail sender: the e-mail confirmation of an opt-out waits, and the ticket page
    shows staff where it should go, its text and why it has not gone."""
    from casework import outbox

    with db(app) as session:
        ticket = tickets.create_ticket(
            session,
            kind=TicketKind.MARKETING_OPT_OUT,
            org="barnet-homes",
            channel="web",
            conversation_id="web-confirm",
            contact="email: k.smith@example.org",
            contact_method="email",
            summary="Stop marketing: email k.smith@example.org.",
        )
        outbox.queue(
            session,
            channel=outbox.EMAIL,
            conversation_id="web-confirm",
            to="k.smith@example.org",
            body=f"We have recorded it (reference {ticket.reference}).",
            secret="s",
        )
        ref = ticket.reference
    page = agent.get(f"/inbox/tickets/{ref}").get_data(as_text=True)
    assert "Confirmations to the resident" in page
    row = page[page.index("Confirmations to the resident") :]
    assert "k.smith@example.org" in row and f"reference {ref}" in row
    assert f"pending ({outbox.NO_EMAIL_SENDER})" in row
