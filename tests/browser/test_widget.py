"""The chat widget in headless Chromium, against the web app with a fake Rasa."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from casework.db import session_scope
from casework.models import Conversation, Message
from tests.browser.conftest import Site, axe_violations, staff_login

LOG = ".pbw-log"


def open_widget(page, site: Site) -> None:  # noqa: ANN001
    page.goto(site.url + "/")
    page.click(".pbw-launcher")
    page.wait_for_selector("#pbw-input")


def send(page, text: str) -> None:  # noqa: ANN001
    page.fill("#pbw-input", text)
    page.press("#pbw-input", "Enter")


def wait_text(page, text: str, timeout: float = 5000) -> None:  # noqa: ANN001
    page.wait_for_function(
        "([sel, t]) => document.querySelector(sel).textContent.includes(t)",
        arg=[LOG, text],
        timeout=timeout,
    )


def test_full_conversation_with_quick_replies_survives_reload(page, fake_site: Site) -> None:  # noqa: ANN001
    open_widget(page, fake_site)
    send(page, "hello")
    wait_text(page, "You said: hello")
    send(page, "show options")
    page.wait_for_selector(".pbw-quick-btn")
    page.click(".pbw-quick-btn >> text=Yes")
    wait_text(page, "You chose yes.")
    assert page.locator(".pbw-quick-btn").count() == 0
    cid = page.evaluate(
        "() => JSON.parse(sessionStorage.getItem(Object.keys(sessionStorage)[0])).conversation_id"
    )
    page.reload()
    wait_text(page, "You chose yes.")  # history re-fetched, panel re-opened
    assert page.is_visible("#pbw-panel")
    texts = page.locator(".pbw-text").all_text_contents()
    assert texts.count("You said: hello") == 1  # no duplicates after reload + polling
    send(page, "again")
    wait_text(page, "You said: again")
    with session_scope(fake_site.database_url) as session:
        assert session.scalar(select(Conversation.id)) == cid


def test_message_text_is_never_rendered_as_html(page, fake_site: Site) -> None:  # noqa: ANN001
    open_widget(page, fake_site)
    payload = '<img src=x onerror="window.__pwned=1"><b>bold</b>'
    send(page, payload)
    wait_text(page, "You said: <img")
    assert page.locator(".pbw-log img").count() == 0 and page.locator(".pbw-log b").count() == 0
    assert page.evaluate("() => window.__pwned === undefined")


def test_keyboard_only(page, fake_site: Site) -> None:  # noqa: ANN001
    page.goto(fake_site.url + "/")
    launcher = page.locator(".pbw-launcher")
    for _ in range(20):  # Tab until the launcher has focus
        page.keyboard.press("Tab")
        if launcher.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("the chat launcher cannot be reached with Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "pbw-input"
    page.keyboard.type("show options")
    page.keyboard.press("Enter")
    page.wait_for_selector(".pbw-quick-btn")
    # Reach the first quick reply with Shift+Tab from the input, press it with Space.
    for _ in range(6):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("() => document.activeElement.classList.contains('pbw-quick-btn')"):
            break
    assert page.evaluate("() => document.activeElement.textContent") in ("Yes", "No")
    page.keyboard.press("Space")
    wait_text(page, "You chose")
    # Focus is visible: the focused control gets an outline.
    page.focus("#pbw-input")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Escape")
    assert not page.is_visible("#pbw-panel")
    assert page.evaluate("() => document.activeElement.classList.contains('pbw-launcher')")


def test_live_region_and_labels(page, fake_site: Site) -> None:  # noqa: ANN001
    open_widget(page, fake_site)
    log = page.locator(LOG)
    assert log.get_attribute("role") == "log" and log.get_attribute("aria-live") == "polite"
    assert page.locator("label[for=pbw-input]").text_content() == "Your message"
    note = page.locator(".pbw-note").text_content() or ""
    assert "90 days" in note and "delete" in note


def test_end_and_delete_this_chat(page, fake_site: Site) -> None:  # noqa: ANN001
    open_widget(page, fake_site)
    send(page, "my secret question")
    wait_text(page, "You said: my secret question")
    page.click(".pbw-end")
    page.click("text=Yes, delete it")
    page.wait_for_function(
        "() => document.querySelector('.pbw-alert').textContent.includes('deleted')"
    )
    assert "my secret question" not in (page.locator(LOG).text_content() or "")
    with session_scope(fake_site.database_url) as session:
        assert session.scalars(select(Message)).all() == []


def test_rasa_down_holding_reply_then_the_answer_arrives_without_a_reload(
    page, fake_site: Site
) -> None:  # noqa: ANN001, E501
    assert fake_site.rasa is not None
    open_widget(page, fake_site)
    send(page, "first")
    wait_text(page, "You said: first")
    fake_site.rasa.down = True
    started = time.monotonic()
    send(page, "second")
    wait_text(page, "I've kept your message", timeout=3000)
    assert time.monotonic() - started < 3.0
    fake_site.rasa.down = False
    # The app's own retry loop answers held messages within seconds; polling shows it.
    wait_text(page, "You said: second", timeout=8000)
    assert (page.locator(LOG).text_content() or "").count("You said: second") == 1


def test_a_busy_store_refusal_is_resent_by_the_widget_itself(page, fake_site: Site) -> None:  # noqa: ANN001
    """The web side answers 503 with retry_after when its database cannot take the
    message (nothing stored): the widget says so politely and sends it again."""
    import json

    from webhook.chat import BUSY_TEXT

    posts: list[str] = []

    def busy_once(route) -> None:  # noqa: ANN001
        posts.append(route.request.method)
        if len(posts) == 1:
            body = {"error": BUSY_TEXT, "status": 503, "retry_after": 1}
            route.fulfill(status=503, content_type="application/json", body=json.dumps(body))
        else:
            route.continue_()

    page.route("**/api/chat", busy_once)
    open_widget(page, fake_site)
    send(page, "hello")
    page.wait_for_function(
        "t => document.body.textContent.includes(t)", arg="no need to type it again"
    )
    wait_text(page, "You said: hello", timeout=8000)
    assert posts == ["POST", "POST"]
    texts = page.locator(".pbw-text").all_text_contents()
    assert texts.count("hello") == 1 and texts.count("You said: hello") == 1
    assert page.locator(".pbw-failed").count() == 0


def test_staff_reply_appears_within_two_seconds(page, context, fake_site: Site) -> None:  # noqa: ANN001
    open_widget(page, fake_site)
    send(page, "I would like to talk to a person")
    wait_text(page, "passed this to the Talk2Us team")
    staff = context.new_page()
    staff_login(staff, fake_site.url)
    staff.click("tbody a")
    staff.fill("#reply-text", "Hello from Talk2Us <b>staff</b>")
    started = time.monotonic()
    staff.click("button:has-text('Send reply to resident')")
    wait_text(page, "Hello from Talk2Us <b>staff</b>", timeout=2500)
    assert time.monotonic() - started < 2.5
    # Resolve and hand back: the bot speaks again.
    staff.fill("#outcome", "Answered")
    staff.click("button:has-text('Resolve and hand back')")
    staff.wait_for_selector("text=handed back")
    wait_text(page, "The Talk2Us team has finished here")
    send(page, "back to the bot")
    wait_text(page, "You said: back to the bot")


@pytest.mark.parametrize(
    ("width", "height", "mobile", "text_200"),
    [
        (360, 740, True, False),  # a small phone
        (640, 400, False, False),  # a 1280x800 window zoomed to 200%
        (320, 640, False, False),  # WCAG 1.4.10 reflow width
        (1024, 768, False, True),  # text-only resize to 200%
    ],
)
def test_fits_small_phones_and_200_percent(  # noqa: ANN001
    browser, fake_site: Site, width: int, height: int, mobile: bool, text_200: bool
) -> None:
    ctx = browser.new_context(
        viewport={"width": width, "height": height},
        is_mobile=mobile,
        has_touch=mobile,
        bypass_csp=True,
    )
    page = ctx.new_page()
    try:
        open_widget(page, fake_site)
        if text_200:
            page.add_style_tag(content="html { font-size: 200% !important; }")
        send(page, "hello")
        wait_text(page, "You said: hello")
        box = page.locator("#pbw-panel").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
        for control in ("#pbw-input", ".pbw-send", ".pbw-person", ".pbw-end"):
            assert page.locator(control).is_visible()
        overflow = page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow
    finally:
        ctx.close()


def test_axe_finds_no_wcag_violations(page, fake_site: Site) -> None:  # noqa: ANN001
    open_widget(page, fake_site)
    send(page, "show options")
    page.wait_for_selector(".pbw-quick-btn")
    assert axe_violations(page) == []


def test_a_new_tab_does_not_show_the_last_residents_chat(page, fake_site: Site) -> None:  # noqa: ANN001
    """A shared computer: the chat lives in its tab, not in the browser's storage."""
    open_widget(page, fake_site)
    send(page, "my name is Ann")
    wait_text(page, "You said: my name is Ann")
    other = page.context.new_page()
    open_widget(other, fake_site)
    wait_text(other, "Hello. I can answer questions")
    assert "Ann" not in other.locator(LOG).text_content()
    assert other.evaluate("() => Object.keys(localStorage).length") == 0


def test_an_idle_chat_is_cleared_from_the_page(page, fake_site: Site) -> None:  # noqa: ANN001
    open_widget(page, fake_site)
    send(page, "my name is Ann")
    wait_text(page, "You said: my name is Ann")
    # 31 minutes without activity, then the resident (or the next person) comes back.
    page.evaluate(
        """() => {
            const key = Object.keys(sessionStorage)[0];
            const saved = JSON.parse(sessionStorage.getItem(key));
            saved.at = Date.now() - 31 * 60 * 1000;
            sessionStorage.setItem(key, JSON.stringify(saved));
            document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    page.wait_for_function(
        "() => document.querySelector('.pbw-alert, [role=alert]')?.textContent.includes('cleared')"
    )
    assert "Ann" not in page.locator(LOG).text_content()
    page.reload()
    page.wait_for_selector(LOG)
    wait_text(page, "Hello. I can answer questions")
    assert "Ann" not in page.locator(LOG).text_content()
