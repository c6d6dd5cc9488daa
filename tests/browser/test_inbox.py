"""The staff inbox in headless Chromium: keyboard login, live queue, axe check."""

from __future__ import annotations

from tests.browser.conftest import STAFF_EMAIL, STAFF_PASSWORD, Site, axe_violations, staff_login


def test_keyboard_login_and_new_handoff_appears_without_reload(
    page, context, fake_site: Site
) -> None:  # noqa: ANN001
    page.goto(fake_site.url + "/inbox/login")
    for _ in range(6):  # Tab past the skip link to the email field
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "email":
            break
    page.keyboard.type(STAFF_EMAIL)
    page.keyboard.press("Tab")
    page.keyboard.type(STAFF_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:has-text('Queue')")
    assert page.locator("tbody a").count() == 0
    # A resident asks for a person in the widget, in another tab.
    resident = context.new_page()
    resident.goto(fake_site.url + "/")
    resident.click(".pbw-launcher")
    resident.click(".pbw-person")
    resident.wait_for_function(
        "() => document.querySelector('.pbw-log').textContent.includes('Talk2Us')"
    )
    page.wait_for_selector("tbody a", timeout=8000)  # the queue polls every 4 s
    assert "New handoff" in (page.locator("#live-note").text_content() or "")
    page.click("tbody a")
    page.wait_for_selector("h1:has-text('HLP-')")
    assert "I would like to talk to a person" in (page.locator(".transcript").text_content() or "")


def test_inbox_pages_pass_axe(page, fake_site: Site) -> None:  # noqa: ANN001
    page.goto(fake_site.url + "/inbox/login")
    assert axe_violations(page) == []
    staff_login(page, fake_site.url)
    assert axe_violations(page) == []
    resident = page.context.new_page()
    resident.goto(fake_site.url + "/")
    resident.click(".pbw-launcher")
    resident.click(".pbw-person")
    resident.wait_for_function(
        "() => document.querySelector('.pbw-log').textContent.includes('Talk2Us')"
    )
    page.reload()
    page.click("tbody a")
    page.wait_for_selector("h1:has-text('HLP-')")
    assert axe_violations(page) == []


def test_dev_phone_round_trip(page, fake_site: Site) -> None:  # noqa: ANN001
    page.goto(fake_site.url + "/dev/phone")
    page.fill("#phone-body", "HELP")
    page.click("button:has-text('Send text')")
    page.wait_for_function(
        "() => document.querySelector('#phone-log').textContent.includes('Talk2Us')"
    )
    page.fill("#phone-body", "what do you keep")
    page.click("button:has-text('Send text')")
    page.wait_for_function(
        "() => document.querySelector('#phone-log').textContent.includes('You said: what do')",
        timeout=8000,
    )
    assert axe_violations(page) == []
